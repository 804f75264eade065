#!/usr/bin/env python3
"""Checks vram-opt's training-step timeline against the allocation timeline
measured with PyTorch (models/torch/measured_timeline.json, written by
models/torch/measure_timeline.py: torch 1.13, CPU, fp32, one forward and one
backward seeded with ones of the output's shape, no optimizer).

For every measured point whose opset-17 training export is in models/, runs
  vram-opt MODEL --dim batch=B --dim seq=S --recipe=fp32 --optimizer=sgd
           --framework-overhead=0 --format=json
and compares peak.forward_above_parameters and peak.backward_above_parameters
with the measured maxima above the parameters (every allocation event of the
CPU allocator; model inputs and parameter gradients included), within
TOLERANCE.

EXPECTED_FAILURES lists the comparisons vram-opt is known to miss, each with
its cause (docs/accuracy.md, "Peak memory (timeline)"). They are printed as
XFAIL and do not fail the test; one that passes prints XPASS and fails it, so
that the list is shortened when the model is fixed. Prints one line per point
and a summary. Needs only the Python standard library.
Usage: check_timeline.py ROOT"""
import json
import os
import sys

from agreement import vram_opt

TOLERANCE = 0.05  # 5%, the target of issue 5

# (model, b, s, phase) -> why vram-opt misses it
# Empty since vram-opt models the out-of-place sum of a tied parameter's two
# gradients (the GPT models' wte); kept for the next known gap.
EXPECTED_FAILURES = {}

root = sys.argv[1]
measured = json.load(open(os.path.join(root, "models/torch/measured_timeline.json")))
points = failures = xfails = 0
worst = worst_checked = 0.0
for m in measured["measurements"]:
    path = os.path.join(root, "models", f"{m['model']}_train_op17.onnx")
    if not os.path.exists(path):
        continue
    name = f"{os.path.basename(path)} b={m['b']} s={m['s']}"
    out, why = vram_opt(path, m["b"], m["s"], ["--recipe=fp32", "--optimizer=sgd",
                                               "--framework-overhead=0"])
    if out is None:
        print(f"FAIL {name}: {why}")
        failures += 1
        continue
    peak = out["peak"]
    points += 1
    for phase in ("forward", "backward"):
        want = m[f"{phase}_above_parameters"]
        got = peak[f"{phase}_above_parameters"]
        err = (got - want) / want
        ok = abs(err) <= TOLERANCE
        worst = max(worst, abs(err))
        why = EXPECTED_FAILURES.get((m["model"], m["b"], m["s"], phase))
        if why is None:
            worst_checked = max(worst_checked, abs(err))
            tag = "ok  " if ok else "FAIL"
            failures += not ok
        elif ok:
            tag = "XPASS"
            failures += 1
        else:
            tag = "XFAIL"
            xfails += 1
        note = f" [{why}]" if why else ""
        print(f"{tag} {name} {phase}: measured {want} (at {m[f'{phase}_peak_op']}), "
              f"predicted {got} ({err:+.2%}){note}")
print(f"{points} points compared, {failures} failed, {xfails} expected failures, "
      f"worst error {worst_checked:.2%} ({worst:.2%} with expected failures)")
sys.exit(1 if failures or points == 0 else 0)
