"""Shared by the check_*.py scripts that compare vram-opt with figures
measured in PyTorch: running vram-opt on an export, and counting the
comparisons per set (calibration, held-out, ...). Standard library only."""
import json
import subprocess


def vram_opt(path, b, s, flags):
    """Runs vram-opt PATH --dim batch=B --dim seq=S FLAGS... --format=json.
    Returns (the JSON report, None), or (None, why it failed)."""
    cmd = ["vram-opt", path, "--dim", f"batch={b}", "--dim", f"seq={s}",
           *flags, "--format=json"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return None, f"vram-opt exited {p.returncode}: {p.stderr.strip()}"
    return json.loads(p.stdout), None


def relative(want, got):
    return (got - want) / want


class Tally:
    """Comparisons per set: how many, how many failed, the worst relative
    error (and the comparison it came from). A vram-opt run that failed is
    a failure outside the sets."""

    def __init__(self):
        self.sets = {}
        self.failures = 0

    def error(self, name, why):
        print(f"FAIL {name}: {why}")
        self.failures += 1

    def add(self, set_name, err, ok, label=""):
        st = self.sets.setdefault(set_name, [0, 0, 0.0, ""])
        st[0] += 1
        st[1] += not ok
        if abs(err) >= st[2]:
            st[2], st[3] = abs(err), label
        self.failures += not ok

    def compare(self, set_name, name, want, got, tolerance):
        """Adds one comparison of got with want, prints its line, returns
        whether it is within tolerance."""
        err = relative(want, got)
        ok = abs(err) <= tolerance
        self.add(set_name, err, ok, name)
        print(f"{'ok  ' if ok else 'FAIL'} {name}: measured {want}, "
              f"predicted {got} ({err:+.2%})")
        return ok

    def summary(self, noun, show_worst=False):
        """One line per set, sorted by name:
        SET: N NOUN, F failed, worst error E% [(at the worst comparison)]."""
        for s in sorted(self.sets):
            n, bad, worst, label = self.sets[s]
            at = f" ({label})" if show_worst and label else ""
            print(f"{s}: {n} {noun}, {bad} failed, worst error {worst:.2%}{at}")

    def exit_code(self):
        return 1 if self.failures or not self.sets else 0
