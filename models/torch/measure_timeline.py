#!/usr/bin/python3
"""Measures the real allocation timeline of one training step (no optimizer).

For each model of modules.py and the (batch, seq) points of measure.py: fp32,
CPU, training mode. The model, its parameters, buffers and inputs are built
first; then, under torch.profiler with profile_memory=True, one forward and
one backward run:

  forward   out = model(*inputs)
  backward  the gradient of every output the ONNX export has (export.py: the
            single `output`) seeded with ones of its shape, as
            torch.autograd.backward(outputs, grad_tensors=[ones_like(o)]) does.

Every allocation and free of the CPU allocator during the step is an event of
the profiler's event tree (torch 1.13: kineto_results.experimental_event_tree(),
_ExtraFields_Allocation with alloc_size < 0 for a free), ordered by time in ns
and attributed to the top-level op it happens in: in the forward a torch op
called from Python (aten::linear, ...), in the backward an autograd node
(`autograd::engine::evaluate_function: AddmmBackward0`, ...). Events between
top-level ops are Python dropping references (forward temporaries freed after
their last use). The running sum of alloc_size, plus the bytes of the model
inputs (live from the start, as vram-opt counts graph inputs), is the live
size above the parameters (parameters and buffers exist before the step and
are never freed; parameter .grad tensors are allocated in the backward and
are included). Figures, per phase:

  *_above_parameters         the maximum over every allocation event: the real
                             peak, transient buffers inside a kernel included
  *_above_parameters_op_end  the maximum of the live size when a top-level
                             op returns (its own temporaries gone, its outputs
                             allocated, nothing freed yet by the caller): the
                             granularity of vram-opt's timeline, which allocates
                             a step's outputs and frees afterwards

The seed. Called from Python, torch.autograd.backward keeps grad_tensors
referenced in its frame until the whole backward returns, so the seed (b*s*vocab
fp32 for a language model) stays live to the end. A training step seeds the
logits' gradient from the loss's backward, and the engine frees it as soon as
the output's grad_fn has consumed it, which is what vram-opt models. The
reference figures therefore seed through a one-line autograd Function whose
backward returns ones_like(output) (the engine owns the seed;
(0-element tensors link it); `*_seed_held` repeats the step with the literal
torch.autograd.backward(outputs, grad_tensors=[ones_like(o)]) for comparison.

Writes models/torch/measured_timeline.json. With --series, also
models/torch/out/timeline_<model>_<b>x<s>.txt (every top-level op with its
phase, the live size above the parameters when it returns and the maximum
inside it), for explaining a difference step by step.

Usage: /usr/bin/python3 models/torch/measure_timeline.py [--only MODEL ...] [--series]
"""

import argparse
import json
import os
import sys
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import modules  # noqa: E402
from measure import POINTS  # noqa: E402  the same (b, s) points as measured.json

HERE = os.path.dirname(os.path.abspath(__file__))


class Seed(torch.autograd.Function):
    """Seeds ones_like(output) for every output, owned by the autograd engine."""

    @staticmethod
    def forward(ctx, *outs):
        ctx.meta = [(o.shape, o.dtype) for o in outs]
        return torch.empty(0, dtype=outs[0].dtype)  # no storage: nothing to count

    @staticmethod
    def backward(ctx, g):
        return tuple(torch.ones(shape, dtype=dtype) for shape, dtype in ctx.meta)


def storage_bytes(tensors):
    seen = {}
    for t in tensors:
        s = t.storage()
        seen[s.data_ptr()] = s.nbytes()
    return sum(seen.values())


def flatten(tree):
    """(top-level op name, time ns, alloc_size, kind) for every allocation event,
    and the list of top-level ops (name, start ns, end ns)."""
    allocs, ops = [], []

    def walk(e, top):
        if type(e.extra_fields).__name__ == "_ExtraFields_Allocation":
            allocs.append((e.start_time_ns, e.extra_fields.alloc_size, top))
        for c in e.children:
            walk(c, top)

    for root in tree:
        if type(root.extra_fields).__name__ == "_ExtraFields_Allocation":
            allocs.append((root.start_time_ns, root.extra_fields.alloc_size, None))
            continue
        idx = len(ops)
        ops.append((root.name, root.start_time_ns, root.end_time_ns))
        for c in root.children:
            walk(c, idx)
    allocs.sort(key=lambda a: a[0])
    return allocs, ops


def step(model, inputs, seed_held):
    """Runs forward + backward under the profiler; returns (allocs, ops, t_backward)."""
    marks = {}
    # record_function allocates a 4-byte handle when constructed: build them outside
    rf_bwd = torch.autograd.profiler.record_function("## backward ##")
    rf_end = torch.autograd.profiler.record_function("## end ##")
    torch.manual_seed(1)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU],
                                profile_memory=True) as prof:
        out = model(*inputs)
        outs = [out]  # export.py: output_names=["output"], the model's one return value
        with rf_bwd:
            pass
        if seed_held:
            torch.autograd.backward(outs, grad_tensors=[torch.ones_like(o) for o in outs])
        else:
            x = Seed.apply(*outs)
            torch.autograd.backward([x], grad_tensors=[torch.empty_like(x)])
        del out, outs
        with rf_end:
            pass
    allocs, ops = flatten(prof.profiler.kineto_results.experimental_event_tree())
    for i, (name, start, _) in enumerate(ops):
        if name.startswith("## "):
            marks[name] = (i, start)
    return allocs, ops, marks


def timeline(model_name, b, s, seed_held=False):
    model = modules.build(model_name).float().train()
    inputs = model.example_inputs(b, s)
    param_bytes = storage_bytes(list(model.parameters()) + list(model.buffers()))
    input_bytes = storage_bytes(inputs)
    for p in model.parameters():
        p.grad = None
    step(model, inputs, seed_held)  # warm-up (lazy init of kernels, thread pools)
    for p in model.parameters():
        p.grad = None
    allocs, ops, marks = step(model, inputs, seed_held)

    t_bwd = marks["## backward ##"][1]
    t_end = marks["## end ##"][1]
    first_bwd_op = marks["## backward ##"][0]
    live = input_bytes
    # per top-level op: live when it returns and max inside it
    op_end = [None] * len(ops)
    op_max = [None] * len(ops)
    peak = {"forward": (input_bytes, None), "backward": (0, None)}
    peak_end = {"forward": (input_bytes, None), "backward": (0, None)}
    ai = 0
    allocs.append((float("inf"), 0, None))
    for i, (name, start, end) in enumerate(ops):
        while allocs[ai][0] <= end:
            t, size, top = allocs[ai]
            live += size
            phase = "forward" if t < t_bwd else "backward"
            if t < t_end and live > peak[phase][0]:
                peak[phase] = (live, top if top is not None else i)
            if top is not None:
                op_max[top] = max(op_max[top] or live, live)
            ai += 1
        op_end[i] = live
        if not name.startswith("## ") and start < t_end:
            phase = "forward" if start < t_bwd else "backward"
            if live > peak_end[phase][0]:
                peak_end[phase] = (live, i)
    while ai < len(allocs) - 1:
        live += allocs[ai][1]
        ai += 1

    def op_name(i):
        return ops[i][0] if i is not None else None

    n_fwd = sum(1 for i, o in enumerate(ops) if i < first_bwd_op and not o[0].startswith("## "))
    n_bwd = sum(1 for i, o in enumerate(ops)
                if first_bwd_op < i and o[1] < t_end and not o[0].startswith("## "))
    grads = storage_bytes([p.grad for p in model.parameters() if p.grad is not None])
    result = OrderedDict(
        model=model_name, b=b, s=s, dtype="fp32",
        parameter_bytes=param_bytes,
        input_bytes=input_bytes,
        parameter_grad_bytes=grads,
        forward_above_parameters=peak["forward"][0],
        forward_peak_op=op_name(peak["forward"][1]),
        backward_above_parameters=peak["backward"][0],
        backward_peak_op=op_name(peak["backward"][1]),
        forward_above_parameters_op_end=peak_end["forward"][0],
        forward_peak_op_end=op_name(peak_end["forward"][1]),
        backward_above_parameters_op_end=peak_end["backward"][0],
        backward_peak_op_end=op_name(peak_end["backward"][1]),
        forward_ops=n_fwd,
        backward_ops=n_bwd,
        live_after_step=live,
    )
    series = []
    for i, (name, start, end) in enumerate(ops):
        if name.startswith("## ") or start >= t_end:
            continue
        phase = "forward" if start < t_bwd else "backward"
        series.append((phase, name, op_end[i], op_max[i]))
    return result, series


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--series", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    path = os.path.join(HERE, "measured_timeline.json")
    results = []
    if args.only and os.path.exists(path):
        with open(path) as f:
            results = [r for r in json.load(f)["measurements"] if r["model"] not in args.only]
    for model_name in modules.MODELS:
        if args.only and model_name not in args.only:
            continue
        for b, s in POINTS[model_name]:
            r, series = timeline(model_name, b, s)
            held, _ = timeline(model_name, b, s, seed_held=True)
            r["backward_above_parameters_seed_held"] = held["backward_above_parameters"]
            results.append(r)
            print(f"{model_name:<11} b={b} s={s}: forward {r['forward_above_parameters']} "
                  f"({r['forward_peak_op']}), backward {r['backward_above_parameters']} "
                  f"({r['backward_peak_op']}); op-end {r['forward_above_parameters_op_end']} / "
                  f"{r['backward_above_parameters_op_end']}; seed held "
                  f"{r['backward_above_parameters_seed_held']}", flush=True)
            if args.series:
                os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
                with open(os.path.join(HERE, "out", f"timeline_{model_name}_{b}x{s}.txt"),
                          "w") as f:
                    f.write(f"# {model_name} b={b} s={s}: phase, top-level op, live bytes above "
                            f"the parameters when it returns, max inside it\n")
                    for phase, name, end, mx in series:
                        f.write(f"{phase:<8} {end:>12} {mx if mx is not None else '':>12} "
                                f"{name}\n")
    order = list(modules.MODELS)
    results.sort(key=lambda r: (order.index(r["model"]), r["b"], r["s"]))
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "device": "cpu", "threads": 1,
                   "method": "torch.profiler profile_memory=True, CPU allocator events "
                             "(models/torch/measure_timeline.py)",
                   "measurements": results}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
