"""Streaming and save-path benchmark (#19), side by side in one run; every figure is a ratio
against the plain thing a user would run instead, measured interleaved in the same process.

1. `spikevault list` of LIST_ROWS captures (stdout a pipe) vs the sqlite3 CLI printing the
   same columns of the same join; `spikevault list` of one capture, wall time.
2. `spikevault export --format ndjson|csv` of EXPORT_ROWS captures, redacted, vs
   `sqlite3 -json`/`-csv` of the same join, unredacted.
3. Save rate (64-byte artefact, durability 0) into a vault holding BIG captures (with their
   files) vs into an empty one, footprint budget off and on.
4. `save_many` of 100 records vs the same 100 saved one by one (Python, default durability).

Times are medians of REPEAT runs. Sizes: LIST_ROWS=20000 EXPORT_ROWS=100000 BIG=200000.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bindings" / "python"))
import spikevault  # noqa: E402

LIST_ROWS = int(os.environ.get("LIST_ROWS", "20000"))
EXPORT_ROWS = int(os.environ.get("EXPORT_ROWS", "100000"))
BIG = int(os.environ.get("BIG", "200000"))
REPEAT = int(os.environ.get("REPEAT", "3"))
SQLITE = shutil.which("sqlite3")
ENV = dict(os.environ, PYTHONPATH=str(ROOT / "bindings" / "python"), PAGER="cat", NO_COLOR="1")
CLI = [sys.executable, "-m", "spikevault"]

JOIN = """SELECT c.id, c.capturedAt, c.processName, c.pid, c.triggerMetric, c.triggerValue, c.durationSeconds,
    c.storedBytes, c.status, group_concat(a.kind) FROM profile_capture c LEFT JOIN capture_artefact a ON a.captureId = c.id
    GROUP BY c.id ORDER BY c.capturedAt, c.id"""
EXPORT_JOIN = """SELECT c.*, json_group_array(json_object('kind', a.kind, 'path', a.path, 'rawBytes', a.rawBytes,
    'storedBytes', a.storedBytes, 'checksum', a.checksum)) AS artefacts FROM profile_capture c
    LEFT JOIN capture_artefact a ON a.captureId = c.id GROUP BY c.id ORDER BY c.capturedAt, c.id"""


def fill(path: Path, n: int, files: bool = False) -> None:
    """n captures by direct SQL (one artefact row each); with `files`, the artefact files too."""
    spikevault.Vault(path, durability=0, max_age_seconds=0, maintenance_interval_seconds=0).close()
    db = sqlite3.connect(path / "vault.sqlite3")
    now_s = int(time.time()) - 3600
    with db:
        db.execute(f"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
            INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt,
                durationSeconds, notes, status, profilePath, storedBytes, rawBytes)
            SELECT 'proc-' || (i % 97), 1000 + i % 5000, 'cpu', i % 100,
                strftime('%Y-%m-%d %H:%M:%fZ', {now_s} - {n} + i, 'unixepoch'), 1.5,
                '{{"capture":{{"backend":"procfs","cmdline":["/home/alice/app","--token","s3cr3t"]}},"i":' || i || '}}',
                'complete', 'c-' || i || '.oncpu.folded.zst', 70, 64
            FROM n""")
        db.execute("""
            INSERT INTO capture_artefact (captureId, kind, path, rawBytes, storedBytes, checksum)
            SELECT id, 'oncpu.folded', 'c-' || id || '.oncpu.folded.zst', 64, 70, 'xxh64:0123456789abcdef'
            FROM profile_capture""")
    db.close()
    if files:
        art = path / "artefacts"
        blob = b"\x28\xb5\x2f\xfd" + b"x" * 66
        for i in range(1, n + 1):
            fd = os.open(art / f"c-{i}.oncpu.folded.zst", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, blob)
            os.close(fd)


def run(argv, **kw) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True, env=ENV, **kw)
    return time.perf_counter() - t0


def interleaved(a, b, repeat=REPEAT):
    ta, tb = [], []
    for r in range(repeat):
        for side in ((a, ta), (b, tb)) if r % 2 == 0 else ((b, tb), (a, ta)):
            side[1].append(side[0]())
    return statistics.median(ta), statistics.median(tb)


def line(name: str, ours: float, theirs: float, target: str) -> None:
    print(f"{name:<58} {ours * 1000:9.1f} ms vs {theirs * 1000:9.1f} ms  ratio {ours / theirs:6.2f}x  (target {target})", flush=True)


def bench_list(work: Path) -> None:
    v = work / "list"
    fill(v, LIST_ROWS)
    ours, theirs = interleaved(lambda: run(CLI + ["--vault", str(v), "list"]),
                               lambda: run([SQLITE, str(v / "vault.sqlite3"), JOIN]))
    line(f"spikevault list ({LIST_ROWS} captures) vs sqlite3 CLI", ours, theirs, "<= 1.5x")
    one = work / "one"
    fill(one, 1)
    wall = statistics.median(run(CLI + ["--vault", str(one), "list"]) for _ in range(max(REPEAT, 5)))
    print(f"{'spikevault list (1 capture), wall':<58} {wall * 1000:9.1f} ms  (target <= 150 ms)", flush=True)


def bench_export(work: Path) -> None:
    v = work / "export"
    fill(v, EXPORT_ROWS)
    for fmt, flag in (("ndjson", "-json"), ("csv", "-csv")):
        sql = EXPORT_JOIN if fmt == "ndjson" else JOIN
        ours, theirs = interleaved(lambda: run(CLI + ["--vault", str(v), "export", "--format", fmt]),
                                   lambda: run([SQLITE, flag, str(v / "vault.sqlite3"), sql]))
        line(f"export --format {fmt} ({EXPORT_ROWS}, redacted) vs sqlite3 {flag}", ours, theirs, "<= 1.5x")


def save_rate(vault: spikevault.Vault, n: int, start: int) -> float:
    base = datetime.now(timezone.utc) - timedelta(minutes=30)
    t0 = time.perf_counter()
    for i in range(n):
        vault.save(process_name="bench", pid=4242, metric="cpu", value=1.0, captured_at=base + timedelta(milliseconds=start + i),
                   artefacts={"oncpu.folded": b"main;work;hot %d\n" % (start + i) + b"x" * 40})
    return n / (time.perf_counter() - t0)


def bench_save_scaling(work: Path) -> None:
    big = work / "big"
    fill(big, BIG, files=True)
    for budget, label in ((0, "budget off"), (50_000_000_000, "budget on (50 GB, far)")):
        empty_dir = work / f"empty-{budget}"
        n = 1000
        rates_big, rates_empty = [], []
        with spikevault.Vault(big, durability=0, max_age_seconds=0, maintenance_interval_seconds=0,
                              max_footprint_bytes=budget) as vb, \
                spikevault.Vault(empty_dir, durability=0, max_age_seconds=0, maintenance_interval_seconds=0,
                                 max_footprint_bytes=budget) as ve:
            for r in range(REPEAT):
                for vault, rates in ((vb, rates_big), (ve, rates_empty)) if r % 2 == 0 else ((ve, rates_empty), (vb, rates_big)):
                    rates.append(save_rate(vault, n, r * n + (0 if vault is vb else 0)))
        b, e = statistics.median(rates_big), statistics.median(rates_empty)
        print(f"{'save rate into ' + str(BIG) + ' captures vs empty, ' + label:<58} {b:9.0f} /s vs {e:9.0f} /s  ratio {b / e:6.2f}x  (target >= 0.8x)", flush=True)


def bench_save_many(work: Path) -> None:
    base = datetime.now(timezone.utc) - timedelta(minutes=10)
    payload = [b"main;work;%d 1\n" % i * 50 for i in range(100)]

    def items(k):
        return [dict(process_name="bench", pid=4242, metric="cpu", value=1.0, captured_at=base + timedelta(milliseconds=k * 100 + i),
                     artefacts={"oncpu.folded": payload[i]}) for i in range(100)]

    with spikevault.Vault(work / "many", max_age_seconds=0, maintenance_interval_seconds=0) as vm, \
            spikevault.Vault(work / "single", max_age_seconds=0, maintenance_interval_seconds=0) as vs:
        k = [0]

        def many():
            k[0] += 1
            t0 = time.perf_counter()
            vm.save_many(items(k[0]))
            return time.perf_counter() - t0

        def single():
            k[0] += 1
            batch = items(k[0])
            t0 = time.perf_counter()
            for it in batch:
                vs.save(**it)
            return time.perf_counter() - t0

        tm, ts = interleaved(many, single, repeat=max(REPEAT, 5))
    print(f"{'save_many(100) vs 100 x save (default durability)':<58} {tm * 1000:9.1f} ms vs {ts * 1000:9.1f} ms  speed-up {ts / tm:6.2f}x  (target >= 3x)", flush=True)


def main() -> None:
    if SQLITE is None:
        print("skipped: no sqlite3 CLI")
    cases = sys.argv[1:] or ["list", "export", "save_many", "save_scaling"]
    # An installed package is byte-compiled (pip, the .deb); a source tree under
    # PYTHONDONTWRITEBYTECODE=1 would compile every module on every start instead.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "bindings" / "python" / "spikevault")],
                   check=True, stdout=subprocess.DEVNULL)
    print("(the spikevault package byte-compiled first, as an installed one is)", flush=True)
    with tempfile.TemporaryDirectory(prefix="sv-stream-bench-", dir=os.environ.get("BENCH_DIR")) as d:
        work = Path(d)
        if "list" in cases and SQLITE:
            bench_list(work)
        if "export" in cases and SQLITE:
            bench_export(work)
        if "save_many" in cases:
            bench_save_many(work)
        if "save_scaling" in cases:
            bench_save_scaling(work)


if __name__ == "__main__":
    main()
