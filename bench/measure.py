#!/usr/bin/python3
"""Runs the measurements of bench/run.sh and prints the table and ratios of
issue 7. Every figure is the median of N runs (env N, default 3) of a whole
process under /usr/bin/time -v: wall time ("Elapsed (wall clock) time") and
peak RSS ("Maximum resident set size").

Usage: measure.py [--vram-opt PATH] [--floor PATH] [--out DIR] [--n N]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

PY_REF = ("import onnx,sys; m=onnx.load(sys.argv[1], load_external_data=False); "
          "onnx.shape_inference.infer_shapes(m, data_prop=True)")

# model file, --dim bindings, layers
LARGE = [
    ("llama70b_80l.onnx", ["batch=1", "seq=2048"], 80),
    ("gpt2large_f16.onnx", ["batch=8", "seq=1024"], 36),
]
DEPTHS = [10, 20, 40, 80, 160]
DEPTH_DIMS = ["batch=1", "seq=2048"]


def run_once(cmd):
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name] + cmd,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0  # /usr/bin/time's own figure has 10 ms resolution
        info = tf.read()
    if p.returncode != 0:
        sys.stderr.write(f"FAILED ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}\n")
        return None
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", info).group(1)) * 1024
    m = re.search(r"Total Execution Time: ([0-9.]+) seconds \(([0-9.]+) wall clock\)", p.stderr)
    inproc = (float(m.group(2)), float(m.group(1))) if m else None  # (wall, user+sys)
    return wall, rss, inproc, p.stdout, p.stderr


def instructions(cmd):
    """Instructions executed (valgrind callgrind 'Collected'): deterministic,
    unlike time on a shared machine. None when valgrind is missing or
    CALLGRIND=0."""
    if os.environ.get("CALLGRIND", "1") == "0" or not os.path.exists("/usr/bin/valgrind"):
        return None
    p = subprocess.run(["/usr/bin/valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    m = re.search(r"Collected : (\d+)", p.stderr)
    return int(m.group(1)) if (m and p.returncode == 0) else None


def summarize(rs):
    if not rs or any(r is None for r in rs):
        return None
    med = statistics.median
    ip = [r[2] for r in rs if r[2] is not None]
    return {"wall": med([r[0] for r in rs]), "rss": med([r[1] for r in rs]),
            "inproc": med([x[0] for x in ip]) if ip else None,
            "incpu": med([x[1] for x in ip]) if ip else None,
            "incpu_min": min(x[1] for x in ip) if ip else None,
            "walls": [r[0] for r in rs], "stdout": rs[-1][3], "stderr": rs[-1][4]}


def measure_many(cmds, n):
    """Runs the commands round-robin, n rounds, so that a burst of load on the
    shared machine hits every column alike; returns one summary per command."""
    runs = [[] for _ in cmds]
    for _ in range(n):
        for i, c in enumerate(cmds):
            if c is not None and (not runs[i] or runs[i][-1] is not None):
                runs[i].append(run_once(c))
    return [summarize(r) if c is not None else None for c, r in zip(cmds, runs)]


def measure(cmd, n):
    return measure_many([cmd], n)[0]


def fmt_t(r):
    return "FAIL" if r is None else f"{r['wall']:.3f} s"


def fmt_m(r):
    return "FAIL" if r is None else f"{r['rss'] / 2**20:.0f} MiB"


def ratio(a, b):
    return float("nan") if not a or not b else a / b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vram-opt", default=os.path.join(ROOT, "build/tools/vram-opt/vram-opt"))
    ap.add_argument("--floor", default=os.path.join(HERE, "build/parse_floor"))
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--n", type=int, default=int(os.environ.get("N", "3")))
    ap.add_argument("--skip-python", action="store_true")
    a = ap.parse_args()
    n = a.n
    vo = a.vram_opt

    print(f"# vram-opt benchmark (issue 7): median of {n} runs, whole process, /usr/bin/time -v")
    print(f"# machine: {os.cpu_count()} CPUs; {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}")
    print()
    res = {}
    for f, dims, layers in LARGE:
        path = os.path.join(a.out, f)
        dimargs = [x for d in dims for x in ("--dim", d)]
        r = {"size": os.path.getsize(path), "layers": layers, "dims": dims}
        (r["vram"], r["vram_si"], r["parse"], r["infer"], r["py"]) = measure_many([
            [vo, path] + dimargs,
            [vo, path] + dimargs + ["--passes=shape-inference", "--time-passes"],
            [a.floor, "parse", path],
            [a.floor, "infer", path],
            None if a.skip_python else ["/usr/bin/python3", "-c", PY_REF, path]], n)
        if layers == 80:
            r["ir_vram"] = instructions([vo, path] + dimargs + ["-o", "/dev/null"])
            r["ir_infer"] = instructions([a.floor, "infer", path])
            r["ir_parse"] = instructions([a.floor, "parse", path])
        r["tp"] = run_once([vo, path] + dimargs + ["--time-passes", "-o", "/dev/null"])
        res[f] = r

    hdr = f"| {'model':<20} | {'file':>9} | {'what':<40} | {'wall (median)':>13} | {'peak RSS':>9} |"
    print(hdr)
    print("|" + "|".join("-" * (len(c)) for c in hdr.split("|")[1:-1]) + "|")
    for f, r in res.items():
        rows = [
            ("vram-opt end to end (default report)", r["vram"]),
            ("vram-opt --passes=shape-inference", r["vram_si"]),
            ("protobuf parse (mmap, ModelProto)", r["parse"]),
            ("parse + onnx InferShapes (data prop)", r["infer"]),
            ("python onnx.load + infer_shapes", r["py"]),
        ]
        for i, (what, m) in enumerate(rows):
            name = f if i == 0 else ""
            size = f"{r['size'] / 2**20:.1f} MiB" if i == 0 else ""
            print(f"| {name:<20} | {size:>9} | {what:<40} | {fmt_t(m):>13} | {fmt_m(m):>9} |")
    print()

    def w(r, k):
        return r[k]["wall"] if r.get(k) else None

    def m(r, k):
        return r[k]["rss"] if r.get(k) else None

    L, G = res["llama70b_80l.onnx"], res["gpt2large_f16.onnx"]
    checks = []
    rl = ratio(w(L, "vram"), w(L, "infer"))
    checks.append(("80-layer decoder: vram-opt / (parse + InferShapes), wall", rl, "<= 2.0", rl <= 2.0))
    if L.get("ir_vram") and L.get("ir_infer"):
        ri = ratio(L["ir_vram"], L["ir_infer"])
        checks.append(("80-layer decoder: same, in instructions (callgrind, noise-free)", ri, "<= 2.0", ri <= 2.0))
        checks.append(("80-layer decoder: vram-opt / protobuf parse, instructions (info)",
                       ratio(L["ir_vram"], L["ir_parse"]), "(none)", None))
    rm = ratio(m(G, "vram"), G["size"])
    checks.append(("embedded f16: vram-opt peak RSS / file size", rm, "<= 0.25", rm <= 0.25))
    rp = ratio(w(G, "vram"), w(G, "parse"))
    checks.append(("embedded f16: vram-opt / protobuf parse, wall", rp, "< 1.0", rp < 1.0))
    if not a.skip_python:
        ry = ratio(w(G, "py"), w(G, "vram"))
        checks.append(("embedded f16: python / vram-opt, wall", ry, ">= 20", ry >= 20))
        ry2 = ratio(w(L, "py"), w(L, "vram"))
        checks.append(("80-layer decoder: python / vram-opt, wall (info)", ry2, "(none)", None))
    checks.append(("80-layer decoder: vram-opt / protobuf parse, wall (info)",
                   ratio(w(L, "vram"), w(L, "parse")), "(none)", None))
    checks.append(("80-layer decoder: vram-opt peak RSS / (parse+InferShapes) RSS (info)",
                   ratio(m(L, "vram"), m(L, "infer")), "(none)", None))

    # depth series: L = 0 (embedding and head only) is the fixed cost; the
    # time per layer is (T(L) - T(0)) / L, in-process (--time-passes Total),
    # judged on CPU time (user+sys: robust to a shared machine), wall shown too.
    nd = max(n, 7)
    print(f"## depth series (d=512, 8 heads, 2 KV heads, ffn 1408; --dim {' --dim '.join(DEPTH_DIMS)}; "
          f"median of {nd})")
    print()
    print("| layers | nodes | vram-opt e2e wall | in-process wall | in-process CPU | "
          "(CPU(L) - CPU(0)) / L | (wall(L) - wall(0)) / L | instructions | (Ir(L) - Ir(0)) / L | "
          "parse+InferShapes e2e wall |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    dimargs = [x for d in DEPTH_DIMS for x in ("--dim", d)]
    base = None
    per_cpu, per_wall, per_min, per_ir = [], [], [], []
    ir0 = None
    for Ld in [0] + DEPTHS:
        path = os.path.join(a.out, f"depth_L{Ld}.onnx")
        vr, fl = measure_many([[vo, path] + dimargs + ["--time-passes", "-o", "/dev/null"],
                               [a.floor, "infer", path]], nd)
        nodes = re.search(r"nodes=(\d+)", fl["stdout"]).group(1) if fl else "?"
        if vr is None:
            print(f"| {Ld} | {nodes} | FAIL | | | | | | | {fmt_t(fl)} |")
            continue
        ir = instructions([vo, path] + dimargs + ["-o", "/dev/null"])
        if Ld == 0:
            ir0 = ir
            pir = "-"
        elif ir and ir0:
            per_ir.append((ir - ir0) / Ld)
            pir = f"{per_ir[-1] / 1e6:.2f} M"
        else:
            pir = "?"
        irs = f"{ir / 1e6:.0f} M" if ir else "-"
        if Ld == 0:
            base = vr
            pc = pw = "-"
        else:
            c = (vr["incpu"] - base["incpu"]) / Ld
            wl = (vr["inproc"] - base["inproc"]) / Ld
            per_cpu.append(c)
            per_wall.append(wl)
            per_min.append((vr["incpu_min"] - base["incpu_min"]) / Ld)
            pc, pw = f"{c * 1e3:.3f} ms", f"{wl * 1e3:.3f} ms"
        print(f"| {Ld} | {nodes} | {fmt_t(vr)} | {vr['inproc'] * 1e3:.1f} ms | {vr['incpu'] * 1e3:.1f} ms | "
              f"{pc} | {pw} | {irs} | {pir} | {fmt_t(fl)} |")
    print()
    if per_cpu and min(per_cpu) > 0:
        sp = max(per_cpu) / min(per_cpu)
        checks.append(("depth series: CPU time per layer (medians), max/min over 10..160", sp, "<= 1.2", sp <= 1.2))
    if per_min and min(per_min) > 0:
        sm = max(per_min) / min(per_min)
        checks.append(("depth series: CPU time per layer (fastest runs), max/min (info)", sm, "(none)", None))
    if per_ir and min(per_ir) > 0:
        si = max(per_ir) / min(per_ir)
        checks.append(("depth series: instructions per layer, max/min over 10..160 (noise-free)", si, "<= 1.2", si <= 1.2))
    if per_wall and min(per_wall) > 0:
        sw = max(per_wall) / min(per_wall)
        checks.append(("depth series: wall time per layer, max/min over 10..160 (info)", sw, "(none)", None))

    print("## ratios")
    print()
    print("| ratio | measured | target | met |")
    print("|---|---|---|---|")
    for what, v, tgt, ok in checks:
        print(f"| {what} | {v:.3f} | {tgt} | {'-' if ok is None else ('yes' if ok else 'NO')} |")
    print()
    for f, r in res.items():
        if r["tp"]:
            print(f"## vram-opt --time-passes, {f} (--dim {' --dim '.join(r['dims'])})")
            print()
            print("```")
            print("\n".join(line for line in r["tp"][4].splitlines() if line.strip() and not line.startswith("===")))
            print("```")
            print()
    print("walls (s), for noise: " + "; ".join(
        f"{f}:{k}={','.join(f'{x:.3f}' for x in r[k]['walls'])}"
        for f, r in res.items() for k in ("vram", "parse", "infer", "py") if r.get(k)))


if __name__ == "__main__":
    main()
