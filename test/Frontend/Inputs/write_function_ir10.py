#!/usr/bin/env python3
"""Writes a binary ONNX model whose functions use IR 9/10 fields that the
ONNX 1.12 classes lack, with the protobuf wire format by hand (no onnx
package needed):
- FunctionProto.attribute_proto (field 11): local::Tr has the default
  perm = [0, 2, 1] for its Transpose <perm = @perm>;
- FunctionProto.overload (field 13) and NodeProto.overload (field 8): two
  functions local::F, overload "keep" (Identity) and overload "flip"
  (Transpose without perm: the dims reversed).
The graph: x[B, 4, 3] -> local::Tr (no perm given) -> t [B, 3, 4]
                         -> local::F overload "flip" -> y [4, 3, B]
                      x -> local::F overload "keep" -> z [B, 4, 3]
Usage: write_function_ir10.py OUT.onnx [nodefault]
("nodefault" leaves the default out: Transpose then reverses, t [3, 4, B].)"""
import sys

from wire import field, s


def value_info(name, dtype, dims):
    tensor_type = field(1, 0, dtype)
    if dims is not None:
        dim_msgs = b""
        for d in dims:
            dim = field(1, 0, d) if isinstance(d, int) else s(2, d)
            dim_msgs += field(1, 2, dim)
        tensor_type += field(2, 2, dim_msgs)
    return s(1, name) + field(2, 2, field(1, 2, tensor_type))


def node(op, inputs, outputs, domain="", attrs=b"", overload=None):
    out = b"".join(s(1, i) for i in inputs) + b"".join(
        s(2, o) for o in outputs) + s(4, op) + attrs
    if domain:
        out += s(7, domain)
    if overload is not None:
        out += s(8, overload)
    return out


def opset(domain, version):
    return field(9, 2, s(1, domain) + field(2, 0, version))


ATTR_INTS = 7
FLOAT = 1
# AttributeProto: name 1, ints 8, type 20, ref_attr_name 21.
perm_ref = s(1, "perm") + field(20, 0, ATTR_INTS) + s(21, "perm")
perm_default = s(1, "perm") + b"".join(
    field(8, 0, v) for v in (0, 2, 1)) + field(20, 0, ATTR_INTS)

# FunctionProto: name 1, input 4, output 5, attribute 6, node 7,
# opset_import 9, domain 10, attribute_proto 11, overload 13.
tr = (s(1, "Tr") + s(4, "x") + s(5, "y") +
      field(7, 2, node("Transpose", ["x"], ["y"], attrs=field(5, 2, perm_ref)))
      + opset("", 17) + s(10, "local"))
if "nodefault" not in sys.argv[2:]:
    tr += field(11, 2, perm_default)
keep = (s(1, "F") + s(4, "x") + s(5, "y") +
        field(7, 2, node("Identity", ["x"], ["y"])) + opset("", 17) +
        s(10, "local") + s(13, "keep"))
flip = (s(1, "F") + s(4, "x") + s(5, "y") +
        field(7, 2, node("Transpose", ["x"], ["y"])) + opset("", 17) +
        s(10, "local") + s(13, "flip"))

graph = (field(1, 2, node("Tr", ["x"], ["t"], "local")) +
         field(1, 2, node("F", ["t"], ["y"], "local", overload="flip")) +
         field(1, 2, node("F", ["x"], ["z"], "local", overload="keep")) +
         s(2, "g") + field(11, 2, value_info("x", FLOAT, ["B", 4, 3])) +
         field(12, 2, value_info("y", FLOAT, None)) +
         field(12, 2, value_info("z", FLOAT, None)))
# ModelProto: ir_version 1, graph 7, opset_import 8, functions 25.
model = (field(1, 0, 10) + field(7, 2, graph) +
         field(8, 2, field(2, 0, 17)) +
         field(8, 2, s(1, "local") + field(2, 0, 1)) + field(25, 2, tr) +
         field(25, 2, keep) + field(25, 2, flip))
open(sys.argv[1], "wb").write(model)
