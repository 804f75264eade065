#!/usr/bin/env python3
"""Checks vram-opt's peak of a training step with a loss against PyTorch
(models/torch/measured_step.json, written by models/torch/measure_step.py:
torch 1.13, CPU, fp32, loss logits.mean() or Hugging Face's cross-entropy,
SGD and Adam).

For every measured point whose opset-17 training export is in models/, runs
  vram-opt MODEL --dim batch=B --dim seq=S --recipe=torch-fp32
           --optimizer=OPT --loss=LOSS --framework-overhead=0 --format=json
and compares, within TOLERANCE:
  SGD:  peak.forward_above_parameters and peak.backward_above_parameters
        with the measured maxima above the parameters;
  Adam: the whole step's peak above the parameters and Adam's state
        (peak.bytes - totals.parameters - totals.optimizer_state) with the
        measured maximum of forward, backward and optimizer.step().
Points are reported by set: calibration (models the rules were checked on
before) and held-out (other widths, vocabularies, an untied head; no rule
was written or tuned on them). Prints one line per comparison and a
summary per set. Needs only the Python standard library.
Usage: check_step.py ROOT"""
import json
import os
import sys

from agreement import Tally, vram_opt

TOLERANCE = 0.05  # 5%, the target of the loss/peak issue

root = sys.argv[1]
measured = json.load(open(os.path.join(root, "models/torch/measured_step.json")))
tally = Tally()
for m in measured["measurements"]:
    path = os.path.join(root, "models", f"{m['model']}_train_op17.onnx")
    if not os.path.exists(path):
        continue
    name = (f"{m['set']} {m['model']} b={m['b']} s={m['s']} {m['loss']} "
            f"{m['optimizer']}")
    out, why = vram_opt(path, m["b"], m["s"],
                        ["--recipe=torch-fp32", f"--optimizer={m['optimizer']}",
                         f"--loss={m['loss']}", "--framework-overhead=0"])
    if out is None:
        tally.error(name, why)
        continue
    peak, totals = out["peak"], out["totals"]
    if m["optimizer"] == "sgd":
        pairs = [(ph, m[f"{ph}_above_parameters"], peak[f"{ph}_above_parameters"])
                 for ph in ("forward", "backward")]
    else:
        got = peak["bytes"] - totals["parameters"] - totals["optimizer_state"]
        pairs = [("step", m["step_above_parameters_and_state"], got)]
    for what, want, got in pairs:
        tally.compare(m["set"], f"{name} {what}", want, got, TOLERANCE)
tally.summary("comparisons")
sys.exit(tally.exit_code())
