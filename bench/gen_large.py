#!/usr/bin/python3
"""Writes the large benchmark models of bench/run.sh (issue 7) into bench/out/.

  llama70b_80l.onnx      80-layer LLaMA-70B-shaped decoder (d=8192, 64 heads,
                         8 KV heads, ffn 28672, vocab 32000), f32, dynamic
                         `batch`, `seq`; every weight is EXTERNAL data in
                         llama70b_80l.weights, which is NOT written (absent).
  gpt2large_f16.onnx     36-layer GPT-2-large-shaped model (d=1280, 20 heads,
                         ffn 5120, vocab 50257, 1024 positions), float16,
                         EMBEDDED weights (raw_data of zeros, ~1.55 GB, under
                         protobuf's 2 GB limit). Streamed to disk: the weight
                         bytes are never held in memory as a whole.
  depth_L{10,20,40,80,160}.onnx
                         the LLaMA block at d=512, 8 heads, 2 KV heads,
                         ffn 1408, vocab 32000, absent external weights.

Run with Debian's python3-onnx (ONNX 1.12): /usr/bin/python3 bench/gen_large.py
[--out DIR] [--only NAME ...]. Existing files are kept unless --force.
"""
import argparse
import os
import sys

from onnx import TensorProto, helper, numpy_helper  # noqa: F401

OPSET = 17
F32 = TensorProto.FLOAT
F16 = TensorProto.FLOAT16
I64 = TensorProto.INT64


class Builder:
    """Accumulates nodes and initializers; names are unique by prefix."""

    def __init__(self, wdtype, external=None):
        self.nodes = []
        self.inits = []          # (name, dims, dtype)  weights
        self.consts = []         # small int64 / scalar TensorProtos (embedded)
        self.wdtype = wdtype
        self.external = external  # weight file name, or None for embedded
        self.offset = 0
        self.n = 0

    def op(self, op_type, inputs, name_hint, n_out=1, **attrs):
        self.n += 1
        outs = [f"{name_hint}" if n_out == 1 else f"{name_hint}_{k}" for k in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=f"{name_hint}_n{self.n}", **attrs))
        return outs[0] if n_out == 1 else outs

    def weight(self, name, dims):
        self.inits.append((name, list(dims), self.wdtype))
        return name

    def i64(self, name, vals):
        self.consts.append(helper.make_tensor(name, I64, [len(vals)], vals))
        return name

    def scalar(self, name, val, dtype=None):
        dtype = self.wdtype if dtype is None else dtype
        if dtype == F16:
            import numpy as np
            t = numpy_helper.from_array(np.array(val, dtype=np.float16), name)
        else:
            t = helper.make_tensor(name, dtype, [], [val])
        self.consts.append(t)
        return name

    def weight_tensor(self, name, dims, dtype, with_location=True):
        t = TensorProto()
        t.name = name
        t.dims.extend(dims)
        t.data_type = dtype
        nbytes = 2 if dtype == F16 else 4
        for d in dims:
            nbytes *= d
        if self.external is not None:
            t.data_location = TensorProto.EXTERNAL
            for k, v in (("location", self.external), ("offset", str(self.offset)),
                         ("length", str(nbytes))):
                e = t.external_data.add()
                e.key, e.value = k, v
            self.offset += (nbytes + 4095) // 4096 * 4096
        return t, nbytes


# ---------------------------------------------------------------- LLaMA block
def rmsnorm(b, x, w, tag):
    sq = b.op("Pow", [x, "c_two"], f"{tag}_pow")
    ms = b.op("ReduceMean", [sq], f"{tag}_mean", axes=[-1], keepdims=1)
    me = b.op("Add", [ms, "c_eps"], f"{tag}_addeps")
    rt = b.op("Sqrt", [me], f"{tag}_sqrt")
    nx = b.op("Div", [x, rt], f"{tag}_div")
    return b.op("Mul", [nx, w], f"{tag}_mul")


def rotary(b, t, cos, sin, hd, tag):
    """t [b, h, s, hd]: t*cos + rotate_half(t)*sin (rotate_half by Slice/Neg/Concat)."""
    x1 = b.op("Slice", [t, "c_0", "c_half", "c_m1"], f"{tag}_x1")
    x2 = b.op("Slice", [t, "c_half", "c_big", "c_m1"], f"{tag}_x2")
    nx2 = b.op("Neg", [x2], f"{tag}_neg")
    rh = b.op("Concat", [nx2, x1], f"{tag}_rot", axis=-1)
    a = b.op("Mul", [t, cos], f"{tag}_cos")
    c = b.op("Mul", [rh, sin], f"{tag}_sin")
    return b.op("Add", [a, c], f"{tag}_rope")


def llama(layers, d, heads, kv_heads, ffn, vocab, max_pos, wdtype, external):
    b = Builder(wdtype, external)
    hd = d // heads
    rep = heads // kv_heads
    b.i64("c_0", [0])
    b.i64("c_1", [1])
    b.i64("c_2", [2])
    b.i64("c_half", [hd // 2])
    b.i64("c_big", [1 << 62])
    b.i64("c_m1", [-1])
    b.i64("s_q", [0, 0, heads, hd])
    b.i64("s_kv", [0, 0, kv_heads, hd])
    b.i64("s_rep", [1, 1, rep, 1, 1])
    b.i64("s_gqa", [0, heads, -1, hd])
    b.i64("s_merge", [0, 0, d])
    b.scalar("c_two", 2.0)
    b.scalar("c_eps", 1e-5)
    b.scalar("c_scale", float(hd) ** 0.5)
    # rotary tables [1, 1, max_pos, hd], sliced to the sequence length at run time
    b.weight("rope_cos", [1, 1, max_pos, hd])
    b.weight("rope_sin", [1, 1, max_pos, hd])
    shp = b.op("Shape", ["input_ids"], "ids_shape")
    seqlen = b.op("Gather", [shp, "c_1"], "seq_len", axis=0)
    cos = b.op("Slice", ["rope_cos", "c_0", seqlen, "c_2"], "cos")
    sin = b.op("Slice", ["rope_sin", "c_0", seqlen, "c_2"], "sin")

    emb = b.weight("embed_tokens", [vocab, d])
    x = b.op("Gather", [emb, "input_ids"], "embed", axis=0)
    for i in range(layers):
        p = f"/model/layers.{i}/"
        h = rmsnorm(b, x, b.weight(f"{p}attn_norm", [d]), f"{p}ln1")
        q = b.op("MatMul", [h, b.weight(f"{p}wq", [d, d])], f"{p}q")
        k = b.op("MatMul", [h, b.weight(f"{p}wk", [d, kv_heads * hd])], f"{p}k")
        v = b.op("MatMul", [h, b.weight(f"{p}wv", [d, kv_heads * hd])], f"{p}v")
        q = b.op("Transpose", [b.op("Reshape", [q, "s_q"], f"{p}q4")], f"{p}qt", perm=[0, 2, 1, 3])
        k = b.op("Transpose", [b.op("Reshape", [k, "s_kv"], f"{p}k4")], f"{p}kt", perm=[0, 2, 1, 3])
        v = b.op("Transpose", [b.op("Reshape", [v, "s_kv"], f"{p}v4")], f"{p}vt", perm=[0, 2, 1, 3])
        q = rotary(b, q, cos, sin, hd, f"{p}rq")
        k = rotary(b, k, cos, sin, hd, f"{p}rk")
        # GQA: [b, kv, s, hd] -> [b, kv, 1, s, hd] -> Expand [b, kv, rep, s, hd] -> [b, heads, s, hd]
        if rep > 1:
            ku = b.op("Unsqueeze", [k, "c_2"], f"{p}ku")
            k = b.op("Reshape", [b.op("Expand", [ku, "s_rep"], f"{p}kx"), "s_gqa"], f"{p}kg")
            vu = b.op("Unsqueeze", [v, "c_2"], f"{p}vu")
            v = b.op("Reshape", [b.op("Expand", [vu, "s_rep"], f"{p}vx"), "s_gqa"], f"{p}vg")
        kT = b.op("Transpose", [k], f"{p}kT", perm=[0, 1, 3, 2])
        sc = b.op("MatMul", [q, kT], f"{p}scores")
        sc = b.op("Div", [sc, "c_scale"], f"{p}scaled")
        pr = b.op("Softmax", [sc], f"{p}probs", axis=-1)
        ctx = b.op("MatMul", [pr, v], f"{p}ctx")
        ctx = b.op("Transpose", [ctx], f"{p}ctxt", perm=[0, 2, 1, 3])
        ctx = b.op("Reshape", [ctx, "s_merge"], f"{p}merged")
        o = b.op("MatMul", [ctx, b.weight(f"{p}wo", [d, d])], f"{p}o")
        x = b.op("Add", [x, o], f"{p}res1")
        h = rmsnorm(b, x, b.weight(f"{p}ffn_norm", [d]), f"{p}ln2")
        g = b.op("MatMul", [h, b.weight(f"{p}w1", [d, ffn])], f"{p}gate")
        u = b.op("MatMul", [h, b.weight(f"{p}w3", [d, ffn])], f"{p}up")
        sg = b.op("Sigmoid", [g], f"{p}sig")
        si = b.op("Mul", [g, sg], f"{p}silu")
        m = b.op("Mul", [si, u], f"{p}swiglu")
        dn = b.op("MatMul", [m, b.weight(f"{p}w2", [ffn, d])], f"{p}down")
        x = b.op("Add", [x, dn], f"{p}res2")
    h = rmsnorm(b, x, b.weight("norm", [d]), "final")
    b.op("MatMul", [h, b.weight("lm_head", [d, vocab])], "logits")
    inputs = [helper.make_tensor_value_info("input_ids", I64, ["batch", "seq"])]
    outputs = [helper.make_tensor_value_info("logits", wdtype, ["batch", "seq", vocab])]
    return b, inputs, outputs


# ---------------------------------------------------------------- GPT-2 block
def gpt2(layers, d, heads, ffn, vocab, npos, wdtype):
    b = Builder(wdtype, None)
    hd = d // heads
    b.i64("c_0", [0])
    b.i64("c_1", [1])
    b.i64("s_heads", [0, 0, heads, hd])
    b.i64("s_merge", [0, 0, d])
    b.i64("split3", [d, d, d])
    b.scalar("c_scale", float(hd) ** 0.5)
    b.scalar("c_sqrt2", 2.0 ** 0.5)
    b.scalar("c_one", 1.0)
    b.scalar("c_half", 0.5)
    shp = b.op("Shape", ["input_ids"], "ids_shape")
    seqlen = b.op("Gather", [shp, "c_1"], "seq_len", axis=0)
    wpe = b.op("Slice", [b.weight("wpe", [npos, d]), "c_0", seqlen, "c_0"], "wpe_s")
    x = b.op("Gather", [b.weight("wte", [vocab, d]), "input_ids"], "tok_emb", axis=0)
    x = b.op("Add", [x, wpe], "emb")
    for i in range(layers):
        p = f"/transformer/h.{i}/"
        h = b.op("LayerNormalization", [x, b.weight(f"{p}ln1_g", [d]), b.weight(f"{p}ln1_b", [d])],
                 f"{p}ln1", axis=-1, epsilon=1e-5)
        qkv = b.op("MatMul", [h, b.weight(f"{p}w_qkv", [d, 3 * d])], f"{p}qkv_mm")
        qkv = b.op("Add", [qkv, b.weight(f"{p}b_qkv", [3 * d])], f"{p}qkv")
        q, k, v = b.op("Split", [qkv, "split3"], f"{p}split", n_out=3, axis=2)
        q = b.op("Transpose", [b.op("Reshape", [q, "s_heads"], f"{p}q4")], f"{p}qt", perm=[0, 2, 1, 3])
        k = b.op("Transpose", [b.op("Reshape", [k, "s_heads"], f"{p}k4")], f"{p}kt", perm=[0, 2, 3, 1])
        v = b.op("Transpose", [b.op("Reshape", [v, "s_heads"], f"{p}v4")], f"{p}vt", perm=[0, 2, 1, 3])
        sc = b.op("Div", [b.op("MatMul", [q, k], f"{p}scores"), "c_scale"], f"{p}scaled")
        pr = b.op("Softmax", [sc], f"{p}probs", axis=-1)
        ctx = b.op("Transpose", [b.op("MatMul", [pr, v], f"{p}ctx")], f"{p}ctxt", perm=[0, 2, 1, 3])
        ctx = b.op("Reshape", [ctx, "s_merge"], f"{p}merged")
        o = b.op("MatMul", [ctx, b.weight(f"{p}w_o", [d, d])], f"{p}o_mm")
        o = b.op("Add", [o, b.weight(f"{p}b_o", [d])], f"{p}o")
        x = b.op("Add", [x, o], f"{p}res1")
        h = b.op("LayerNormalization", [x, b.weight(f"{p}ln2_g", [d]), b.weight(f"{p}ln2_b", [d])],
                 f"{p}ln2", axis=-1, epsilon=1e-5)
        f = b.op("MatMul", [h, b.weight(f"{p}w_fc", [d, ffn])], f"{p}fc_mm")
        f = b.op("Add", [f, b.weight(f"{p}b_fc", [ffn])], f"{p}fc")
        g = b.op("Div", [f, "c_sqrt2"], f"{p}gdiv")
        g = b.op("Erf", [g], f"{p}gerf")
        g = b.op("Add", [g, "c_one"], f"{p}gadd")
        g = b.op("Mul", [f, g], f"{p}gmul")
        g = b.op("Mul", [g, "c_half"], f"{p}gelu")
        pj = b.op("MatMul", [g, b.weight(f"{p}w_proj", [ffn, d])], f"{p}proj_mm")
        pj = b.op("Add", [pj, b.weight(f"{p}b_proj", [d])], f"{p}proj")
        x = b.op("Add", [x, pj], f"{p}res2")
    h = b.op("LayerNormalization", [x, b.weight("lnf_g", [d]), b.weight("lnf_b", [d])], "lnf",
             axis=-1, epsilon=1e-5)
    wteT = b.op("Transpose", ["wte"], "wte_T", perm=[1, 0])  # tied lm_head
    b.op("MatMul", [h, wteT], "logits")
    inputs = [helper.make_tensor_value_info("input_ids", I64, ["batch", "seq"])]
    outputs = [helper.make_tensor_value_info("logits", wdtype, ["batch", "seq", vocab])]
    return b, inputs, outputs


# ---------------------------------------------------------------- writing
def varint(n):
    out = bytearray()
    while True:
        c = n & 0x7F
        n >>= 7
        if n:
            out.append(c | 0x80)
        else:
            out.append(c)
            return bytes(out)


def write_model(path, b, inputs, outputs, graph_name):
    """Streams the ModelProto to `path`. The graph (nodes, inputs, outputs,
    small constants) is serialized by protobuf; each weight initializer is
    appended to GraphProto.initializer (field 5) by hand: its header is
    serialized by protobuf and, when embedded, its raw_data (field 9) is
    written as zeros in chunks. The result is one well-formed ModelProto with
    one graph field (not a concatenation of messages)."""
    graph = helper.make_graph(b.nodes, graph_name, inputs, outputs, initializer=b.consts)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="vram-opt bench/gen_large.py")
    model.ir_version = 8
    headers = []
    total_init = 0
    for name, dims, dtype in b.inits:
        t, nbytes = b.weight_tensor(name, dims, dtype)
        h = t.SerializeToString()
        if b.external is None:
            body = len(h) + 1 + len(varint(nbytes)) + nbytes
            headers.append((h, nbytes, body))
        else:
            body = len(h)
            headers.append((h, 0, body))
        total_init += 1 + len(varint(body)) + body
    gbytes = model.graph.SerializeToString()
    glen = len(gbytes) + total_init
    model.ClearField("graph")
    mbytes = model.SerializeToString()
    tmp = path + ".tmp"
    zeros = bytes(1 << 24)
    with open(tmp, "wb") as f:
        f.write(mbytes)
        f.write(b"\x3a" + varint(glen))          # field 7 (graph), LEN
        f.write(gbytes)
        for h, nbytes, body in headers:
            f.write(b"\x2a" + varint(body))      # field 5 (initializer), LEN
            f.write(h)
            if nbytes:
                f.write(b"\x4a" + varint(nbytes))  # field 9 (raw_data), LEN
                left = nbytes
                while left:
                    n = min(left, len(zeros))
                    f.write(zeros[:n] if n < len(zeros) else zeros)
                    left -= n
    os.replace(tmp, path)
    size = os.path.getsize(path)
    nparams = 0
    for _, dims, _ in b.inits:
        p = 1
        for d in dims:
            p *= d
        nparams += p
    print(f"wrote {path}: {size / 2**20:.1f} MiB, {len(b.nodes)} nodes, "
          f"{len(b.inits)} weights, {nparams / 1e9:.3f} G params", flush=True)
    if size >= 2**31:
        sys.exit(f"{path}: {size} bytes is over protobuf's 2 GB limit")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "out"))
    ap.add_argument("--only", nargs="*", help="llama70b, gpt2large, depth")
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--depths", default="0,10,20,40,80,160")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    want = set(a.only or ["llama70b", "gpt2large", "depth"])

    def need(name):
        p = os.path.join(a.out, name)
        return a.force or not os.path.exists(p), p

    if "llama70b" in want:
        go, p = need("llama70b_80l.onnx")
        if go:
            b, i, o = llama(80, 8192, 64, 8, 28672, 32000, 4096, F32, "llama70b_80l.weights")
            write_model(p, b, i, o, "llama70b_80l")
    if "gpt2large" in want:
        go, p = need("gpt2large_f16.onnx")
        if go:
            b, i, o = gpt2(36, 1280, 20, 5120, 50257, 1024, F16)
            write_model(p, b, i, o, "gpt2large_f16")
    if "depth" in want:
        for L in [int(x) for x in a.depths.split(",")]:
            go, p = need(f"depth_L{L}.onnx")
            if go:
                b, i, o = llama(L, 512, 8, 2, 1408, 32000, 2048, F32, f"depth_L{L}.weights")
                write_model(p, b, i, o, f"depth_L{L}")


if __name__ == "__main__":
    main()
