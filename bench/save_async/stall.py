"""Host-thread stall of background saves vs the plain synchronous save (issue #13, item 3).

The host thread saves N records, each with a small artefact, and ticks between saves; the
figure is the longest gap between two ticks (what a UI thread or event loop would feel).
Sides, measured in one run: the C host (bindings/c/save_async_host.c, sv_vault_save_start),
Python `Vault.save_async`, and the plain code a user would write instead, a synchronous
`Vault.save` per record on the same thread. The issue's bar: under 5 ms for the background
forms (a figure, not a test assertion: tests assert the design, this measures it).

    python3 stall.py [N]      (SPIKEVAULT_LIBRARY names the library)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bindings" / "python"))
import spikevault  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000


def python_host(path: Path, background: bool) -> float:
    v = spikevault.Vault(path, write_queue_capacity=max(1024, 2 * N), maintenance_interval_seconds=0)
    futures, worst, last = [], 0.0, time.perf_counter()
    for i in range(N):
        args = dict(process_name="py-host", pid=1000 + i, metric="cpu", value=90.0,
                    artefacts={"stacks.folded": f"main;step{i} 1\n".encode()})
        if background:
            futures.append(v.save_async(**args))
        else:
            v.save(**args)
        now = time.perf_counter()
        worst, last = max(worst, now - last), now
    for f in futures:
        f.result()
    v.close()
    return worst * 1000


def c_host(work: Path) -> float:
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        return float("nan")
    libdir = Path(os.environ.get("SPIKEVAULT_LIBRARY", ROOT / "build/lib/libspikevault.so")).parent
    exe = work / "save_async_host"
    subprocess.run([cc, "-std=c11", "-O2", f"-I{ROOT / 'include'}", "-o", str(exe), str(ROOT / "bindings/c/save_async_host.c"),
                    f"-L{libdir}", "-lspikevault", "-lsqlite3"], check=True)
    out = subprocess.run([str(exe), str(work / "c-vault"), str(N)], capture_output=True, text=True, check=True,
                         env=dict(os.environ, LD_LIBRARY_PATH=str(libdir)))
    return json.loads(out.stdout)["max_stall_us"] / 1000


with tempfile.TemporaryDirectory() as tmp:
    work = Path(tmp)
    sync = python_host(work / "sync", background=False)
    bg = python_host(work / "async", background=True)
    c = c_host(work)
print(f"longest host-thread stall over {N} saves (ms): synchronous save {sync:.2f}, "
      f"Python save_async {bg:.2f} ({sync / bg:.1f}x shorter), C sv_vault_save_start {c:.2f}; bar: < 5 ms")
