#!/usr/bin/env python3
"""Checks a file against the Trace Event format's required fields: a JSON
object with a traceEvents list; every event has name, ph, pid, tid and (but
metadata) a numeric ts; complete events ("X") a numeric dur; counter events
("C") an args object of numbers. Prints a summary line."""
import json
import sys

doc = json.load(open(sys.argv[1]))
events = doc["traceEvents"]
assert isinstance(events, list) and events, "no events"
kinds = {}
for e in events:
    for key in ("name", "ph", "pid", "tid"):
        assert key in e, f"event without {key}: {e}"
    ph = e["ph"]
    kinds[ph] = kinds.get(ph, 0) + 1
    if ph != "M":
        assert isinstance(e["ts"], (int, float)), f"bad ts: {e}"
    if ph == "X":
        assert isinstance(e["dur"], (int, float)), f"bad dur: {e}"
    if ph == "C":
        assert e["args"] and all(isinstance(v, (int, float))
                                 for v in e["args"].values()), f"bad counter: {e}"
    assert ph in "XCMBEiI", f"unexpected phase {ph}"
print("valid trace:", ", ".join(f"{k}={kinds[k]}" for k in sorted(kinds)))
