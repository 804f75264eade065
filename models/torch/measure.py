#!/usr/bin/python3
"""Measures what PyTorch autograd keeps for backward on the models of modules.py.

For each model, dtype (fp32, bf16) and (batch, seq) point: one training-mode
forward on CPU under torch.autograd.graph.saved_tensors_hooks. Every tensor the
pack hook receives is attributed to its storage; storages are deduplicated by
data pointer and priced at the storage's full size (a view keeps its whole
base alive). Each storage falls in one category:

  parameter   the storage of a model parameter (e.g. weight.t() saved by addmm)
  buffer      the storage of a registered buffer (rotary cos/sin slices)
  input       the storage of a model input (input_ids saved by Embedding)
  scalar      a 0-dim tensor (a Python number wrapped by an op; on GPU it
              stays a CPU scalar and takes no device memory)
  activation  everything else: what training memory must hold for backward

Writes models/torch/measured.json (totals, by dtype, per layer) and
models/torch/measured_tensors_<model>.txt (every saved tensor, named by the
module that was running and the autograd node and attribute that saved it,
found by walking the output's grad_fn graph and reading its _saved_* fields).

Usage: /usr/bin/python3 models/torch/measure.py [--only MODEL ...]
"""

import argparse
import json
import os
import sys
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import modules  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

POINTS = {
    "gpt_tiny": [(2, 16), (4, 32)],
    "bert_tiny": [(2, 16), (4, 32)],
    "llama_tiny": [(2, 16), (4, 32)],
    "gpt2_small": [(1, 128), (2, 64)],
}
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
DTYPE_NAMES = {torch.float32: "f32", torch.bfloat16: "bf16", torch.float16: "f16",
               torch.float64: "f64", torch.int64: "i64", torch.int32: "i32",
               torch.bool: "bool", torch.uint8: "u8"}


def storage_key(t):
    s = t.storage()
    return s.data_ptr(), s.nbytes()


class Recorder:
    """pack/unpack hooks plus module hooks that say which module is running."""

    def __init__(self, model):
        self.saved = []          # per pack call: dict
        self.tensors = []        # keep the packed tensors (autograd would anyway)
        self.layer = "embed"
        self.stack = []
        self.walk_ctx = None
        self.handles = []
        for i, blk in enumerate(model.blocks()):
            self.handles.append(blk.register_forward_pre_hook(self._layer_pre(i)))
            self.handles.append(blk.register_forward_hook(self._layer_post()))
        for name, mod in model.named_modules():
            if name:
                self.handles.append(mod.register_forward_pre_hook(self._mod_pre(name)))
                self.handles.append(mod.register_forward_hook(self._mod_post()))

    def _layer_pre(self, i):
        def hook(mod, args):
            self.layer = f"layer{i}"
        return hook

    def _layer_post(self):
        def hook(mod, args, out):
            self.layer = "final"
        return hook

    def _mod_pre(self, name):
        def hook(mod, args):
            self.stack.append(name)
        return hook

    def _mod_post(self):
        def hook(mod, args, out):
            self.stack.pop()
        return hook

    def pack(self, t):
        idx = len(self.tensors)
        self.tensors.append(t)
        self.saved.append({
            "index": idx,
            "shape": list(t.shape),
            "dtype": DTYPE_NAMES.get(t.dtype, str(t.dtype)),
            "key": storage_key(t),
            "layer": self.layer,
            "module": self.stack[-1] if self.stack else "(top)",
            "saved_by": [],
        })
        return idx

    def unpack(self, idx):
        if self.walk_ctx is not None:
            self.saved[idx]["saved_by"].append(self.walk_ctx)
        return self.tensors[idx]

    def remove(self):
        for h in self.handles:
            h.remove()


def walk_grad_fn(rec, roots):
    """Reads every _saved_* field of every autograd node, so that unpack names each tensor."""
    seen = set()
    todo = [r for r in roots if r is not None]
    counter = 0
    while todo:
        fn = todo.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        counter += 1
        fname = type(fn).__name__
        for attr in dir(fn):
            if not attr.startswith("_saved_"):
                continue
            rec.walk_ctx = f"{fname}#{counter}.{attr[len('_saved_'):]}"
            try:
                getattr(fn, attr)
            except Exception:
                pass
        rec.walk_ctx = None
        for nxt, _ in fn.next_functions:
            if nxt is not None:
                todo.append(nxt)


def record(model, inputs):
    """One forward of model(*inputs) under saved_tensors_hooks (seed 1, for
    dropout), each saved tensor named by its autograd node; every pack call
    is given its category and either its storage's bytes (the first time the
    storage is seen) or dup_of (the entry that saw it first). Returns
    (saved entries, bytes and storages per category, activation bytes by
    dtype, activation bytes per layer)."""
    params = {storage_key(p)[0] for p in model.parameters()}
    buffers = {storage_key(x)[0] for x in model.buffers()}
    input_ptrs = {storage_key(x)[0] for x in inputs}

    rec = Recorder(model)
    torch.manual_seed(1)
    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(rec.pack, rec.unpack):
        out = model(*inputs)
    rec.remove()
    walk_grad_fn(rec, [out.grad_fn])

    cats = {c: {"bytes": 0, "storages": 0} for c in
            ("activation", "parameter", "buffer", "input", "scalar")}
    by_dtype, per_layer = {}, OrderedDict()
    first = {}
    for e in rec.saved:
        ptr, nbytes = e["key"]
        if ptr in params:
            cat = "parameter"
        elif ptr in buffers:
            cat = "buffer"
        elif ptr in input_ptrs:
            cat = "input"
        elif len(e["shape"]) == 0:
            cat = "scalar"
        else:
            cat = "activation"
        e["category"] = cat
        key = (ptr, nbytes)
        if key in first:
            e["dup_of"] = first[key]
            continue
        first[key] = e["index"]
        e["bytes"] = nbytes
        cats[cat]["bytes"] += nbytes
        cats[cat]["storages"] += 1
        if cat == "activation":
            by_dtype[e["dtype"]] = by_dtype.get(e["dtype"], 0) + nbytes
            per_layer[e["layer"]] = per_layer.get(e["layer"], 0) + nbytes
    return rec.saved, cats, by_dtype, per_layer


def measure(model_name, dtype_name, b, s):
    model = modules.build(model_name)
    model = model.to(DTYPES[dtype_name]).train()
    inputs = model.example_inputs(b, s)
    param_count = sum(p.numel() for p in model.parameters())  # tied counted once
    saved, cats, by_dtype, per_layer = record(model, inputs)

    result = OrderedDict(
        model=model_name,
        config=modules.config_dict(model_name),
        dtype=dtype_name,
        b=b, s=s,
        torch=torch.__version__,
        parameters=param_count,
        activation_bytes=cats["activation"]["bytes"],
        activation_storages=cats["activation"]["storages"],
        by_dtype=dict(sorted(by_dtype.items())),
        per_layer=dict(per_layer),
        inputs=cats["input"],
        parameters_saved=cats["parameter"],
        buffers_saved=cats["buffer"],
        scalars_saved=cats["scalar"],
        pack_calls=len(saved),
    )
    return result, saved


def listing(result, saved):
    lines = [f"## {result['model']} {result['dtype']} b={result['b']} s={result['s']}: "
             f"activations {result['activation_bytes']} bytes in "
             f"{result['activation_storages']} storages",
             f"{'#':>4} {'category':<10} {'layer':<7} {'bytes':>9} {'dtype':<5} "
             f"{'shape':<18} {'module':<28} saved by"]
    for e in saved:
        nbytes = str(e["bytes"]) if "bytes" in e else f"=#{e['dup_of']}"
        by = ",".join(e["saved_by"]) or "?"
        lines.append(f"{e['index']:>4} {e['category']:<10} {e['layer']:<7} {nbytes:>9} "
                     f"{e['dtype']:<5} {str(e['shape']):<18} {e['module']:<28} {by}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    path = os.path.join(HERE, "measured.json")
    results = []
    if args.only and os.path.exists(path):
        with open(path) as f:
            results = [r for r in json.load(f)["measurements"] if r["model"] not in args.only]
    for model_name in modules.MODELS:
        if args.only and model_name not in args.only:
            continue
        text = []
        for dtype_name in DTYPES:
            for b, s in POINTS[model_name]:
                r, saved = measure(model_name, dtype_name, b, s)
                results.append(r)
                text.append(listing(r, saved))
                print(f"{model_name:<11} {dtype_name} b={b} s={s}: activations "
                      f"{r['activation_bytes']} bytes, params {r['parameters']}", flush=True)
        with open(os.path.join(HERE, f"measured_tensors_{model_name}.txt"), "w") as f:
            f.write("\n".join(text))
    order = list(modules.MODELS)
    results.sort(key=lambda r: (order.index(r["model"]), r["dtype"] != "fp32", r["b"], r["s"]))
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "device": "cpu",
                   "dropout": "torch.native_dropout (bool mask)",
                   "measurements": results}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
