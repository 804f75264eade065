#!/usr/bin/python3
"""GQA key/value repetition with torch.repeat_interleave (issue: "the GQA LLaMA
whose keys/values are repeated with repeat_interleave"), on llama_tiny of
modules.py (4 heads, 2 KV heads).

Exports it twice in training mode at opset 17, weights stripped:
  models/llama_tiny_repeat_interleave_train_op17.onnx   dynamic batch and seq:
      torch 1.13 writes repeat_interleave as SplitToSequence, a Loop that
      inserts each repeated head into a sequence, and ConcatFromSequence
  models/llama_tiny_repeat_interleave_static_op17.onnx  b=2, s=16 fixed:
      Split, Expand and Reshape, no sequence
and prints PyTorch's saved activation bytes (measure.record: storages
deduplicated, the saved model input included) at (2, 16) and (4, 32).

Usage: /usr/bin/python3 models/torch/measure_repeat_interleave.py
"""

import io
import os
import sys
import warnings

import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export  # noqa: E402
import measure  # noqa: E402
import modules  # noqa: E402

modules.repeat_kv = (lambda x, n: x if n == 1
                     else torch.repeat_interleave(x, n, dim=1))


def save(name, dynamic):
    model = modules.build("llama_tiny").float().train()
    if dynamic:
        m = export.to_onnx(model, "train", 17)
    else:
        buf = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, model.example_inputs(2, 16), buf,
                              input_names=model.input_names,
                              output_names=["output"], opset_version=17,
                              training=torch.onnx.TrainingMode.TRAINING,
                              do_constant_folding=False)
        m = onnx.load_from_string(buf.getvalue())
    m.doc_string = (f"vram-opt models/torch/measure_repeat_interleave.py: "
                    f"llama_tiny with torch.repeat_interleave, dynamic="
                    f"{dynamic}, torch={torch.__version__}; weights stripped")
    onnx.save_model(export.strip(m, name + ".data"),
                    os.path.join(export.MODELS_DIR, name))


def main():
    save("llama_tiny_repeat_interleave_train_op17.onnx", True)
    save("llama_tiny_repeat_interleave_static_op17.onnx", False)
    for b, s in [(2, 16), (4, 32)]:
        model = modules.build("llama_tiny").float().train()
        _, cats, _, _ = measure.record(model, model.example_inputs(b, s))
        print(f"b={b} s={s}: saved activations "
              f"{cats['activation']['bytes'] + cats['input']['bytes']} bytes")


if __name__ == "__main__":
    main()
