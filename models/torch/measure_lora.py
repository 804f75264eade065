#!/usr/bin/python3
"""Measures what PyTorch autograd keeps for backward under LoRA adapters.

The adapter is written here (no peft), equivalent to PEFT's LoraLayer for
nn.Linear (peft/tuners/lora/layer.py, Linear.forward):

  lora_A   nn.Linear(in, r, bias=False)
  lora_B   nn.Linear(r, out, bias=False)   (zero-initialised, as in PEFT)
  dropout  a dropout of probability p, or the identity when p = 0
  result = base(x) + lora_B(lora_A(dropout(x))) * (alpha / r)

and every base parameter is frozen (requires_grad False), so only the
adapters train. The dropout is modules.Dropout (torch.native_dropout): the
1-byte bool mask that nn.Dropout's fused CUDA kernel keeps. On the CPU
nn.Dropout takes at::dropout's non-fused path, which keeps a noise tensor of
the input's dtype (4 bytes per element in fp32) instead; a GPU run of PEFT
keeps the mask (see modules.py). Points with dropout also record
activation_bytes_cpu_nn_dropout, the same point with nn.Dropout on the CPU.

For each point: the model of modules.py (or a held-out configuration below)
is built in fp32, training mode; the linear layers whose module name
matches the target set are wrapped; one forward runs under
saved_tensors_hooks (measure.record: storages deduplicated by data pointer,
priced at their full size, categories as in measure.py). Recorded:
activation bytes (category "activation"), the saved model inputs, and the
parameter counts, all (tied once) and trainable.

Targets are given as a regex over module names (re.fullmatch, nn.Linear
modules only) and, for vram-opt's --lora targets, a regex over the weight
names of the ONNX export of the base model (models/*_train_op17.onnx,
export.py), which names each linear layer's weight "<module>.weight", a
tied one by its first name (GPT's lm_head.weight is wte.weight). Each
measurement checks that the second selects exactly the wrapped layers.

Sets:
  calibration  gpt_tiny, llama_tiny (modules.py): the attention projections,
               every linear layer of the blocks, and those with the LM head
               (GPT's tied to the embedding), r 4 and 8, dropout 0 and 0.1,
               (b, s) (2, 16) and (4, 32)
  held-out     HELD_OUT below: other widths, heads, vocabularies, depth,
               an untied head, multi-query attention; other target sets
               (GPT's MLP, LLaMA's q and v), ranks, dropout and (b, s);
               exported to models/ and measured after any rule change the
               calibration set prompted, never used to make one

Writes models/torch/measured_lora.json; with --listing DIR also
DIR/lora_<model>.txt (every saved tensor, as measure.py lists them).

Usage: /usr/bin/python3 models/torch/measure_lora.py [--set calibration|held-out]
           [--no-export] [--listing DIR]
"""

import argparse
import json
import os
import re
import sys
from collections import OrderedDict
from dataclasses import asdict

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import modules  # noqa: E402
from measure import listing, record  # noqa: E402

CALIBRATION = ["gpt_tiny", "llama_tiny"]
HELD_OUT = OrderedDict([
    ("gpt_w112_v640_l3_untied", (modules.GPT, modules.GPTConfig(
        vocab=640, d=112, heads=7, layers=3, tied=False))),
    ("llama_w80_v384_kv1", (modules.Llama, modules.LlamaConfig(
        vocab=384, d=80, heads=5, kv_heads=1, ffn=224, layers=2))),
])

# Target sets per family: (a regex over module names, the regex over the
# ONNX exports' weight names that selects the same layers). A weight is
# named as named_parameters() names it (a tied weight by its first name:
# GPT's lm_head.weight is wte.weight); measure() checks that the second
# matches exactly the wrapped layers' weights.
TARGETS = {
    "gpt": OrderedDict([
        ("attention", (r"h\.[0-9]+\.attn\.c_(attn|proj)",
                       r"h\.[0-9]+\.attn\.c_(attn|proj)\.weight")),
        ("all-linear", (r"h\.[0-9]+\.(attn|mlp)\.c_(attn|proj|fc)",
                        r"h\.[0-9]+\.(attn|mlp)\.c_(attn|proj|fc)\.weight")),
        ("all+head", (r"h\.[0-9]+\.(attn|mlp)\.c_(attn|proj|fc)|lm_head",
                      None)),  # wte.weight when tied, lm_head.weight if not
        ("mlp", (r"h\.[0-9]+\.mlp\.c_(fc|proj)",
                 r"h\.[0-9]+\.mlp\.c_(fc|proj)\.weight")),
    ]),
    "llama": OrderedDict([
        ("attention", (r"layers\.[0-9]+\.self_attn\.[qkvo]_proj",
                       r"layers\.[0-9]+\.self_attn\.[qkvo]_proj\.weight")),
        ("all-linear", (r"layers\.[0-9]+\.(self_attn\.[qkvo]|mlp\.(gate|up|down))_proj",
                        r"layers\.[0-9]+\.(self_attn\.[qkvo]|mlp\.(gate|up|down))_proj\.weight")),
        ("all+head", (r"layers\.[0-9]+\.(self_attn\.[qkvo]|mlp\.(gate|up|down))_proj|lm_head",
                      r"layers\.[0-9]+\.(self_attn\.[qkvo]|mlp\.(gate|up|down))_proj\.weight"
                      r"|lm_head\.weight")),
        ("q,v", (r"layers\.[0-9]+\.self_attn\.[qv]_proj",
                 r"layers\.[0-9]+\.self_attn\.[qv]_proj\.weight")),
    ]),
}
GPT_HEAD = {True: r"|wte\.weight", False: r"|lm_head\.weight"}

# (target sets, (r, alpha) pairs, dropouts, (b, s) points) per set.
GRID = {
    "calibration": (["attention", "all-linear", "all+head"], [(4, 8), (8, 16)],
                    [0.0, 0.1], [(2, 16), (4, 32)]),
    "held-out": ({"gpt": ["attention", "mlp", "all+head"],
                  "llama": ["attention", "q,v", "all+head"]},
                 [(2, 4), (16, 32)], [0.0, 0.05], [(3, 24), (2, 40)]),
}


class LoraLinear(nn.Module):
    """PEFT's LoraLayer for nn.Linear: base(x) + B(A(dropout(x))) * alpha / r."""

    def __init__(self, base, r, alpha, dropout, dropout_cls=modules.Dropout):
        super().__init__()
        self.base_layer = base
        self.lora_dropout = dropout_cls(dropout) if dropout > 0 else nn.Identity()
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = alpha / r

    def forward(self, x):
        result = self.base_layer(x)
        return result + self.lora_B(self.lora_A(self.lora_dropout(x))) * self.scaling


def family(name):
    return name.split("_")[0]


def set_of(name):
    return "held-out" if name in HELD_OUT else "calibration"


def build(name):
    if name in HELD_OUT:
        cls, cfg = HELD_OUT[name]
        torch.manual_seed(0)
        return cls(cfg), asdict(cfg)
    return modules.build(name), modules.config_dict(name)


def add_lora(model, regex, r, alpha, dropout, dropout_cls=modules.Dropout):
    """Freezes every parameter of model, then wraps each nn.Linear whose name
    matches regex; returns the wrapped module names."""
    for p in model.parameters():
        p.requires_grad_(False)
    names = [n for n, m in model.named_modules()
             if isinstance(m, nn.Linear) and re.fullmatch(regex, n)]
    for n in names:
        parent, _, leaf = n.rpartition(".")
        owner = model.get_submodule(parent) if parent else model
        setattr(owner, leaf, LoraLinear(getattr(owner, leaf), r, alpha, dropout,
                                        dropout_cls))
    return names


def unique_params(model):
    seen, out = set(), []
    for p in model.parameters():  # already deduplicated by identity
        if id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    return out


def regexes(name, targets, cfg):
    module_regex, regex = TARGETS[family(name)][targets]
    if regex is None:  # GPT's head: its weight's name depends on the tying
        regex = TARGETS["gpt"]["all-linear"][1] + GPT_HEAD[cfg["tied"]]
    return module_regex, regex


def measure(name, targets, r, alpha, dropout, b, s, dropout_cls=modules.Dropout):
    model, cfg = build(name)
    model = model.float().train()
    inputs = model.example_inputs(b, s)
    module_regex, regex = regexes(name, targets, cfg)
    names = {id(p): n for n, p in model.named_parameters()}  # first name if tied
    torch.manual_seed(2)  # the adapters' initialisation
    wrapped = add_lora(model, module_regex, r, alpha, dropout, dropout_cls)
    weights = sorted(names[id(model.get_submodule(w).base_layer.weight)] for w in wrapped)
    selected = sorted(n for n in set(names.values()) if re.fullmatch(regex, n))
    assert weights == selected, (name, targets, weights, selected)
    model.train()
    params = unique_params(model)
    saved, cats, by_dtype, _ = record(model, inputs)
    extra = {}
    if dropout > 0 and dropout_cls is modules.Dropout:
        # The same point with nn.Dropout, as PEFT on the CPU runs it.
        extra["activation_bytes_cpu_nn_dropout"] = measure(
            name, targets, r, alpha, dropout, b, s, nn.Dropout)[0]["activation_bytes"]
    return OrderedDict(
        model=name, set=set_of(name), config=cfg, dtype="fp32",
        targets=targets, target_modules=wrapped,
        target_module_regex=module_regex, onnx_targets_regex=regex,
        r=r, alpha=alpha, dropout=dropout, b=b, s=s,
        parameters=sum(p.numel() for p in params),
        trainable=sum(p.numel() for p in params if p.requires_grad),
        activation_bytes=cats["activation"]["bytes"],
        activation_storages=cats["activation"]["storages"],
        by_dtype=dict(sorted(by_dtype.items())),
        inputs=cats["input"],
        parameters_saved=cats["parameter"],
        buffers_saved=cats["buffer"],
        scalars_saved=cats["scalar"],
        pack_calls=len(saved),
        **extra,
    ), saved


def points(which):
    names = CALIBRATION if which == "calibration" else list(HELD_OUT)
    target_sets, ranks, dropouts, bs = GRID[which]
    for name in names:
        if isinstance(target_sets, dict):
            target_sets_of = target_sets[family(name)]
        else:
            target_sets_of = target_sets
        for targets in target_sets_of:
            for r, alpha in ranks:
                for p in dropouts:
                    for b, s in bs:
                        yield name, targets, r, alpha, p, b, s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", choices=["calibration", "held-out"], action="append")
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--listing", metavar="DIR")
    args = ap.parse_args()
    torch.set_num_threads(1)
    sets = args.set or ["calibration", "held-out"]
    path = os.path.join(HERE, "measured_lora.json")
    results = []
    if os.path.exists(path):
        with open(path) as f:
            results = [m for m in json.load(f)["measurements"] if m["set"] not in sets]
    if "held-out" in sets and not args.no_export:
        import export
        for name in HELD_OUT:
            model, cfg = build(name)
            export.save_train_export(model, name, cfg, "models/torch/measure_lora.py")
    text = {}
    for pt in (p for which in sets for p in points(which)):
        m, saved = measure(*pt)
        results.append(m)
        print(f"{m['set']:<11} {m['model']:<24} {m['targets']:<10} r={m['r']:<2} "
              f"p={m['dropout']:<4} b={m['b']} s={m['s']}: activations "
              f"{m['activation_bytes']}, parameters {m['parameters']} "
              f"(trainable {m['trainable']})", flush=True)
        if args.listing:
            head = dict(m, model=f"{m['model']} {m['targets']} r={m['r']} "
                                 f"p={m['dropout']}")
            text.setdefault(m["model"], []).append(listing(head, saved))
    order = CALIBRATION + list(HELD_OUT)
    results.sort(key=lambda m: order.index(m["model"]))
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "device": "cpu",
                   "dropout": "torch.native_dropout (bool mask), as nn.Dropout "
                              "on CUDA",
                   "measurements": results}, f, indent=1)
        f.write("\n")
    if args.listing:
        os.makedirs(args.listing, exist_ok=True)
        for name, parts in text.items():
            with open(os.path.join(args.listing, f"lora_{name}.txt"), "w") as f:
                f.write("\n".join(parts))


if __name__ == "__main__":
    main()
