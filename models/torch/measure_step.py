#!/usr/bin/python3
"""Measures whole training steps with a loss, for the peak's agreement test.

For each model (the calibration models gpt_tiny and llama_tiny of
modules.py, and HELD_OUT: other widths, vocabularies, a head that is not
tied to the embedding, set apart before any rule was written for the loss),
each (batch, seq) point and each loss:

  mean           loss = logits.mean()
  cross-entropy  loss = F.cross_entropy(logits.float().view(-1, V),
                                        labels.view(-1))   (Hugging Face)

one training step is measured on the CPU in fp32 with torch.profiler's
allocation events (the method of measure_timeline.py): the peak above the
parameters in the forward (the loss included) and in the backward, with
SGD (no state; parameter gradients included, as they are allocated in the
backward), and with Adam the peak of the whole step (forward, backward and
optimizer.step(), the second step, when Adam's state exists) above the
parameters and that state. The labels are an input, live from the start,
as vram-opt's labels input is.

Exports the held-out models (training mode, opset 17, weights stripped) to
models/<name>_train_op17.onnx. Writes models/torch/measured_step.json.

Usage: /usr/bin/python3 models/torch/measure_step.py [MODEL ...]
"""

import json
import os
import sys
from collections import OrderedDict

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import modules  # noqa: E402
from measure_timeline import flatten, storage_bytes  # noqa: E402

HELD_OUT = OrderedDict([
    ("gpt_w96_v512_untied", (modules.GPT, modules.GPTConfig(
        vocab=512, d=96, heads=4, layers=2, tied=False))),
    ("gpt_w128_v1024", (modules.GPT, modules.GPTConfig(
        vocab=1024, d=128, heads=8, layers=2))),
    ("llama_w96_v768", (modules.Llama, modules.LlamaConfig(
        vocab=768, d=96, heads=6, kv_heads=2, ffn=256, layers=2))),
])
# A second held-out set, configured and measured only after the rules that
# the first one prompted (the logits' lifetime, Adam's temporaries) were
# written, at other points too.
HELD_OUT_2 = OrderedDict([
    ("gpt_w160_v2048_l3", (modules.GPT, modules.GPTConfig(
        vocab=2048, d=160, heads=5, layers=3, tied=True))),
    ("llama_w128_v1536_kv4", (modules.Llama, modules.LlamaConfig(
        vocab=1536, d=128, heads=8, kv_heads=4, ffn=352, layers=3))),
])
CALIBRATION = ["gpt_tiny", "llama_tiny"]
POINTS = [(2, 16), (4, 32)]
POINTS_2 = [(3, 24), (2, 48)]
LOSSES = ["mean", "cross-entropy"]


def config(name):
    return HELD_OUT.get(name) or HELD_OUT_2.get(name)


def set_of(name):
    if name in HELD_OUT:
        return "held-out"
    if name in HELD_OUT_2:
        return "held-out-2"
    return "calibration"


def build(name):
    torch.manual_seed(0)
    if config(name):
        cls, cfg = config(name)
        return cls(cfg)
    return modules.build(name)


def loss_of(logits, labels, kind):
    if kind == "mean":
        return logits.mean()
    v = logits.shape[-1]
    return F.cross_entropy(logits.float().view(-1, v), labels.view(-1))


def run(model, inputs, labels, kind, opt):
    """One step under the profiler: (allocation events, top-level ops,
    the time the backward starts, the time the optimizer step starts)."""
    rf_bwd = torch.autograd.profiler.record_function("## backward ##")
    rf_opt = torch.autograd.profiler.record_function("## optimizer ##")
    rf_end = torch.autograd.profiler.record_function("## end ##")
    torch.manual_seed(1)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU],
                                profile_memory=True) as prof:
        loss = loss_of(model(*inputs), labels, kind)
        with rf_bwd:
            pass
        loss.backward()
        del loss
        with rf_opt:
            pass
        if opt is not None:
            opt.step()
        with rf_end:
            pass
    allocs, ops = flatten(prof.profiler.kineto_results.experimental_event_tree())
    marks = {name: start for name, start, _ in ops if name.startswith("## ")}
    return allocs, marks


def peaks(allocs, marks, start_live):
    live, out = start_live, {"forward": start_live, "backward": 0, "optimizer": 0}
    for t, size, _ in allocs:
        live += size
        if t >= marks["## end ##"]:
            break
        phase = ("forward" if t < marks["## backward ##"] else
                 "backward" if t < marks["## optimizer ##"] else "optimizer")
        out[phase] = max(out[phase], live)
    return out


def measure_model(model, b, s, kind, optimizer):
    """The figures of one step of MODEL (fp32, training mode, built): the
    bytes of the parameters (with buffers), of Adam's state and of the
    inputs, and the peaks above the parameters per phase. Adam updates the
    parameters that require a gradient (all of them, unless some are
    frozen)."""
    inputs = model.example_inputs(b, s)
    vocab = model.config.vocab
    labels = torch.randint(0, vocab, (b, s))
    param_bytes = storage_bytes(list(model.parameters()) + list(model.buffers()))
    start = storage_bytes(list(inputs) + [labels])
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = (torch.optim.Adam(trainable, lr=1e-4) if optimizer == "adam"
           else None)
    for _ in range(2):  # warm-up; Adam's state is created by the first step
        for p in model.parameters():
            p.grad = None
        run(model, inputs, labels, kind, opt)
    state = 0
    if opt is not None:
        state = storage_bytes([t for st in opt.state.values() for t in st.values()
                               if torch.is_tensor(t) and t.dim() > 0])
    for p in model.parameters():
        p.grad = None
    allocs, marks = run(model, inputs, labels, kind, opt)
    pk = peaks(allocs, marks, start)
    return OrderedDict(
        parameter_bytes=param_bytes, optimizer_state_bytes=state,
        input_bytes=start,
        forward_above_parameters=pk["forward"],
        backward_above_parameters=pk["backward"],
        step_above_parameters_and_state=max(pk.values()))


def measure(name, b, s, kind, optimizer):
    model = build(name).float().train()
    figures = measure_model(model, b, s, kind, optimizer)
    return OrderedDict(
        model=name, set=set_of(name),
        b=b, s=s, loss=kind, optimizer=optimizer, dtype="fp32", **figures)


def export_held_out(name):
    import export
    export.save_train_export(build(name), name, config(name)[1],
                             "models/torch/measure_step.py")


def main():
    torch.set_num_threads(1)
    only = sys.argv[1:]  # model names; the others keep their measurements
    path = os.path.join(HERE, "measured_step.json")
    results = []
    if only and os.path.exists(path):
        with open(path) as f:
            results = [r for r in json.load(f)["measurements"]
                       if r["model"] not in only]
    names = CALIBRATION + list(HELD_OUT) + list(HELD_OUT_2)
    for name in names:
        if only and name not in only:
            continue
        if config(name):
            export_held_out(name)
        for b, s in (POINTS_2 if name in HELD_OUT_2 else POINTS):
            for kind in LOSSES:
                for optimizer in ("sgd", "adam"):
                    r = measure(name, b, s, kind, optimizer)
                    results.append(r)
                    print(f"{r['set']:<11} {name:<20} b={b} s={s} {kind:<13} "
                          f"{optimizer:<4} fwd {r['forward_above_parameters']} "
                          f"bwd {r['backward_above_parameters']} step "
                          f"{r['step_above_parameters_and_state']}", flush=True)
    results.sort(key=lambda r: names.index(r["model"]))
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "device": "cpu", "threads": 1,
                   "method": "torch.profiler profile_memory=True, CPU allocator "
                             "events (models/torch/measure_step.py)",
                   "measurements": results}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
