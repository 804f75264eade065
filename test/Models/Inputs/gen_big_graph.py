#!/usr/bin/env python3
"""Writes a large ONNX model in protobuf text format (for vram-opt's tests).

The model is a chain of LAYERS blocks y = Relu(MatMul(x, W_i) + b_i), three
nodes per block. Every weight is an initializer with external data pointing
into a file that does not exist, so loading the model proves that weight
bytes are never read. Standard library only.

usage: gen_big_graph.py OUT.textproto [LAYERS] [WIDTH]
"""
import sys


def main():
    out = sys.argv[1]
    layers = int(sys.argv[2]) if len(sys.argv) > 2 else 3400
    width = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    w_bytes = width * width * 4
    b_bytes = width * 4
    lines = [
        "ir_version: 8",
        'opset_import { domain: "" version: 17 }',
        'producer_name: "gen_big_graph.py"',
        "graph {",
        '  name: "big"',
    ]
    offset = 0
    prev = "x"
    inits = []
    for i in range(layers):
        w, b = "w%d" % i, "b%d" % i
        mm, add, act = "mm%d" % i, "add%d" % i, "h%d" % i
        lines.append('  node { name: "%s" op_type: "MatMul" input: "%s" '
                     'input: "%s" output: "%s" }' % (mm, prev, w, mm))
        lines.append('  node { name: "%s" op_type: "Add" input: "%s" '
                     'input: "%s" output: "%s" }' % (add, mm, b, add))
        lines.append('  node { name: "relu%d" op_type: "Relu" input: "%s" '
                     'output: "%s" }' % (i, add, act))
        for name, dims, size in ((w, (width, width), w_bytes),
                                 (b, (width,), b_bytes)):
            inits.append(
                '  initializer { name: "%s" data_type: 1 %s '
                "data_location: EXTERNAL "
                'external_data { key: "location" value: "absent_weights.bin" } '
                'external_data { key: "offset" value: "%d" } '
                'external_data { key: "length" value: "%d" } }'
                % (name, " ".join("dims: %d" % d for d in dims), offset, size))
            offset += size
        prev = act
    lines.extend(inits)
    lines.append(
        '  input { name: "x" type { tensor_type { elem_type: 1 shape { '
        'dim { dim_param: "batch" } dim { dim_value: %d } } } } }' % width)
    lines.append('  output { name: "%s" type { tensor_type { elem_type: 1 } } }'
                 % prev)
    lines.append("}")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
