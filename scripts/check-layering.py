#!/usr/bin/env python3
"""Checks the project's layering from its #include lines.

Usage: check-layering.py [SRCROOT]

Each component (include/vram/<C> and lib/<C>) may include only the
components below it:

  IR         -> (nothing of the project)
  Support    -> IR
  Frontend   -> IR, Support            (the only one that includes ONNX or protobuf)
  Analysis   -> IR, Support
  Cost       -> IR, Support, Analysis
  Pipeline   -> IR, Support, Analysis, Cost
  Report     -> IR, Support, Analysis, Cost
  Driver     -> everything

Prints one line per violation and a summary; exits 1 on any violation."""
import os
import re
import sys

ALLOWED = {
    "IR": set(),
    "Support": {"IR"},
    "Frontend": {"IR", "Support"},
    "Analysis": {"IR", "Support"},
    "Cost": {"IR", "Support", "Analysis"},
    "Pipeline": {"IR", "Support", "Analysis", "Cost"},
    "Report": {"IR", "Support", "Analysis", "Cost"},
    "Driver": {"IR", "Support", "Frontend", "Analysis", "Cost", "Pipeline",
               "Report"},
}
ONNX_OK = {"Frontend"}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]')

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..")
bad = 0
files = 0
for comp in sorted(ALLOWED):
    for top in (os.path.join(root, "include", "vram", comp),
                os.path.join(root, "lib", comp)):
        for dirpath, dirs, names in os.walk(top):
            dirs.sort()
            for name in sorted(names):
                if not name.endswith((".h", ".cpp", ".def")):
                    continue
                files += 1
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                for num, line in enumerate(open(path, encoding="utf-8"), 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    inc = m.group(1)
                    if inc.startswith(("onnx/", "google/protobuf")):
                        if comp not in ONNX_OK:
                            print(f"{rel}:{num}: {comp} includes {inc}")
                            bad += 1
                        continue
                    parts = inc.split("/")
                    if len(parts) >= 3 and parts[0] == "vram":
                        dep = parts[1]
                        if dep != comp and dep not in ALLOWED[comp]:
                            print(f"{rel}:{num}: {comp} includes {inc}")
                            bad += 1
print(f"check-layering: {files} files, {bad} violations")
sys.exit(1 if bad or not files else 0)
