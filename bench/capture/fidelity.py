"""Capture fidelity benchmark (#12), side by side in one run: the slowdown of a fixed CPU
workload while it is captured, and the attribution and sample density each backend gives.

  C workload (bench/capture/target.c `work`, two threads):   uncaptured | perf @ 999 Hz | eu-stack @ 10 Hz
  Python workload (one thread in one function):              uncaptured | py-spy @ 100 Hz (default) | perf @ 999 Hz

Runs alternate (uncaptured, then each backend) ROUNDS times; medians are reported. The
slowdown is given for the work's wall time and for the target's own CPU time (wait4 rusage):
on a loaded machine wall time is mostly noise, the CPU time is what a capture adds to the
target. Attribution = share of on-CPU samples whose stack holds the hot function; density =
samples per second of wall and per CPU-second the target used.

usage: fidelity.py TARGET_BINARY WORK_DIR [ROUNDS]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import spikevault

PY_WORK = r"""
import sys, time
def spikevault_bench_py_hot(n):
    s = 0
    for i in range(n):
        s += i * i
    return s
time.sleep(float(sys.argv[2]))
t = time.monotonic()
for _ in range(int(sys.argv[1])):
    spikevault_bench_py_hot(100000)
print(time.monotonic() - t, flush=True)
"""

DELAY = 0.3  # the target sleeps this long before its work, so the capture covers all of it


def run_once(argv: List[str], vault: Optional[spikevault.Vault], backend: Optional[str], rate: Optional[float],
             capture_seconds: float, hot: str) -> Dict[str, float]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    future = None
    if vault is not None and backend is not None:
        future = vault.capture_async(proc.pid, backend=backend, duration=capture_seconds, rate=rate)
    out = proc.stdout.read() if proc.stdout else ""
    _, _, ru = os.wait4(proc.pid, 0)
    proc.returncode = 0
    res: Dict[str, float] = {"wall": float(out.strip() or "nan"), "cpu": ru.ru_utime + ru.ru_stime}
    if future is not None:
        rec = future.result(timeout=capture_seconds + 120)
        stats = rec.notes["capture"]["stats"].get(backend, {})
        folded = ""
        try:
            folded = vault.read_artefact(rec.id, "oncpu.folded").decode()
        except spikevault.SpikeVaultError:
            pass
        total = hit = 0
        for line in folded.splitlines():
            stack, _, n = line.rpartition(" ")
            total += int(n)
            if any(hot in f for f in stack.split(";")):
                hit += int(n)
        res.update(samples=float(total), attribution=hit / total if total else 0.0,
                   per_wall=stats.get("achievedRateHz", 0.0), per_cpu=total / res["cpu"] if res["cpu"] > 0 else 0.0)
    return res


def median(rows: List[Dict[str, float]], key: str) -> float:
    vals = [r[key] for r in rows if key in r]
    return statistics.median(vals) if vals else float("nan")


def suite(title: str, make_argv, configs: List[Tuple[str, Optional[str], Optional[float]]], vault, capture_seconds: float,
          hot: str, rounds: int) -> None:
    rows: Dict[str, List[Dict[str, float]]] = {label: [] for label, _, _ in configs}
    for _ in range(rounds):
        for label, backend, rate in configs:
            rows[label].append(run_once(make_argv(), vault if backend else None, backend, rate, capture_seconds, hot))
    base_w, base_c = median(rows[configs[0][0]], "wall"), median(rows[configs[0][0]], "cpu")
    print(f"capture-fidelity/{title}: medians of {rounds} alternating runs")
    for label, backend, _ in configs:
        w, c = median(rows[label], "wall"), median(rows[label], "cpu")
        line = f"  {label:<22} wall {w:7.3f} s ({100 * (w / base_w - 1):+5.1f}%)  target CPU {c:7.3f} s ({100 * (c / base_c - 1):+5.1f}%)"
        if backend:
            line += (f"  samples {median(rows[label], 'samples'):7.0f}  attribution {100 * median(rows[label], 'attribution'):5.1f}%"
                     f"  {median(rows[label], 'per_wall'):7.1f} samples/s wall  {median(rows[label], 'per_cpu'):7.1f} per CPU-s")
        print(line, flush=True)


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    target, work = sys.argv[1], Path(sys.argv[2])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    print(f"capture-fidelity: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    with spikevault.Vault(work / "vault", durability=0, capture_cooldown_seconds=0) as vault:
        # C workload sized to ~1.5 s uncaptured.
        probe = 200_000_000
        t = run_once([target, "work", str(probe), "0"], None, None, None, 0, "")["wall"]
        its = int(probe * 1.5 / t) if t > 0 else probe
        c_configs = [("uncaptured", None, None)]
        if shutil.which("perf"):
            c_configs.append(("perf @ 999 Hz", "perf", 999.0))
        if shutil.which("eu-stack"):
            c_configs.append(("eu-stack @ 10 Hz", "eu-stack", 10.0))
        suite("C", lambda: [target, "work", str(its), str(int(DELAY * 1000))], c_configs, vault,
              DELAY + 3 * 1.5 + 2, "bench_hot_work", rounds)
        # Python workload sized to ~1.5 s uncaptured.
        script = work / "bench_py_work.py"
        script.write_text(PY_WORK)
        t = run_once([sys.executable, str(script), "20", "0"], None, None, None, 0, "")["wall"]
        n = max(1, int(20 * 1.5 / t)) if t > 0 else 20
        py_configs = [("uncaptured", None, None)]
        if shutil.which("py-spy"):
            py_configs.append(("py-spy @ 100 Hz", "py-spy", None))
        else:
            print("capture-fidelity/python: py-spy is not installed; skipped (scripts/deps.sh installs it)")
        if shutil.which("perf"):
            py_configs.append(("perf @ 999 Hz", "perf", 999.0))
        suite("python", lambda: [sys.executable, str(script), str(n), str(DELAY)], py_configs, vault,
              DELAY + 3 * 1.5 + 2, "spikevault_bench_py_hot", rounds)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
