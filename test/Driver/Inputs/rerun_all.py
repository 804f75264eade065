#!/usr/bin/env python3
"""Runs every vram-opt command of the lit suite twice, the second time under
another locale, time zone and heap layout, and fails if

  - any output (stdout, stderr, exit status) differs between the two runs;
  - a command's exit status is not what its RUN line says: exit 1 for a
    command prefixed by `not`, exit 0 for one without; any other exit code
    or a signal is always a failure, even when both runs agree on it.

RUN lines are read as lit reads them: a line ending in a backslash continues
on the next RUN line; %srcroot, %models, %s, %S, %p, %t and %T are
substituted; each file's other RUN commands (split-file, sed, printf, ...)
run once, in order, so that commands reading %t files see them; commands
that only check (FileCheck, count, not test, ...) are left out. A vram-opt
command is the first stage of a pipeline, alone or after `not`. A file whose
REQUIRES names a feature that is missing (shared-models, when MODELS is not
a folder) is not run and is counted as skipped.

Usage: rerun_all.py [--prepend-path DIR] TESTDIR SRCROOT MODELS
(--prepend-path puts DIR first on PATH: the script's own test uses it to run
a stand-in vram-opt.)"""
import concurrent.futures
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

args = sys.argv[1:]
if args[:1] == ["--prepend-path"]:
    os.environ["PATH"] = args[1] + os.pathsep + os.environ.get("PATH", "")
    args = args[2:]
test_dir, src_root, models = args[:3]
features = {"shared-models"} if os.path.isdir(models) else set()

directive_re = re.compile(r"(RUN|REQUIRES):(.*)$")
not_re = re.compile(r"((?:not\s+)*)(.*)$", re.S)
# Checks read what earlier commands wrote; they need not be replayed.
CHECKERS = ("FileCheck", "count", "not", "test", "diff", "cmp", "grep", "true",
            "false")


def split_top(cmd, seps):
    """Splits cmd at the separators in seps outside quotes and backslash
    escapes (the first separator listed that matches at a point wins)."""
    pieces, cur, i, quote = [], "", 0, None
    while i < len(cmd):
        c = cmd[i]
        if quote:
            cur += c
            if c == "\\" and quote == '"' and i + 1 < len(cmd):
                cur += cmd[i + 1]
                i += 1
            elif c == quote:
                quote = None
            i += 1
            continue
        if c in "'\"":
            quote = c
        elif c == "\\" and i + 1 < len(cmd):
            cur += cmd[i:i + 2]
            i += 2
            continue
        else:
            sep = next((s for s in seps if cmd.startswith(s, i)), None)
            if sep:
                pieces.append(cur)
                cur = ""
                i += len(sep)
                continue
        cur += c
        i += 1
    pieces.append(cur)
    return pieces


def pipelines(cmd):
    """The pipelines of a command line: [[stage, ...], ...]. Lists are split
    first, so that no '||' is left for the split into stages."""
    return [[s.strip() for s in split_top(p, ("|",))]
            for p in split_top(cmd, ("&&", "||", ";"))]


def substitute(text, path, tmp):
    # lit applies the configuration's substitutions (%srcroot, %models)
    # before its own (%s would otherwise eat the start of %srcroot).
    for key, value in (("%srcroot", src_root), ("%models", models),
                       ("%s", path), ("%S", os.path.dirname(path)),
                       ("%p", os.path.dirname(path)),
                       ("%t", tmp + "/" + os.path.basename(path) + ".tmp"),
                       ("%T", tmp)):
        text = text.replace(key, value)
    return text


def read_test(path):
    """RUN commands (continuations joined) and REQUIRES features of a file."""
    runs, requires, pending = [], [], None
    for n, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
        m = directive_re.search(line)
        if not m:
            continue
        text = m.group(2).strip()
        if m.group(1) == "REQUIRES":
            requires += [f.strip() for f in text.split(",") if f.strip()]
            continue
        if pending is None:
            pending = (n, "")
        pending = (pending[0], pending[1] + text)
        if pending[1].endswith("\\"):
            pending = (pending[0], pending[1][:-1] + " ")
            continue
        runs.append(pending)
        pending = None
    if pending is not None:
        runs.append(pending)
    return runs, requires


def describe(status):
    if status < 0:
        try:
            return f"signal {-status} ({signal.Signals(-status).name})"
        except ValueError:
            return f"signal {-status}"
    return f"exit {status}"


def run(cmd, env, stage=True):
    # exec for a vram-opt stage: a signal that ends it shows as a negative
    # status rather than the shell's 128 + N. (Not for setup commands, which
    # may be lists: exec would end the list at its first command.)
    p = subprocess.run(["/bin/sh", "-c", ("exec " if stage else "") + cmd],
                       capture_output=True, env=env)
    return p.returncode, p.stdout, p.stderr


base = dict(os.environ, LC_ALL="C", TZ="UTC")
other = dict(os.environ, LC_ALL="C.UTF-8", LANG="de_DE.UTF-8", TZ="Asia/Kolkata",
             MALLOC_PERTURB_="165", MALLOC_TOP_PAD_="1048576")
def check_file(index, path, tmp_root):
    """Runs one file's commands; returns its report lines and counts
    (commands, differ, bad_status, setup_failed, skipped)."""
    out, counts = [], [0, 0, 0, 0, 0]
    where = os.path.relpath(path, test_dir)
    runs, requires = read_test(path)
    missing = [f for f in requires if f not in features]
    if missing:
        out.append(f"skipped: {where}: requires {', '.join(missing)}")
        counts[4] += 1
        return out, counts
    tmp = os.path.join(tmp_root, str(index))
    os.makedirs(tmp)
    for line, raw in runs:
        cmd = substitute(raw, path, tmp)
        stages = []
        for pipe in pipelines(cmd):
            m = not_re.match(pipe[0])
            if m.group(2).split()[:1] == ["vram-opt"]:
                stages.append((m.group(1).count("not"), m.group(2)))
        if not stages:
            # Setup (split-file, sed, printf, ...) runs once, in order;
            # checks are left out.
            first = cmd.split()[0] if cmd.split() else ""
            if first in CHECKERS or "FileCheck" in cmd:
                continue
            status = run(cmd, base, stage=False)[0]
            if status != 0:
                counts[3] += 1
                out.append(f"setup failed: {where}:{line}: {cmd}: {describe(status)}")
            continue
        for nots, stage in stages:
            # Both streams are captured apart.
            stage = re.sub(r"\s*2>&1", "", stage).strip()
            counts[0] += 1
            first = run(stage, base)
            second = run(stage, other)
            # Timings differ from run to run by nature: only the status of
            # --time-passes is compared.
            if "--time-passes" in stage:
                same = first[0] == second[0]
            else:
                same = first == second
            if not same:
                counts[1] += 1
                out.append(f"differs: {where}:{line}: {stage} "
                           f"({describe(first[0])}, then {describe(second[0])})")
            # `not not` asks for a success again.
            expected = nots % 2
            for result in (first, second):
                if result[0] != expected:
                    counts[2] += 1
                    why = "not" if nots else "no not"
                    out.append(f"unexpected exit status: {where}:{line}: {stage}: "
                               f"expected exit {expected} ({why}), got "
                               f"{describe(result[0])}")
                    if result[0] == 127:
                        out.append("  " + result[2].decode(errors="replace").strip())
                    break
    return out, counts


files = []
for root, dirs, names in os.walk(test_dir):
    dirs[:] = sorted(d for d in dirs if d != "Inputs")
    files += [os.path.join(root, n) for n in sorted(names)
              if n.endswith((".onnxtxt", ".test", ".textproto"))]
totals = [0, 0, 0, 0, 0]
tmp_root = tempfile.mkdtemp(prefix="rerun_all.")
try:
    # Files are independent (each has its own %t folder): run them side by
    # side, report in file order.
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        for out, counts in pool.map(lambda ip: check_file(*ip, tmp_root),
                                    enumerate(files)):
            for text in out:
                print(text)
            totals = [a + b for a, b in zip(totals, counts)]
finally:
    shutil.rmtree(tmp_root, ignore_errors=True)
commands, differ, bad_status, setup_failed, skipped_files = totals
print(f"{commands} commands run twice, {differ} differ, {bad_status} with an "
      f"unexpected exit status, {setup_failed} setup failures; "
      f"{skipped_files} files skipped")
sys.exit(1 if differ or bad_status or setup_failed or not commands else 0)
