#!/usr/bin/env python3
"""Checks vram-opt's autocast pricing against PyTorch (models/torch/
measured_autocast.json, written by models/torch/measure_autocast.py: torch
1.13, CPU, torch.autocast bf16 over fp32 models, saved_tensors_hooks).

For every measured point whose fp32 opset-17 training export is in models/,
runs
  vram-opt MODEL --dim batch=B --dim seq=S --recipe=torch-amp
           --autocast-device=cpu --autocast-dtype=bf16 --format=json
and compares activations.bytes with the measured saved activations plus the
saved model inputs (autocast's cached weight copies are the recipe's weight
copies term, not activations), within TOLERANCE. Prints one line per point
and a summary per set (calibration, held-out). Standard library only.
Usage: check_autocast.py ROOT"""
import json
import os
import sys

from agreement import Tally, vram_opt

TOLERANCE = 0.02  # 2%, the target of the precision issue

# What each model's code does with its buffers under autocast, read from
# models/torch/modules.py (an fp32 export cannot show it): the GPT and BERT
# modules cast the causal mask to the attention scores' dtype next to the
# add (the default, --autocast-buffers=follow); the LLaMA module casts its
# rotary tables and mask to the dtype of x, the f32 residual stream
# (--autocast-buffers=f32).
BUFFERS = {"llama": "f32"}

root = sys.argv[1]
measured = json.load(open(os.path.join(root, "models/torch/measured_autocast.json")))
tally = Tally()
for m in measured["measurements"]:
    path = os.path.join(root, "models", f"{m['model']}_train_op17.onnx")
    if not os.path.exists(path):
        continue
    name = f"{m['set']} {m['model']} b={m['b']} s={m['s']}"
    out, why = vram_opt(path, m["b"], m["s"],
                        ["--recipe=torch-amp", "--autocast-device=cpu",
                         "--autocast-dtype=bf16", "--autocast-buffers=" +
                         BUFFERS.get(m["model"].split("_")[0], "follow")])
    if out is None:
        tally.error(name, why)
        continue
    want = m["activation_bytes"] + m["saved_input_bytes"]
    tally.compare(m["set"], name, want, out["activations"]["bytes"], TOLERANCE)
tally.summary("points")
sys.exit(tally.exit_code())
