#!/usr/bin/python3
"""Exports the models of modules.py to ONNX for vram-opt.

Every model is exported with dynamic `batch` and `seq` axes, in training mode
(ONNX Dropout nodes with their mask output) and in eval mode, at opsets 14
and 17, in fp32 and in bf16 (model.to(torch.bfloat16)). Weights are never
shipped: every tensor over 1 KiB is turned into an external-data reference to
`<name>.onnx.data`, a file that is not written. The graph stays valid; vram-opt
only reads dims and dtypes.

  models/torch/out/<model>_<train|eval>_op<N>[_bf16].onnx   every variant (not committed)
  models/<model>_...onnx                                   the curated set (committed)

Usage: /usr/bin/python3 models/torch/export.py [--only MODEL ...] [--no-curated]
"""

import argparse
import io
import os
import sys
import warnings

import onnx
from onnx.external_data_helper import set_external_data
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import modules  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
MODELS_DIR = os.path.dirname(HERE)
THRESHOLD = 1024

# The committed set: (model, mode, opset, dtype).
CURATED = [
    ("gpt_tiny", "train", 17, "fp32"),
    ("gpt_tiny", "train", 14, "fp32"),
    ("gpt_tiny", "eval", 17, "fp32"),
    ("gpt_tiny", "train", 17, "bf16"),
    ("bert_tiny", "train", 17, "fp32"),
    ("bert_tiny", "train", 14, "fp32"),
    ("bert_tiny", "train", 17, "bf16"),
    ("llama_tiny", "train", 17, "fp32"),
    ("llama_tiny", "train", 14, "fp32"),
    ("llama_tiny", "train", 17, "bf16"),
    ("gpt2_small", "train", 17, "fp32"),
    ("gpt2_small", "eval", 17, "fp32"),
]


def file_name(model, mode, opset, dtype):
    suffix = "" if dtype == "fp32" else "_" + dtype
    return f"{model}_{mode}_op{opset}{suffix}.onnx"


def strip(m, location):
    """Moves every tensor payload over THRESHOLD bytes to external data that is not shipped."""
    tensors = list(m.graph.initializer)
    for node in m.graph.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                tensors.append(a.t)
    offset = 0
    for t in tensors:
        if not t.HasField("raw_data") or len(t.raw_data) <= THRESHOLD:
            continue
        n = len(t.raw_data)
        set_external_data(t, location, offset=offset, length=n)
        t.ClearField("raw_data")
        offset += (n + 4095) // 4096 * 4096
    return m


def to_onnx(model, mode, opset):
    """Exports a built model (train or eval mode) as an ONNX ModelProto."""
    model.train(mode == "train")
    inputs = model.example_inputs(2, 16)
    names = model.input_names
    axes = {n: {0: "batch", 1: "seq"} for n in names}
    axes["output"] = {0: "batch", 1: "seq"}
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, inputs, buf,
            input_names=names, output_names=["output"], dynamic_axes=axes,
            opset_version=opset,
            training=(torch.onnx.TrainingMode.TRAINING if mode == "train"
                      else torch.onnx.TrainingMode.EVAL),
            do_constant_folding=False, export_params=True)
    return onnx.load_from_string(buf.getvalue())


def save_train_export(model, name, config, script):
    """Exports a built fp32 model in training mode at opset 17, weights
    stripped, to models/<name>_train_op17.onnx (the held-out configurations
    of the measure_*.py scripts; SCRIPT names the script in doc_string)."""
    m = to_onnx(model.float(), "train", 17)
    file = f"{name}_train_op17.onnx"
    m.doc_string = (f"vram-opt {script}: {name} {config} mode=train opset=17 "
                    f"dtype=fp32 torch={torch.__version__}; weights stripped "
                    f"(external data {file}.data is not shipped)")
    onnx.save_model(strip(m, file + ".data"), os.path.join(MODELS_DIR, file))


def export(model_name, mode, opset, dtype):
    model = modules.build(model_name)
    if dtype == "bf16":
        model = model.to(torch.bfloat16)
    m = to_onnx(model, mode, opset)
    name = file_name(model_name, mode, opset, dtype)
    m.doc_string = (f"vram-opt models/torch/export.py: {model_name} "
                    f"{modules.config_dict(model_name)} mode={mode} opset={opset} "
                    f"dtype={dtype} torch={torch.__version__}; weights stripped "
                    f"(external data {name}.data is not shipped)")
    return strip(m, name + ".data"), name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--no-curated", action="store_true")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    curated = set(CURATED)
    failures = []
    for model_name in modules.MODELS:
        if args.only and model_name not in args.only:
            continue
        for mode in ("train", "eval"):
            for opset in (14, 17):
                for dtype in ("fp32", "bf16"):
                    key = (model_name, mode, opset, dtype)
                    try:
                        m, name = export(*key)
                    except Exception as e:  # report and go on
                        msg = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                        failures.append((file_name(*key), msg))
                        print(f"FAILED {file_name(*key)}: {msg}", flush=True)
                        continue
                    onnx.save_model(m, os.path.join(OUT, name))
                    dest = ""
                    if key in curated and not args.no_curated:
                        onnx.save_model(m, os.path.join(MODELS_DIR, name))
                        dest = " (+ models/)"
                    size = os.path.getsize(os.path.join(OUT, name))
                    print(f"wrote {name} {size} bytes{dest}", flush=True)
    if failures:
        print(f"{len(failures)} export(s) failed", flush=True)


if __name__ == "__main__":
    main()
