"""Capturing real processes through the binding: sync, async futures, pool bounds, cancel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Iterator, List

import pytest

import spikevault

HOT_C = r"""
#include <pthread.h>
#include <unistd.h>
static volatile unsigned long sink;
__attribute__((noinline)) void spikevault_py_hot(void) { for (;;) sink++; }
static void *run(void *a) { (void)a; spikevault_py_hot(); return 0; }
int main(void) { pthread_t t; pthread_create(&t, 0, run, 0); sleep(60); return 0; }
"""


@pytest.fixture(scope="module")
def hot_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the CPU-burning target")
    d = tmp_path_factory.mktemp("hot")
    (d / "hot.c").write_text(HOT_C)
    subprocess.run([cc, "-O0", "-g", "-fno-omit-frame-pointer", "-pthread", str(d / "hot.c"), "-o", str(d / "hot")],
                   check=True)
    return d / "hot"


@pytest.fixture
def burner(hot_binary: Path) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen([str(hot_binary)])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_sync_auto_capture_stores_stacks(capvault: spikevault.Vault, burner: subprocess.Popen) -> None:
    if shutil.which("eu-stack") is None and shutil.which("perf") is None and shutil.which("gdb") is None:
        pytest.skip("no stack sampler (eu-stack, perf, gdb) installed")
    record = capvault.capture(burner.pid, metric="cpu", value=93.5, duration=1, notes={"ticket": "T-1"})
    assert record.pid == burner.pid
    assert record.metric is spikevault.Metric.CPU and record.value == 93.5
    assert record.status is spikevault.CaptureStatus.COMPLETE
    kinds = [a.kind for a in record.artefacts]
    assert "procfs.json" in kinds and "oncpu.folded" in kinds
    folded = capvault.read_artefact(record.id, "oncpu.folded").decode()
    assert "spikevault_py_hot" in folded
    assert record.notes["ticket"] == "T-1"
    assert record.notes["capture"]["backendsRun"][0] == "procfs"
    procfs = json.loads(capvault.read_artefact(record.id, "procfs.json"))
    assert procfs["schema"] == "spikevault.procfs"


def test_capture_errors(capvault: spikevault.Vault, burner: subprocess.Popen) -> None:
    with pytest.raises(spikevault.NoSuchProcessError):
        capvault.capture(4194305, duration=0.2)
    with pytest.raises(spikevault.InvalidArgumentError, match="unknown backend"):
        capvault.capture(burner.pid, backend="dtrace")
    with pytest.raises(spikevault.InvalidArgumentError, match="not one string"):
        capvault.capture(burner.pid, backend="command", command="cp /proc/1/status {output}")
    with pytest.raises(spikevault.InvalidArgumentError):
        capvault.capture(burner.pid, duration=0)
    with pytest.raises(spikevault.InvalidArgumentError):
        capvault.capture(burner.pid, value=float("nan"))
    with pytest.raises(spikevault.InvalidArgumentError):
        capvault.capture(burner.pid, notes="[1]")
    with pytest.raises(spikevault.UnsupportedError):
        capvault.capture(burner.pid, backend="sample", duration=0.2)
    assert capvault.recent(10) == []


def test_cooldown(lib, tmp_path: Path) -> None:
    with spikevault.Vault(tmp_path / "v", durability=0, capture_cooldown_seconds=60) as v:
        v.capture(os.getpid(), metric="memory", duration=0.1, interval=0.05, backend="procfs")
        with pytest.raises(spikevault.CooldownError, match="cooldown"):
            v.capture(os.getpid(), metric="memory", duration=0.1, interval=0.05, backend="procfs")


def test_command_backend_argv_is_data(capvault: spikevault.Vault, tmp_path: Path, burner: subprocess.Popen) -> None:
    canary = tmp_path / "CANARY"
    record = capvault.capture(burner.pid, backend="command", duration=0.2, interval=0.1,
                              command=["cp", "/proc/{pid}/status", "{output}"], notes={"x": f"$(touch {canary})"})
    assert b"Name:" in capvault.read_artefact(record.id, "command.output")
    assert not canary.exists()


def test_async_pool_and_queue_bounds(capvault: spikevault.Vault) -> None:
    done_calls: List[int] = []
    lock = threading.Lock()
    futures, busy = [], 0
    for _ in range(20):
        try:
            f = capvault.capture_async(os.getpid(), duration=0.3, interval=0.1, backend="procfs")
        except spikevault.BusyError:
            busy += 1
            continue
        f.add_done_callback(lambda fut: (lock.acquire(), done_calls.append(id(fut)), lock.release()))
        futures.append(f)
    assert len(futures) == 10 and busy == 10  # 2 workers + a queue of 8
    records = [f.result(timeout=60) for f in futures]
    assert all(r.status is spikevault.CaptureStatus.COMPLETE for r in records)
    assert sorted(done_calls) == sorted(id(f) for f in futures)  # each callback exactly once
    assert len(capvault.recent(50)) == 10


def test_cancel_and_close_drain(lib, tmp_path: Path, burner: subprocess.Popen) -> None:
    v = spikevault.Vault(tmp_path / "v", durability=0, capture_cooldown_seconds=0)
    futures = [v.capture_async(burner.pid, duration=30, backend=b) for b in ("auto", "procfs", "procfs")]
    assert futures[0].cancel()
    with pytest.raises(spikevault.CancelledError):
        futures[0].result(timeout=30)
    v.close()
    for f in futures[1:]:
        with pytest.raises(spikevault.CancelledError):
            f.result(timeout=30)
    assert list((tmp_path / "v" / "artefacts").iterdir()) == []
    assert _children() == [burner.pid]  # the tools the library started are gone


def _children() -> List[int]:
    """Live (non-zombie) children of this process, read from /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            out.append(int(entry))
    return sorted(out)
