"""Prints each stage's peak from two vram-opt JSON reports of one model with
--pp, one with --micro-batches 1 and one with more, and the differences:
a stage holding k micro-batches in flight peaks k - 1 times its saved bytes
of one micro-batch above the same stage with one in flight (1F1B)."""
import json
import sys

one, more = (json.load(open(p)) for p in sys.argv[1:3])
for i, (a, b) in enumerate(zip(one["stages"], more["stages"])):
    extra = b["peak"] - a["peak"]
    expect = (b["in_flight"] - 1) * b["saved_per_micro_batch"]
    print("stage %d in_flight %d extra %d expected %d %s"
          % (i, b["in_flight"], extra, expect,
             "ok" if extra == expect else "MISMATCH"))
