"""Capture fidelity benchmark (#12), side by side in one run: the slowdown of a fixed CPU
workload while it is captured, and the attribution and sample density each backend gives.

  C workload (bench/capture/target.c `work`, two threads):   uncaptured | perf @ 999 Hz | eu-stack @ 10 Hz
  Python workload (one thread in one function):              uncaptured | py-spy @ 100 Hz (default) | perf @ 999 Hz

Runs alternate (uncaptured, then each backend) ROUNDS times; medians are reported. Each
target waits on stdin and starts its work once the capture's tool is sampling (perf has forked
its `sleep`, py-spy or eu-stack runs), so the capture covers the whole work. The
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
sys.stdin.read(1)  # the bench writes a byte once its capture is sampling
t = time.monotonic()
for _ in range(int(sys.argv[1])):
    spikevault_bench_py_hot(100000)
print(time.monotonic() - t, flush=True)
"""

CAPTURE_SECONDS = 120.0  # longer than any work: a capture ends when its target exits
CPU_SECONDS = 1.5  # the work is sized to this much CPU time of the target (not wall: the machine may be loaded)


def _children() -> List[int]:
    out: List[int] = []
    for tid in os.listdir("/proc/self/task"):
        try:
            out += [int(p) for p in Path(f"/proc/self/task/{tid}/children").read_text().split()]
        except OSError:
            pass
    return out


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _sampling(tool: str) -> bool:
    """Whether the library's tool has started sampling: perf has forked its `sleep`, py-spy
    and eu-stack run."""
    for pid in _children():
        if _comm(pid) == tool:
            if tool != "perf":
                return True
            try:
                kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            if any(_comm(int(k)) == "sleep" for k in kids):
                return True
    return False


def run_once(argv: List[str], vault: Optional[spikevault.Vault], backend: Optional[str], rate: Optional[float],
             hot: str) -> Dict[str, float]:
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    future = None
    if vault is not None and backend is not None:
        future = vault.capture_async(proc.pid, backend=backend, duration=CAPTURE_SECONDS, rate=rate)
        end = time.monotonic() + 60
        while not _sampling(backend) and time.monotonic() < end and not future.done():
            time.sleep(0.01)
        time.sleep(0.3 if backend == "py-spy" else 0.05)  # py-spy reads the interpreter's layout first
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("g")
    proc.stdin.close()
    out = proc.stdout.read()
    _, _, ru = os.wait4(proc.pid, 0)
    proc.returncode = 0
    res: Dict[str, float] = {"wall": float(out.strip() or "nan"), "cpu": ru.ru_utime + ru.ru_stime}
    if future is not None:
        rec = future.result(timeout=CAPTURE_SECONDS + 120)
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
                   per_wall=total / res["wall"] if res["wall"] > 0 else 0.0,
                   per_cpu=total / res["cpu"] if res["cpu"] > 0 else 0.0)
    return res


def median(rows: List[Dict[str, float]], key: str) -> float:
    vals = [r[key] for r in rows if key in r]
    return statistics.median(vals) if vals else float("nan")


def suite(title: str, make_argv, configs: List[Tuple[str, Optional[str], Optional[float]]], vault,
          hot: str, rounds: int) -> None:
    rows: Dict[str, List[Dict[str, float]]] = {label: [] for label, _, _ in configs}
    for _ in range(rounds):
        for label, backend, rate in configs:
            rows[label].append(run_once(make_argv(), vault if backend else None, backend, rate, hot))
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
        # C workload sized to CPU_SECONDS of target CPU.
        probe = 100_000_000
        cpu = run_once([target, "work", str(probe), "stdin"], None, None, None, "")["cpu"]
        its = int(probe * CPU_SECONDS / cpu) if cpu > 0 else probe
        c_configs: List[Tuple[str, Optional[str], Optional[float]]] = [("uncaptured", None, None)]
        if shutil.which("perf"):
            c_configs.append(("perf @ 999 Hz", "perf", 999.0))
        if shutil.which("eu-stack"):
            c_configs.append(("eu-stack @ 10 Hz", "eu-stack", 10.0))
        suite("C", lambda: [target, "work", str(its), "stdin"], c_configs, vault, "bench_hot_work", rounds)
        # Python workload sized likewise.
        script = work / "bench_py_work.py"
        script.write_text(PY_WORK)
        cpu = run_once([sys.executable, str(script), "10"], None, None, None, "")["cpu"]
        n = max(1, int(10 * CPU_SECONDS / cpu)) if cpu > 0 else 10
        py_configs: List[Tuple[str, Optional[str], Optional[float]]] = [("uncaptured", None, None)]
        if shutil.which("py-spy"):
            py_configs.append(("py-spy @ 100 Hz", "py-spy", None))
        else:
            print("capture-fidelity/python: py-spy is not installed; skipped (scripts/deps.sh installs it)")
        if shutil.which("perf"):
            py_configs.append(("perf @ 999 Hz", "perf", 999.0))
        suite("python", lambda: [sys.executable, str(script), str(n)], py_configs, vault, "spikevault_bench_py_hot", rounds)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
