#!/usr/bin/env python3
"""Runs every vram-opt command of the lit suite twice, the second time under
another locale, time zone and heap layout, and fails if any output (stdout,
stderr, exit code) differs. Usage: rerun_all.py TESTDIR SRCROOT MODELS"""
import os
import re
import subprocess
import sys

test_dir, src_root, models = sys.argv[1:4]
run_re = re.compile(r"^\s*#?\s*RUN:\s*(.*)$")
commands = []
for root, dirs, files in os.walk(test_dir):
    dirs[:] = sorted(d for d in dirs if d != "Inputs")
    for name in sorted(files):
        if not name.endswith((".onnxtxt", ".test", ".textproto")):
            continue
        path = os.path.join(root, name)
        for line in open(path, encoding="utf-8", errors="replace"):
            m = run_re.match(line)
            if not m:
                continue
            cmd = m.group(1).strip()
            # The first command of a pipeline, if it is vram-opt alone.
            first = cmd.split("|")[0].strip()
            if first.startswith("not "):
                first = first[4:]
            # Timings differ from run to run by nature.
            if (not first.startswith("vram-opt ") or "%t" in first or "<" in first
                    or "--time-passes" in first):
                continue
            first = first.replace("2>&1", "")
            first = (first.replace("%srcroot", src_root).replace("%models", models)
                     .replace("%s", path))
            commands.append(first)

def run(cmd, env):
    p = subprocess.run(cmd, shell=True, capture_output=True, env=env)
    return p.returncode, p.stdout, p.stderr

base = dict(os.environ, LC_ALL="C", TZ="UTC")
other = dict(os.environ, LC_ALL="C.UTF-8", LANG="de_DE.UTF-8", TZ="Asia/Kolkata",
             MALLOC_PERTURB_="165", MALLOC_TOP_PAD_="1048576")
bad = 0
for cmd in commands:
    first = run(cmd, base)
    if first[0] == 127:
        print("cannot run:", cmd, first[2].decode(errors="replace"))
        bad += 1
    elif first != run(cmd, other):
        print("differs:", cmd)
        bad += 1
print(f"{len(commands)} commands run twice, {bad} differ")
sys.exit(1 if bad or not commands else 0)
