"""Saves N records, each with a 4 KiB artefact, through the Python binding (default durability).

Usage: save_py_library.py VAULT_DIR N   prints "records_per_s X", or "skipped: REASON" (exit 3).
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
except Exception as exc:  # the binding is optional for the rest of the benchmark
    print(f"skipped: the Python binding is not usable: {exc!r}")
    sys.exit(3)


def main() -> None:
    path, n = sys.argv[1], int(sys.argv[2])
    base = datetime.fromtimestamp(BASE_MS / 1000, tz=timezone.utc)
    contents = [gen_content(4096, i) for i in range(n)]  # generated outside the timed loop
    with spikevault.Vault(path) as vault:
        start = time.monotonic_ns()
        for i in range(n):
            vault.save(
                process_name="bench-worker",
                pid=4242,
                metric="cpu",
                value=90.0 + i % 10,
                captured_at=base + timedelta(milliseconds=i),
                duration=1.5,
                artefacts={"oncpu.folded": contents[i]},
            )
        elapsed = time.monotonic_ns() - start
    print(f"records_per_s {n * 1e9 / elapsed:.1f}")


if __name__ == "__main__":
    main()
