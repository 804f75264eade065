#!/usr/bin/env python3
"""Writes a model in ONNX textual syntax whose If branches nest DEPTH deep.
Usage: gen_deep_if.py DEPTH > out.onnxtxt"""
import sys

depth = int(sys.argv[1])
body = "y = Identity (x)"
for d in range(1, depth + 1):
    body = (f"y = If (c) <then_branch = g{d} () => (float[2] y) {{ {body} }}, "
            f"else_branch = h{d} () => (float[2] y) {{ y = Identity (x) }}>")
print('<ir_version: 8, opset_import: ["" : 17]>')
print("g (float[2] x, bool c) => (float[2] y) {")
print("  " + body)
print("}")
