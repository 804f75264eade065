#!/usr/bin/env python3
"""Checks vram-opt against the saved-tensor figures measured with PyTorch
autograd (models/torch/measured.json, written by models/torch/measure.py).

For every measurement whose training-mode export is in models/ (opset 14 and
17; bf16 exports for the bf16 points), runs vram-opt --recipe=fp32 (a graph
is priced in its own dtypes) and compares:
  - activations.bytes with PyTorch's saved activations plus the saved model
    inputs (vram-opt counts the saved input_ids among activations), within
    TOLERANCE;
  - parameters.count with PyTorch's parameter count, exactly.
Needs only the Python standard library. Usage: check_agreement.py ROOT"""
import json
import os
import sys

from agreement import vram_opt

TOLERANCE = 0.01  # 1%, the project's target (see docs/accuracy.md)

root = sys.argv[1]
measured = json.load(open(os.path.join(root, "models/torch/measured.json")))
points = failures = 0
worst = 0.0
for m in measured["measurements"]:
    suffix = "_bf16" if m["dtype"] == "bf16" else ""
    for opset in (14, 17):
        path = os.path.join(root, "models", f"{m['model']}_train_op{opset}{suffix}.onnx")
        if not os.path.exists(path):
            continue
        name = f"{os.path.basename(path)} b={m['b']} s={m['s']}"
        report, why = vram_opt(path, m["b"], m["s"], ["--recipe=fp32"])
        if report is None:
            print(f"FAIL {name}: {why}")
            failures += 1
            continue
        want = m["activation_bytes"] + m["inputs"]["bytes"]
        got = report["activations"]["bytes"]
        err = (got - want) / want
        worst = max(worst, abs(err))
        points += 1
        ok = abs(err) <= TOLERANCE and report["parameters"]["count"] == m["parameters"]
        if not ok:
            failures += 1
        print(f"{'ok  ' if ok else 'FAIL'} {name}: measured {want}, predicted {got} "
              f"({err:+.2%}); parameters {m['parameters']} vs {report['parameters']['count']}")
print(f"{points} points compared, {failures} failed, worst error {worst:.2%}")
sys.exit(1 if failures or points == 0 else 0)
