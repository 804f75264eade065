#!/usr/bin/python3
"""--fit against one plain analysis of the same file (issue 14: within 3x on
an 80-layer decoder), side by side in one run: for each configuration, the
median wall time of N whole processes (env N, default 5) of `vram-opt
MODEL --dim seq=4096 --dim batch=ANSWER OPTS` (plain) and of `vram-opt
MODEL --dim seq=4096 --fit batch OPTS`, their ratio, and the number of
model builds each made (from --time-passes). With --baseline PATH, the same
--fit with another vram-opt (e.g. the search before the quadratic model).

Usage: bench/fit_ratio.py [--vram-opt PATH] [--baseline PATH] [--model M]
Needs bench/out/llama70b_80l.onnx (bench/gen_large.py --only llama70b).
"""
import argparse
import os
import re
import statistics
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CONFIGS = [
    # 70B on 64 GPUs: TP 8 x DP 8, ZeRO-3, full checkpointing, H100 80GB
    ("A", ["--gpu=H100-80GB", "--tp=8", "--dp=8", "--zero=3",
           "--checkpoint=full"]),
    ("B", ["--gpu=H100-80GB", "--tp=8", "--dp=8", "--zero=3",
           "--checkpoint=full", "--attention=flash"]),
    # 4 pipeline stages of 20 layers, TP 8, selective checkpointing, H200
    ("C", ["--gpu=H200", "--tp=8", "--pp=4", "--dp=4", "--zero=1",
           "--checkpoint=selective"]),
    # one device, no parallelism
    ("D", ["--gpu=2048GiB"]),
]


def run(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, check=True)
    return time.perf_counter() - t0, p.stdout, p.stderr


def builds(stderr):
    return len(re.findall(r"build IR, bind dims", stderr))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vram-opt",
                    default=os.path.join(ROOT, "build/tools/vram-opt/vram-opt"))
    ap.add_argument("--baseline")
    ap.add_argument("--model", default=os.path.join(HERE, "out/llama70b_80l.onnx"))
    ap.add_argument("--n", type=int, default=int(os.environ.get("N", "5")))
    a = ap.parse_args()
    tools = [("fit", a.vram_opt)] + ([("baseline", a.baseline)] if a.baseline else [])
    print("model %s, seq 4096, median of %d runs each" % (os.path.basename(a.model), a.n))
    for key, opts in CONFIGS:
        print("  %s: %s" % (key, " ".join(opts)))
    print("%-14s %6s %9s %9s %6s %7s" % ("config", "answer", "plain s", "fit s", "ratio", "builds"))
    for key, opts in CONFIGS:
        fit_cmd = [a.vram_opt, a.model, "--dim", "seq=4096", "--fit", "batch"] + opts
        _, out, _ = run(fit_cmd)
        answer = int(re.search(r"largest batch that fits: (\d+)", out).group(1))
        plain_cmd = [a.vram_opt, a.model, "--dim", "seq=4096", "--dim",
                     "batch=%d" % max(answer, 1)] + opts
        for name, tool in tools:
            cmd = [tool] + fit_cmd[1:]
            plain, fit = [], []
            try:
                _, out, err = run(cmd + ["--time-passes"])
            except (OSError, subprocess.CalledProcessError):
                print("%-14s %s" % (key + " " + name, "n/a (options unsupported)"))
                continue
            try:
                for _ in range(a.n):  # alternate: the same load on both
                    plain.append(run(plain_cmd)[0])
                    fit.append(run(cmd)[0])
            except (OSError, subprocess.CalledProcessError) as e:
                print("%-14s %s" % (key + " " + name, "n/a (%s)" % e))
                continue
            got = int(re.search(r"largest batch that fits: (\d+)", out).group(1))
            mp, mf = statistics.median(plain), statistics.median(fit)
            print("%-14s %6d %9.3f %9.3f %5.2fx %7d" % (key + " " + name, got, mp, mf, mf / mp, builds(err)))


if __name__ == "__main__":
    main()
