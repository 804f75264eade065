#!/usr/bin/python3
"""Probes PyTorch's CPU autocast policy: runs each op under
torch.autocast("cpu", dtype=torch.bfloat16) with f32 and with bf16 inputs and
prints the result dtype. torch 1.13 (Debian's python3-torch): matmul, linear
and bmm run in bf16; cross_entropy, nll_loss and prod in f32; softmax,
log_softmax, layer_norm, gelu, pow, mean, sum, exp, log, rsqrt and the rest
in their inputs' dtype; add, mul and cat promote mixed inputs. The op
registry's PrecisionCPU facet follows this.

Usage: /usr/bin/python3 models/torch/probe_autocast.py
"""
import torch, torch.nn.functional as F
x=torch.randn(4,8); y=torch.randn(8,8); w=torch.randn(8,8); b16=x.to(torch.bfloat16)
ops={
 'matmul':lambda a:a@y, 'linear':lambda a:F.linear(a,w), 'bmm':lambda a:torch.bmm(a[None],y[None]),
 'softmax':lambda a:F.softmax(a,-1), 'log_softmax':lambda a:F.log_softmax(a,-1), 'layer_norm':lambda a:F.layer_norm(a,(8,)),
 'gelu':lambda a:F.gelu(a), 'silu':lambda a:F.silu(a), 'pow':lambda a:a.pow(2), 'mean':lambda a:a.mean(-1), 'sum':lambda a:a.sum(-1),
 'exp':lambda a:a.exp(), 'log':lambda a:a.abs().log(), 'rsqrt':lambda a:a.abs().rsqrt(), 'sqrt':lambda a:a.abs().sqrt(),
 'add':lambda a:a+y[:4], 'mul':lambda a:a*y[:4], 'cat':lambda a:torch.cat([a,y[:4]]), 'tanh':lambda a:a.tanh(), 'erf':lambda a:torch.erf(a),
 'cross_entropy':lambda a:F.cross_entropy(a,torch.zeros(4,dtype=torch.long)), 'nll_loss':lambda a:F.nll_loss(a,torch.zeros(4,dtype=torch.long)),
 'dropout':lambda a:F.dropout(a,0.1,True), 'reciprocal':lambda a:a.reciprocal(), 'cumsum':lambda a:a.cumsum(-1), 'prod':lambda a:a.prod(-1),
 'group_norm':lambda a:F.group_norm(a[None,:,:,None].reshape(1,4,8),2), 'embedding':None,
}
for n,f in ops.items():
    if f is None: continue
    with torch.autocast('cpu',dtype=torch.bfloat16):
        try:
            o1=f(x).dtype; o2=f(b16).dtype
        except Exception as e:
            o1=o2=type(e).__name__
    print(f"{n:14} f32-in -> {o1}   bf16-in -> {o2}")
