#!/usr/bin/python3
"""Compares vram-opt's predictions with models/torch/measured.json.

For every measurement (model, dtype, b, s) runs vram-opt on the exported
training-mode graphs (opset 17 and 14; the bf16 graph for bf16) with
--recipe=fp32 --format=json and prints a markdown table of
activations.bytes and parameters.count against the measured figures.

PyTorch's measured activations exclude the model inputs (input_ids saved by
Embedding); vram-opt counts saved graph inputs among activations, so the
error column compares against measured activations + inputs.

Usage: /usr/bin/python3 models/torch/compare.py [--vram-opt PATH] [--dir models/torch/out]
"""

import argparse
import json
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def predict(tool, path, b, s):
    cmd = [tool, path, "--dim", f"batch={b}", "--dim", f"seq={s}", "--recipe=fp32",
           "--format=json"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "failed"
    return json.loads(p.stdout), None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vram-opt", default=os.path.join(ROOT, "build/tools/vram-opt/vram-opt"))
    ap.add_argument("--dir", default=os.path.join(HERE, "out"))
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args()
    with open(os.path.join(HERE, "measured.json")) as f:
        meas = json.load(f)["measurements"]
    rows = []
    print("| model | dtype | graph | b | s | measured act | inputs | measured act+inputs "
          "| vram-opt act | diff | error | params measured | params vram-opt |")
    print("|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m in meas:
        for opset in (17, 14):
            suffix = "" if m["dtype"] == "fp32" else "_" + m["dtype"]
            name = f"{m['model']}_train_op{opset}{suffix}.onnx"
            path = os.path.join(args.dir, name)
            if not os.path.exists(path):
                continue
            d, err = predict(args.vram_opt, path, m["b"], m["s"])
            ref = m["activation_bytes"] + m["inputs"]["bytes"]
            if d is None:
                print(f"| {m['model']} | {m['dtype']} | op{opset} | {m['b']} | {m['s']} | "
                      f"{m['activation_bytes']} | {m['inputs']['bytes']} | {ref} | error: {err} "
                      f"| | | {m['parameters']} | |")
                continue
            pred = d["activations"]["bytes"]
            pc = d["parameters"]["count"]
            row = dict(model=m["model"], dtype=m["dtype"], opset=opset, b=m["b"], s=m["s"],
                       measured=m["activation_bytes"], inputs=m["inputs"]["bytes"],
                       predicted=pred, params_measured=m["parameters"], params_predicted=pc,
                       predicted_by_dtype=d["activations"]["by_dtype"],
                       measured_by_dtype=m["by_dtype"])
            rows.append(row)
            print(f"| {m['model']} | {m['dtype']} | op{opset} | {m['b']} | {m['s']} | "
                  f"{m['activation_bytes']} | {m['inputs']['bytes']} | {ref} | {pred} | "
                  f"{pred - ref:+d} | {100.0 * (pred - ref) / ref:+.2f}% | {m['parameters']} "
                  f"| {pc} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
