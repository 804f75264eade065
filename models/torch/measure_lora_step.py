#!/usr/bin/python3
"""Measures whole training steps with a loss under LoRA adapters (base frozen).

The step of measure_step.py (torch.profiler allocation events, CPU, fp32, one
thread; loss logits.mean() or Hugging Face's cross-entropy; with SGD the
peaks above the parameters in the forward, the loss included, and in the
backward; with Adam the peak of the whole second step above the parameters
and Adam's state) on the models of measure_lora.py with its PEFT-style
adapters (LoraLinear: lora_A, lora_B without bias, base(x) +
B(A(dropout(x))) * alpha / r; every base parameter frozen, so only the
adapters get gradients and Adam's state). "Parameters" are the base's and
the adapters' (and the buffers); Adam updates the adapters only.

Sets:
  calibration  gpt_tiny, llama_tiny with adapters on the attention
               projections, r 8 (alpha 16), dropout 0, (b, s) (2, 16) and
               (4, 32)
  held-out     measure_lora.py's HELD_OUT configurations (exported to models/
               by measure_lora.py), the attention projections, r 16 (alpha
               32), dropout 0, (b, s) (3, 24) and (2, 40); measured after
               the calibration set had been compared, used to change nothing

Each point records the ONNX weight-name regex for vram-opt's --lora targets
(measure_lora.regexes; measure_lora.measure checks it selects exactly the
wrapped layers). Writes models/torch/measured_lora_step.json.

Usage: /usr/bin/python3 models/torch/measure_lora_step.py [--set calibration|held-out]
"""

import argparse
import json
import os
import re
import sys
from collections import OrderedDict

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import measure_lora  # noqa: E402
from measure_step import LOSSES, measure_model  # noqa: E402

# (models, target set, (r, alpha), dropout, (b, s) points) per set.
GRID = OrderedDict([
    ("calibration", (measure_lora.CALIBRATION, "attention", (8, 16), 0.0,
                     [(2, 16), (4, 32)])),
    ("held-out", (list(measure_lora.HELD_OUT), "attention", (16, 32), 0.0,
                  [(3, 24), (2, 40)])),
])


def measure(which, name, targets, r, alpha, dropout, b, s, kind, optimizer):
    model, cfg = measure_lora.build(name)
    model = model.float().train()
    module_regex, regex = measure_lora.regexes(name, targets, cfg)
    names = {id(p): n for n, p in model.named_parameters()}  # first name if tied
    torch.manual_seed(2)  # the adapters' initialisation, as measure_lora.py
    wrapped = measure_lora.add_lora(model, module_regex, r, alpha, dropout)
    weights = sorted(names[id(model.get_submodule(w).base_layer.weight)]
                     for w in wrapped)
    selected = sorted(n for n in set(names.values()) if re.fullmatch(regex, n))
    assert weights == selected, (name, targets, weights, selected)
    model.train()
    params = measure_lora.unique_params(model)
    figures = measure_model(model, b, s, kind, optimizer)
    return OrderedDict(
        model=name, set=which, targets=targets, target_modules=wrapped,
        onnx_targets_regex=regex, r=r, alpha=alpha, dropout=dropout,
        b=b, s=s, loss=kind, optimizer=optimizer, dtype="fp32",
        parameters=sum(p.numel() for p in params),
        trainable=sum(p.numel() for p in params if p.requires_grad),
        **figures)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", choices=list(GRID), action="append")
    args = ap.parse_args()
    torch.set_num_threads(1)
    sets = args.set or list(GRID)
    path = os.path.join(HERE, "measured_lora_step.json")
    results = []
    if os.path.exists(path):
        with open(path) as f:
            results = [m for m in json.load(f)["measurements"] if m["set"] not in sets]
    for which in sets:
        names, targets, (r, alpha), dropout, points = GRID[which]
        for name in names:
            for b, s in points:
                for kind in LOSSES:
                    for optimizer in ("sgd", "adam"):
                        m = measure(which, name, targets, r, alpha, dropout, b, s,
                                    kind, optimizer)
                        results.append(m)
                        print(f"{which:<11} {name:<24} b={b} s={s} {kind:<13} "
                              f"{optimizer:<4} fwd {m['forward_above_parameters']} "
                              f"bwd {m['backward_above_parameters']} step "
                              f"{m['step_above_parameters_and_state']}", flush=True)
    order = [n for names, *_ in GRID.values() for n in names]
    results.sort(key=lambda m: order.index(m["model"]))
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "device": "cpu", "threads": 1,
                   "method": "torch.profiler profile_memory=True, CPU allocator "
                             "events (models/torch/measure_step.py's step), "
                             "adapters of models/torch/measure_lora.py",
                   "measurements": results}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
