#!/usr/bin/env python3
"""py-spy's options and their cost (#12): the slowdown of a fixed Python workload (one thread
in one function) while py-spy samples it at its default 100 Hz, for the library's argv
(`--native`, which pauses the target for every sample) and for the variants py-spy offers
(`--nonblocking`: reads without pausing, Python frames only, since py-spy refuses
`--native` with it; and plain blocking without `--native`). Slowdown = the target's own
CPU time for the same work, captured / uncaptured, per round (runs interleaved, order
reversed every round); median and min-max over ROUNDS; attribution = share of samples
under the hot function. usage: pyspy_options.py [ROUNDS]"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKLOAD = r"""
import sys, time
def hot_function(n):
    s = 0
    for i in range(n):
        s += i ^ (i >> 3)
    return s
sys.stdin.read(1)
c0 = time.process_time()
hot_function(20_000_000)
print(f"{time.process_time() - c0:.6f}", flush=True)
sys.stdin.read()
"""

VARIANTS = {
    "uncaptured": None,
    "--native (library default)": ["--native"],
    "blocking, no --native": [],
    "--nonblocking": ["--nonblocking"],
}


def one(script: Path, extra, out: Path):
    p = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    spy = None
    try:
        if extra is not None:
            spy = subprocess.Popen(["py-spy", "record", "--format", "raw", "--nolineno", "-r", "100", "-d", "60",
                                    "-p", str(p.pid), "-o", str(out)] + extra,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(1.0)  # py-spy locates the interpreter first; idle samples (stdin) are dropped anyway
        p.stdin.write(b"g")
        p.stdin.flush()
        cpu = float(p.stdout.readline())
        share = None
        if spy:
            spy.send_signal(2)
            spy.wait(timeout=30)
            tot = hot = 0
            for line in out.read_text().splitlines():
                stack, _, n = line.rpartition(" ")
                tot += int(n)
                hot += int(n) if "hot_function" in stack else 0
            share = hot / tot if tot else 0.0
        return cpu, share
    finally:
        p.stdin.close()
        p.wait(timeout=30)


def main() -> int:
    if not shutil.which("py-spy"):
        print("pyspy-options: py-spy is not installed; skipped (scripts/deps.sh installs it)")
        return 0
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    tmp = Path(tempfile.mkdtemp(prefix="sv-bench-pyspy-"))
    try:
        script = tmp / "work.py"
        script.write_text(WORKLOAD)
        cpu = {k: [] for k in VARIANTS}
        share = {k: [] for k in VARIANTS}
        for r in range(rounds):
            order = list(VARIANTS) if r % 2 == 0 else list(reversed(VARIANTS))
            for k in order:
                c, s = one(script, VARIANTS[k], tmp / "out.txt")
                cpu[k].append(c)
                if s is not None:
                    share[k].append(s)
        base = cpu["uncaptured"]
        lines = [f"py-spy options, 100 Hz, {rounds} interleaved rounds; CPU x = target CPU for the same work, "
                 "captured / uncaptured in the same round: median [min-max]; uncaptured work "
                 f"{statistics.median(base):.2f} s CPU"]
        for k in VARIANTS:
            if k == "uncaptured":
                continue
            ratios = sorted(c / b for c, b in zip(cpu[k], base))
            lines.append(f"  {k:28} CPU x {statistics.median(ratios):.3f} [{ratios[0]:.2f}-{ratios[-1]:.2f}]  "
                         f"attribution {min(share[k]):.0%}-{max(share[k]):.0%}")
        text = "\n".join(lines) + "\n"
        print(text, end="")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
