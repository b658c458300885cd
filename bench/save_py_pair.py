"""Benchmark (b): saving N records, each with a 4 KiB artefact, through the Python binding at
the library's default durability, against the same protocol done by hand with the standard
sqlite3 module and zstandard (save_py_raw.RawStore). Both run in this one process,
interleaved in batches of 50 records in alternating order, into two vaults side by side, so
disk and machine noise fall on both alike.

Usage: save_py_pair.py DIR N   prints "library_records_per_s X", "raw_records_per_s Y" and
"checksum NAME", or "skipped: REASON" (exit 3).
"""
import os
import sys
import time
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bindings", "python"))
sys.path.insert(0, HERE)
from content import BASE_MS, gen_content  # noqa: E402

try:
    import spikevault
    from save_py_raw import CHECKSUM, RawStore
except Exception as exc:  # the binding or zstandard missing: the rest of the benchmark goes on
    print(f"skipped: {exc!r}")
    sys.exit(3)

BATCH = 50


def main() -> None:
    path, n = sys.argv[1], int(sys.argv[2])
    os.makedirs(path, exist_ok=True)
    base = datetime.fromtimestamp(BASE_MS / 1000, tz=timezone.utc)
    contents = [gen_content(4096, i) for i in range(n)]  # generated outside the timed loops
    times = [base + timedelta(milliseconds=i) for i in range(n)]
    raw = RawStore(os.path.join(path, "raw"))
    lib_ns = raw_ns = 0
    with spikevault.Vault(os.path.join(path, "library")) as vault:
        for start in range(0, n, BATCH):
            batch = range(start, min(start + BATCH, n))
            order = ("library", "raw") if (start // BATCH) % 2 == 0 else ("raw", "library")
            for side in order:
                t0 = time.monotonic_ns()
                if side == "library":
                    for i in batch:
                        vault.save(process_name="bench-worker", pid=4242, metric="cpu", value=90.0 + i % 10,
                                   captured_at=times[i], duration=1.5, artefacts={"oncpu.folded": contents[i]})
                    lib_ns += time.monotonic_ns() - t0
                else:
                    for i in batch:
                        raw.save(i, contents[i])
                    raw_ns += time.monotonic_ns() - t0
    raw.close()
    print(f"library_records_per_s {n * 1e9 / lib_ns:.1f}")
    print(f"raw_records_per_s {n * 1e9 / raw_ns:.1f}")
    print(f"checksum {CHECKSUM}")


if __name__ == "__main__":
    main()
