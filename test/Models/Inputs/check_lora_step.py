#!/usr/bin/env python3
"""Checks vram-opt's peak of a training step with a loss under LoRA
adapters against PyTorch (models/torch/measured_lora_step.json, written by
models/torch/measure_lora_step.py: torch 1.13, CPU, fp32, the PEFT-style
adapters of measure_lora.py on a frozen base, loss logits.mean() or Hugging
Face's cross-entropy, SGD and Adam; the step of measure_step.py).

For every measured point whose fp32 opset-17 training export (of the base
model, without adapters) is in models/, runs
  vram-opt MODEL --dim batch=B --dim seq=S --recipe=torch-fp32
           --optimizer=OPT --loss=LOSS --lora r=R,alpha=A,dropout=P,targets=REGEX
           --framework-overhead=0 --format=json
and compares, as check_step.py does, within TOLERANCE:
  SGD:  peak.forward_above_parameters and peak.backward_above_parameters
        with the measured maxima above the parameters;
  Adam: the whole step's peak above the parameters and Adam's state
        (peak.bytes - totals.parameters - totals.optimizer_state) with the
        measured maximum of forward, backward and optimizer.step();
and, exactly, what those are above: totals.parameters (base, adapters and
buffers) and totals.optimizer_state (Adam's, of the adapters only) with the
measured bytes, parameters.count and parameters.trainable with the counts.
Prints one line per comparison, the worst error of each set (calibration,
held-out) with its comparison, and a summary. Standard library only.
Usage: check_lora_step.py ROOT"""
import json
import os
import sys

from agreement import Tally, vram_opt

TOLERANCE = 0.05  # 5%, the step suite's (check_step.py)

root = sys.argv[1]
measured = json.load(open(os.path.join(root, "models/torch/measured_lora_step.json")))
tally = Tally()
for m in measured["measurements"]:
    path = os.path.join(root, "models", f"{m['model']}_train_op17.onnx")
    if not os.path.exists(path):
        continue
    name = (f"{m['set']} {m['model']} {m['targets']} r={m['r']} b={m['b']} "
            f"s={m['s']} {m['loss']} {m['optimizer']}")
    lora = (f"r={m['r']},alpha={m['alpha']:g},dropout={m['dropout']:g},"
            f"targets={m['onnx_targets_regex']}")
    out, why = vram_opt(path, m["b"], m["s"],
                        ["--recipe=torch-fp32", f"--optimizer={m['optimizer']}",
                         f"--loss={m['loss']}", "--lora", lora,
                         "--framework-overhead=0"])
    if out is None:
        tally.error(name, why)
        continue
    peak, totals, params = out["peak"], out["totals"], out["parameters"]
    exact = [("parameter bytes", m["parameter_bytes"], totals["parameters"]),
             ("optimizer state bytes", m["optimizer_state_bytes"],
              totals["optimizer_state"]),
             ("parameters", m["parameters"], params["count"]),
             ("trainable", m["trainable"], params["trainable"])]
    for what, want, got in exact:
        if want != got:
            tally.error(name, f"{what}: measured {want}, vram-opt {got}")
    if m["optimizer"] == "sgd":
        pairs = [(ph, m[f"{ph}_above_parameters"], peak[f"{ph}_above_parameters"])
                 for ph in ("forward", "backward")]
    else:
        got = peak["bytes"] - totals["parameters"] - totals["optimizer_state"]
        pairs = [("step", m["step_above_parameters_and_state"], got)]
    for what, want, got in pairs:
        tally.compare(m["set"], f"{name} {what}", want, got, TOLERANCE)
tally.summary("comparisons", show_worst=True)
n = sum(st[0] for st in tally.sets.values())
worst = max((st[2] for st in tally.sets.values()), default=0.0)
print(f"{n} comparisons, {tally.failures} failed, worst error {worst:.2%}")
sys.exit(tally.exit_code())
