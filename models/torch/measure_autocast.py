#!/usr/bin/python3
"""Measures what autograd keeps under torch.autocast (CPU, bf16).

For each fp32 model (the calibration models of modules.py and the held-out
configurations of measure_step.py) and (batch, seq) point: one training-mode
forward under torch.autocast("cpu", dtype=torch.bfloat16) and
saved_tensors_hooks, storages deduplicated (measure.py's method). A saved
tensor whose autograd history is a cast of a parameter (ToCopyBackward0
into the parameter's AccumulateGrad, through views) is autocast's cached
copy of that weight, counted apart as weight_copy_bytes (vram-opt
prices those copies as the recipe term "autocast weight copies", on the
parameter side); activation_bytes is the rest, what vram-opt's saved
activations are compared with.

Writes models/torch/measured_autocast.json.
Usage: /usr/bin/python3 models/torch/measure_autocast.py
"""

import json
import os
import sys
from collections import OrderedDict

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import measure  # noqa: E402
import measure_step  # noqa: E402

MODELS = OrderedDict([
    ("gpt_tiny", "calibration"), ("bert_tiny", "calibration"),
    ("llama_tiny", "calibration"),
    ("gpt_w96_v512_untied", "held-out"), ("llama_w96_v768", "held-out"),
    ("gpt_w160_v2048_l3", "held-out"), ("llama_w128_v1536_kv4", "held-out"),
])
POINTS = [(2, 16), (4, 32)]


def is_weight_copy(t):
    """t is a (view of a) cast of a parameter: autocast's weight cache."""
    fn = t.grad_fn
    for _ in range(4):
        if fn is None:
            return False
        if type(fn).__name__ == "ToCopyBackward0":
            nxt = [f for f, _ in fn.next_functions if f is not None]
            return bool(nxt) and type(nxt[0]).__name__ == "AccumulateGrad"
        nxt = [f for f, _ in fn.next_functions if f is not None]
        if len(nxt) != 1:
            return False
        fn = nxt[0]
    return False


def measure_one(name, b, s):
    model = measure_step.build(name).float().train()
    inputs = model.example_inputs(b, s)
    params = {measure.storage_key(p)[0] for p in model.parameters()}
    buffers = {measure.storage_key(x)[0] for x in model.buffers()}
    input_ptrs = {measure.storage_key(x)[0] for x in inputs}
    rec = measure.Recorder(model)
    copy_ptrs = set()
    pack = rec.pack

    def pack_and_classify(t):
        if is_weight_copy(t):
            copy_ptrs.add(measure.storage_key(t)[0])
        return pack(t)
    torch.manual_seed(1)
    with torch.enable_grad(), \
            torch.autocast("cpu", dtype=torch.bfloat16), \
            torch.autograd.graph.saved_tensors_hooks(pack_and_classify, rec.unpack):
        out = model(*inputs)
    rec.remove()
    seen = set()
    act = copies = saved_inputs = 0
    by_dtype = {}
    for e in rec.saved:
        ptr, nbytes = e["key"]
        if (ptr, nbytes) in seen or ptr in params or ptr in buffers \
                or len(e["shape"]) == 0:
            continue
        seen.add((ptr, nbytes))
        if ptr in input_ptrs:  # the token ids Embedding keeps
            saved_inputs += nbytes
            continue
        if ptr in copy_ptrs:
            copies += nbytes
            continue
        act += nbytes
        by_dtype[e["dtype"]] = by_dtype.get(e["dtype"], 0) + nbytes
    del out
    return OrderedDict(model=name, set=MODELS[name], b=b, s=s,
                       autocast="cpu bf16", activation_bytes=act,
                       by_dtype=dict(sorted(by_dtype.items())),
                       weight_copy_bytes=copies, saved_input_bytes=saved_inputs)


def main():
    torch.set_num_threads(1)
    results = []
    for name in MODELS:
        for b, s in POINTS:
            r = measure_one(name, b, s)
            results.append(r)
            print(f"{r['set']:<11} {name:<20} b={b} s={s}: activations "
                  f"{r['activation_bytes']} {r['by_dtype']}, weight copies "
                  f"{r['weight_copy_bytes']}", flush=True)
    with open(os.path.join(HERE, "measured_autocast.json"), "w") as f:
        json.dump({"torch": torch.__version__, "device": "cpu",
                   "autocast": "torch.autocast('cpu', dtype=torch.bfloat16)",
                   "measurements": results}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
