"""spikevault serve on a vault of N captures (default 100,000, filled with save_many): the time
to the first page of the anomalies list (HTTP GET of the rendered HTML, median of REPEAT,
and the very first request) beside the simplest alternative, the sqlite3 CLI printing the same
page of rows as HTML (`sqlite3 -html ... LIMIT page`), as a ratio; and the server's RSS
(VmHWM) on N captures beside the same server on SMALL captures (bounded memory: ratio ~1).
Usage: make bench-serve [N=100000] [REPEAT=7]"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bindings" / "python"))
import spikevault  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else int(os.environ.get("N", "100000"))
SMALL = 1000
REPEAT = int(os.environ.get("REPEAT", "7"))
PAGE = 50
SQL = (f"SELECT id, capturedAt, processName, pid, triggerMetric, triggerValue, status, storedBytes "
       f"FROM profile_capture ORDER BY capturedAt DESC, id DESC LIMIT {PAGE}")
SERVER = """
import sys, spikevault, threading
v = spikevault.Vault(sys.argv[1], create=False, maintenance_interval_seconds=0)
s = spikevault.serve(v, page_size=%d)
print(s.url, flush=True)
sys.stdin.read()
s.stop(); v.close()
""" % PAGE


def fill(path: Path, n: int) -> None:
    base = datetime.now(timezone.utc) - timedelta(hours=1)
    with spikevault.Vault(path, durability=0, max_age_seconds=0, maintenance_interval_seconds=0) as v:
        for start in range(0, n, 10_000):
            v.save_many([{"process_name": f"proc-{i % 97}", "pid": 1000 + i % 5000, "metric": "cpu",
                          "value": float(i % 100), "captured_at": base + timedelta(milliseconds=i),
                          "artefacts": {"oncpu.folded": b"main;work %d\n" % (i % 50 + 1)}}
                         for i in range(start, min(n, start + 10_000))])


def vm(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def serve_and_measure(path: Path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "bindings" / "python"))
    p = subprocess.Popen([sys.executable, "-c", SERVER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True, env=env)
    try:
        url = p.stdout.readline().strip()
        base, token = url.split("/?token=")
        cookie = {"Cookie": f"spikevault_token={token}"}

        def get() -> float:
            t0 = time.perf_counter()
            with urllib.request.urlopen(urllib.request.Request(base + "/", headers=cookie)) as r:
                body = r.read()
            assert body.count(b"<tr data-id=") == PAGE, "not a full page"
            return time.perf_counter() - t0

        first = get()
        times = [get() for _ in range(REPEAT)]
        return first, times, vm(p.pid, "VmHWM")
    finally:
        p.stdin.close()
        p.wait(timeout=30)


def sqlite_html(path: Path) -> float:
    t0 = time.perf_counter()
    out = subprocess.run([shutil.which("sqlite3"), "-html", str(path / "vault.sqlite3"), SQL],
                         capture_output=True, check=True).stdout
    assert out.count(b"<TR>") == PAGE
    return time.perf_counter() - t0


def main() -> None:
    if not shutil.which("sqlite3"):
        sys.exit("bench-serve: the sqlite3 CLI is missing (scripts/deps.sh installs it)")
    work = Path(tempfile.mkdtemp(prefix="sv-bench-serve-"))
    try:
        big, small = work / "big", work / "small"
        t0 = time.perf_counter()
        fill(big, N)
        print(f"filled {N} captures with save_many in {time.perf_counter() - t0:.1f} s", flush=True)
        fill(small, SMALL)
        first, times, rss_big = serve_and_measure(big)
        _, _, rss_small = serve_and_measure(small)
        sql = statistics.median(sqlite_html(big) for _ in range(REPEAT))
        ours = statistics.median(times)
        print(f"serve first page ({N} captures, {PAGE} rows), median of {REPEAT}: {ours * 1000:8.1f} ms "
              f"(very first request {first * 1000:.1f} ms; target < 300 ms)")
        print(f"  vs sqlite3 -html of the same page (process start included): {sql * 1000:8.1f} ms  "
              f"ratio {ours / sql:5.2f}x")
        print(f"server VmHWM on {N} captures: {rss_big / 2**20:6.1f} MiB vs on {SMALL}: {rss_small / 2**20:6.1f} MiB  "
              f"ratio {rss_big / rss_small:5.2f}x (bounded by the page: ~1x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
