#!/usr/bin/env python3
"""Checks vram-opt's LoRA pricing (--lora) against PyTorch (models/torch/
measured_lora.json, written by models/torch/measure_lora.py: torch 1.13,
CPU, fp32, PEFT-equivalent adapters on a frozen base, saved_tensors_hooks).

For every measured point whose fp32 opset-17 training export (of the base
model, without adapters) is in models/, runs
  vram-opt MODEL --dim batch=B --dim seq=S --recipe torch-fp32
           --lora r=R,alpha=A,dropout=P,targets=REGEX --format=json
(REGEX: the point's onnx_targets_regex, the wrapped modules' weight names)
and compares
  - totals.activations with the measured saved activations plus the saved
    model inputs (vram-opt counts saved graph inputs among activations),
    within TOLERANCE;
  - parameters.count and parameters.trainable with the measured counts
    (all parameters, tied once; the adapters), exactly.
Prints one line per point, the worst error of each set (calibration,
held-out) with its point, and a summary. Standard library only.
Usage: check_lora.py ROOT"""
import json
import os
import sys

from agreement import Tally, relative, vram_opt

TOLERANCE = 0.01  # 1%, the project's bar (docs/accuracy.md)

root = sys.argv[1]
measured = json.load(open(os.path.join(root, "models/torch/measured_lora.json")))
tally = Tally()
for m in measured["measurements"]:
    path = os.path.join(root, "models", f"{m['model']}_train_op17.onnx")
    if not os.path.exists(path):
        continue
    name = (f"{m['set']} {m['model']} {m['targets']} r={m['r']} "
            f"dropout={m['dropout']:g} b={m['b']} s={m['s']}")
    lora = (f"r={m['r']},alpha={m['alpha']:g},dropout={m['dropout']:g},"
            f"targets={m['onnx_targets_regex']}")
    out, why = vram_opt(path, m["b"], m["s"], ["--recipe", "torch-fp32", "--lora", lora])
    if out is None:
        tally.error(name, why)
        continue
    want = m["activation_bytes"] + m["inputs"]["bytes"]
    got = out["totals"]["activations"]
    err = relative(want, got)
    params = (out["parameters"]["count"], out["parameters"]["trainable"])
    ok = abs(err) <= TOLERANCE and params == (m["parameters"], m["trainable"])
    tally.add(m["set"], err, ok, name)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: measured {want}, predicted {got} "
          f"({err:+.2%}); parameters {m['parameters']}/{m['trainable']} trainable "
          f"vs {params[0]}/{params[1]}")
tally.summary("points", show_worst=True)
n = sum(st[0] for st in tally.sets.values())
worst = max((st[2] for st in tally.sets.values()), default=0.0)
print(f"{n} points compared, {tally.failures} failed, worst error {worst:.2%}")
sys.exit(tally.exit_code())
