"""Transformer modules written for vram-opt's validation models.

Three families, written here (no transformers library) in the way the
Hugging Face reference implementations compute them, so that both the ONNX
export and PyTorch autograd see the same kernels:

  GPT      GPT-2 style: token + position embedding, pre-LN blocks, fused QKV
           Linear, additive causal mask from a registered buffer, erf-GELU,
           dropout (embeddings, attention probabilities, attention output,
           MLP output), final LayerNorm, LM head tied to the token embedding.
  Bert     BERT style: post-LN, separate Q/K/V Linears, additive padding mask
           built from an attention_mask input, dropout.
  Llama    LLaMA style: RMSNorm (x * rsqrt(mean(x^2) + eps) * w, computed in
           fp32 as HF does), rotary embeddings from cos/sin buffers, SwiGLU
           MLP, grouped-query attention (repeat_kv), no biases, no dropout.

Dropout uses torch.native_dropout in training mode: it saves a 1-byte bool
mask on CPU as the fused CUDA kernel does (F.dropout on CPU saves a float
noise tensor of the input's dtype instead). torch 1.13 exports native_dropout
as an ONNX Dropout node with its mask output in training mode, so the same
code path serves export and measurement.

Runs with Debian's python3-torch 1.13 (/usr/bin/python3).
"""

import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


class Dropout(nn.Module):
    """Dropout whose training-mode kernel keeps a bool mask (native_dropout)."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        return torch.native_dropout(x, self.p, True)[0]


# --------------------------------------------------------------------------
# GPT-2 style
# --------------------------------------------------------------------------

@dataclass
class GPTConfig:
    vocab: int = 256
    max_seq: int = 64
    d: int = 64
    heads: int = 4
    layers: int = 2
    dropout: float = 0.1
    eps: float = 1e-5
    tied: bool = True  # the LM head shares the token embedding


class GPTAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c.heads
        self.hd = c.d // c.heads
        self.c_attn = nn.Linear(c.d, 3 * c.d)
        self.c_proj = nn.Linear(c.d, c.d)
        self.attn_drop = Dropout(c.dropout)
        self.resid_drop = Dropout(c.dropout)
        causal = torch.tril(torch.ones(c.max_seq, c.max_seq))
        mask = (1.0 - causal) * torch.finfo(torch.float32).min
        self.register_buffer("mask", mask.view(1, 1, c.max_seq, c.max_seq))

    def forward(self, x):
        b, s, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        q = q.view(b, s, self.heads, self.hd).transpose(1, 2)
        k = k.view(b, s, self.heads, self.hd).transpose(1, 2)
        v = v.view(b, s, self.heads, self.hd).transpose(1, 2)
        att = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(self.hd)
        att = att + self.mask[:, :, :s, :s].to(att.dtype)
        att = F.softmax(att, dim=-1)
        att = self.attn_drop(att)
        y = torch.matmul(att, v)
        y = y.transpose(1, 2).contiguous().view(b, s, d)
        return self.resid_drop(self.c_proj(y))


class GPTMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c.d, 4 * c.d)
        self.c_proj = nn.Linear(4 * c.d, c.d)
        self.drop = Dropout(c.dropout)

    def forward(self, x):
        return self.drop(self.c_proj(F.gelu(self.c_fc(x))))


class GPTBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c.d, eps=c.eps)
        self.attn = GPTAttention(c)
        self.ln_2 = nn.LayerNorm(c.d, eps=c.eps)
        self.mlp = GPTMLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    input_names = ["input_ids"]

    def __init__(self, c):
        super().__init__()
        self.config = c
        self.wte = nn.Embedding(c.vocab, c.d)
        self.wpe = nn.Embedding(c.max_seq, c.d)
        self.drop = Dropout(c.dropout)
        self.h = nn.ModuleList([GPTBlock(c) for _ in range(c.layers)])
        self.ln_f = nn.LayerNorm(c.d, eps=c.eps)
        self.lm_head = nn.Linear(c.d, c.vocab, bias=False)
        if c.tied:
            self.lm_head.weight = self.wte.weight

    def blocks(self):
        return list(self.h)

    def forward(self, input_ids):
        s = input_ids.shape[1]
        pos = torch.arange(0, s, dtype=torch.long, device=input_ids.device)
        x = self.drop(self.wte(input_ids) + self.wpe(pos).unsqueeze(0))
        for blk in self.h:
            x = blk(x)
        return self.lm_head(self.ln_f(x))

    def example_inputs(self, b, s):
        return (torch.randint(0, self.config.vocab, (b, s)),)


# --------------------------------------------------------------------------
# BERT style
# --------------------------------------------------------------------------

@dataclass
class BertConfig:
    vocab: int = 256
    max_seq: int = 64
    d: int = 64
    heads: int = 4
    layers: int = 2
    ffn: int = 256
    dropout: float = 0.1
    eps: float = 1e-12


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c.heads
        self.hd = c.d // c.heads
        self.query = nn.Linear(c.d, c.d)
        self.key = nn.Linear(c.d, c.d)
        self.value = nn.Linear(c.d, c.d)
        self.drop = Dropout(c.dropout)

    def split(self, t):
        b, s, _ = t.shape
        return t.view(b, s, self.heads, self.hd).permute(0, 2, 1, 3)

    def forward(self, x, ext_mask):
        q = self.split(self.query(x))
        k = self.split(self.key(x))
        v = self.split(self.value(x))
        att = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.hd)
        att = att + ext_mask
        att = self.drop(F.softmax(att, dim=-1))
        y = torch.matmul(att, v).permute(0, 2, 1, 3).contiguous()
        b, s = y.shape[0], y.shape[1]
        return y.view(b, s, self.heads * self.hd)


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertSelfAttention(c)
        self.attn_out = nn.Linear(c.d, c.d)
        self.attn_drop = Dropout(c.dropout)
        self.attn_ln = nn.LayerNorm(c.d, eps=c.eps)
        self.intermediate = nn.Linear(c.d, c.ffn)
        self.output = nn.Linear(c.ffn, c.d)
        self.out_drop = Dropout(c.dropout)
        self.out_ln = nn.LayerNorm(c.d, eps=c.eps)

    def forward(self, x, ext_mask):
        a = self.attention(x, ext_mask)
        x = self.attn_ln(self.attn_drop(self.attn_out(a)) + x)
        h = F.gelu(self.intermediate(x))
        return self.out_ln(self.out_drop(self.output(h)) + x)


class Bert(nn.Module):
    input_names = ["input_ids", "attention_mask"]

    def __init__(self, c):
        super().__init__()
        self.config = c
        self.word_embeddings = nn.Embedding(c.vocab, c.d)
        self.position_embeddings = nn.Embedding(c.max_seq, c.d)
        self.emb_ln = nn.LayerNorm(c.d, eps=c.eps)
        self.emb_drop = Dropout(c.dropout)
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c.layers)])

    def blocks(self):
        return list(self.layer)

    def forward(self, input_ids, attention_mask):
        s = input_ids.shape[1]
        pos = torch.arange(0, s, dtype=torch.long, device=input_ids.device)
        x = self.word_embeddings(input_ids) + self.position_embeddings(pos).unsqueeze(0)
        x = self.emb_drop(self.emb_ln(x))
        ext = attention_mask[:, None, None, :].to(x.dtype)
        ext = (1.0 - ext) * torch.finfo(x.dtype).min
        for layer in self.layer:
            x = layer(x, ext)
        return x

    def example_inputs(self, b, s):
        ids = torch.randint(0, self.config.vocab, (b, s))
        mask = torch.ones(b, s, dtype=torch.long)
        mask[0, s // 2:] = 0  # some padding
        return (ids, mask)


# --------------------------------------------------------------------------
# LLaMA style
# --------------------------------------------------------------------------

@dataclass
class LlamaConfig:
    vocab: int = 256
    max_seq: int = 64
    d: int = 64
    heads: int = 4
    kv_heads: int = 2
    layers: int = 2
    ffn: int = 176
    eps: float = 1e-6
    rope_theta: float = 10000.0


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.to(torch.float32)
        var = x.pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(var + self.eps)
        return self.weight * x.to(dtype)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def repeat_kv(x, n_rep):
    b, kvh, s, hd = x.shape
    if n_rep == 1:
        return x
    x = x[:, :, None, :, :].expand(b, kvh, n_rep, s, hd)
    return x.reshape(b, kvh * n_rep, s, hd)


class LlamaAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c.heads
        self.kv_heads = c.kv_heads
        self.hd = c.d // c.heads
        self.q_proj = nn.Linear(c.d, c.heads * self.hd, bias=False)
        self.k_proj = nn.Linear(c.d, c.kv_heads * self.hd, bias=False)
        self.v_proj = nn.Linear(c.d, c.kv_heads * self.hd, bias=False)
        self.o_proj = nn.Linear(c.heads * self.hd, c.d, bias=False)

    def forward(self, x, cos, sin, mask):
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, self.heads, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.kv_heads, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.kv_heads, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = repeat_kv(k, self.heads // self.kv_heads)
        v = repeat_kv(v, self.heads // self.kv_heads)
        att = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.hd)
        att = att + mask
        att = F.softmax(att, dim=-1, dtype=torch.float32).to(q.dtype)
        y = torch.matmul(att, v)
        y = y.transpose(1, 2).contiguous().reshape(b, s, self.heads * self.hd)
        return self.o_proj(y)


class LlamaMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c.d, c.ffn, bias=False)
        self.up_proj = nn.Linear(c.d, c.ffn, bias=False)
        self.down_proj = nn.Linear(c.ffn, c.d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c.d, c.eps)
        self.self_attn = LlamaAttention(c)
        self.post_attention_layernorm = RMSNorm(c.d, c.eps)
        self.mlp = LlamaMLP(c)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class Llama(nn.Module):
    input_names = ["input_ids"]

    def __init__(self, c):
        super().__init__()
        self.config = c
        hd = c.d // c.heads
        self.embed_tokens = nn.Embedding(c.vocab, c.d)
        self.layers = nn.ModuleList([LlamaLayer(c) for _ in range(c.layers)])
        self.norm = RMSNorm(c.d, c.eps)
        self.lm_head = nn.Linear(c.d, c.vocab, bias=False)
        inv_freq = 1.0 / (c.rope_theta ** (torch.arange(0, hd, 2).float() / hd))
        t = torch.arange(c.max_seq).float()
        freqs = torch.outer(t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos_cached", emb.cos())
        self.register_buffer("sin_cached", emb.sin())
        causal = torch.tril(torch.ones(c.max_seq, c.max_seq))
        mask = (1.0 - causal) * torch.finfo(torch.float32).min
        self.register_buffer("causal_mask", mask.view(1, 1, c.max_seq, c.max_seq))

    def blocks(self):
        return list(self.layers)

    def forward(self, input_ids):
        s = input_ids.shape[1]
        x = self.embed_tokens(input_ids)
        cos = self.cos_cached[:s].to(x.dtype)
        sin = self.sin_cached[:s].to(x.dtype)
        mask = self.causal_mask[:, :, :s, :s].to(x.dtype)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.lm_head(self.norm(x))

    def example_inputs(self, b, s):
        return (torch.randint(0, self.config.vocab, (b, s)),)


# --------------------------------------------------------------------------
# The configurations the project exports and measures
# --------------------------------------------------------------------------

MODELS = {
    "gpt_tiny": (GPT, GPTConfig()),
    "bert_tiny": (Bert, BertConfig()),
    "llama_tiny": (Llama, LlamaConfig()),
    "gpt2_small": (GPT, GPTConfig(vocab=50257, max_seq=1024, d=768, heads=12,
                                  layers=12, dropout=0.1)),
}


def build(name, seed=0):
    cls, cfg = MODELS[name]
    torch.manual_seed(seed)
    return cls(cfg)


def config_dict(name):
    return asdict(MODELS[name][1])
