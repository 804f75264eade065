#!/usr/bin/env python3
"""Writes a binary ONNX model with the protobuf wire format by hand (no onnx
package needed): x[B, 64] @ W[64, 4096] (f32, 1 MiB of embedded raw_data)
then Reshape by an embedded int64 shape constant [0, 64, 64] (24 bytes of
raw_data, which shape propagation must read).
Usage: write_wire_model.py OUT.onnx"""
import struct
import sys

from wire import field, s


def tensor(name, dtype, dims, raw):
    body = b"".join(field(1, 0, d) for d in dims)
    body += field(2, 0, dtype) + s(8, name) + field(9, 2, raw)
    return body


def value_info(name, dtype, dims):
    dim_msgs = b""
    for d in dims:
        dim = field(1, 0, d) if isinstance(d, int) else s(2, d)
        dim_msgs += field(1, 2, dim)
    tensor_type = field(1, 0, dtype) + field(2, 2, dim_msgs)
    return s(1, name) + field(2, 2, field(1, 2, tensor_type))


def node(op, inputs, outputs):
    return b"".join(s(1, i) for i in inputs) + b"".join(
        s(2, o) for o in outputs) + s(4, op)


FLOAT, INT64 = 1, 7
w = tensor("W", FLOAT, [64, 4096], bytes(64 * 4096 * 4))
shape = tensor("shape", INT64, [3], struct.pack("<3q", 0, 64, 64))
graph = (field(1, 2, node("MatMul", ["x", "W"], ["h"])) +
         field(1, 2, node("Reshape", ["h", "shape"], ["y"])) + s(2, "g") +
         field(5, 2, w) + field(5, 2, shape) +
         field(11, 2, value_info("x", FLOAT, ["B", 64])) +
         field(12, 2, value_info("y", FLOAT, ["B", 64, 64])))
model = field(1, 0, 8) + field(7, 2, graph) + field(8, 2, field(2, 0, 17))
open(sys.argv[1], "wb").write(model)
