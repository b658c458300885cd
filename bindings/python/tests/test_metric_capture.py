"""Metric-aware captures (#18) through the binding and ``spikevault show``: real C programs with
one known cause each (fd leak, named threads, heap growth, one file written fast, sockets to a
local listener). Conditions are waited for with deadlines; no timing is asserted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, Dict, Iterator

import pytest

import spikevault
from test_cli import run_cli

SOURCES: Dict[str, str] = {
    "fdleak": r"""
#include <stdio.h>
#include <unistd.h>
#include <fcntl.h>
int main(int argc, char **argv) {
  char path[4096];
  for (int i = 0; i < 800; i++) {
    snprintf(path, sizeof path, "%s/leak-%d.dat", argv[1], i);
    if (open(path, O_RDWR | O_CREAT, 0600) < 0) return 2;
    usleep(3000);
  }
  pause();
  return 0;
}""",
    "threads": r"""
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static void *sleeper(void *a) { (void)a; for (;;) pause(); return 0; }
int main(void) {
  char name[16]; pthread_t t;
  for (int i = 0; i < 400; i++) {
    pthread_create(&t, 0, sleeper, 0);
    snprintf(name, sizeof name, "pool-%d", i);
    pthread_setname_np(t, name);
    usleep(10000);
  }
  pause();
  return 0;
}""",
    "heap": r"""
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
__attribute__((noinline)) char *grow_cache(size_t n) { char *p = malloc(n); if (p) memset(p, 7, n); return p; }
__attribute__((noinline)) void load_index(void) { for (int i = 0; i < 8000; i++) { grow_cache(64 * 1024); usleep(2000); } }
int main(void) { load_index(); pause(); return 0; }""",
    "writer": r"""
#include <stdio.h>
#include <unistd.h>
#include <fcntl.h>
static char buf[65536];
__attribute__((noinline)) void flush_log(int fd) { if (write(fd, buf, sizeof buf) < 0) _exit(3); }
int main(int argc, char **argv) {
  char path[4096];
  snprintf(path, sizeof path, "%s/app-debug.log", argv[1]);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 2;
  for (;;) {
    flush_log(fd);
    if (lseek(fd, 0, SEEK_CUR) > (32L << 20)) { if (ftruncate(fd, 0) < 0) return 4; lseek(fd, 0, SEEK_SET); }
    usleep(1000);
  }
}""",
    "sockets": r"""
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
int main(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a; memset(&a, 0, sizeof a); a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 64) < 0) return 2;
  socklen_t n = sizeof a; getsockname(l, (struct sockaddr *)&a, &n);
  printf("%d\n", ntohs(a.sin_port)); fflush(stdout);
  for (int i = 0; i < 450; i++) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) return 3;
    if (accept(l, 0, 0) < 0) return 4;
    usleep(5000);
  }
  pause();
  return 0;
}""",
}


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler (gcc) to build the test programs")
    d = tmp_path_factory.mktemp("metricprogs")
    out = {}
    for name, src in SOURCES.items():
        (d / f"{name}.c").write_text(src)
        subprocess.run([cc, "-O0", "-g", "-fno-omit-frame-pointer", "-pthread", str(d / f"{name}.c"), "-o", str(d / name)],
                       check=True, capture_output=True)
        out[name] = d / name
    return out


def perf_refusal() -> str:
    """Why perf cannot record here ('' when it can)."""
    if shutil.which("perf") is None:
        return "perf is not installed"
    r = subprocess.run(["perf", "record", "-e", "page-faults", "-o", "/dev/null", "--", "true"], capture_output=True)
    return "" if r.returncode == 0 else "perf record refused: " + r.stderr.decode(errors="replace")[-200:]


@pytest.fixture
def mvault(lib, tmp_path: Path) -> Iterator[spikevault.Vault]:
    v = spikevault.Vault(tmp_path / "vault", durability=0, capture_cooldown_seconds=0)
    try:
        yield v
    finally:
        v.close()


def wait_for(cond: Callable[[], bool], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    assert cond(), "condition not reached before the deadline"


def start(path: Path, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([str(path), *args], stdin=subprocess.DEVNULL, **kw)


def show(vault_dir: Path, rid: int) -> tuple:
    text = run_cli(["show", str(rid)], vault_dir)
    assert text.returncode == 0, text.stderr
    js = run_cli(["show", str(rid), "--json"], vault_dir)
    assert js.returncode == 0, js.stderr
    return text.stdout.decode(), json.loads(js.stdout)


def test_fd_leak_pattern_first(mvault: spikevault.Vault, programs, tmp_path: Path) -> None:
    leakdir = tmp_path / "leaks"
    leakdir.mkdir()
    proc = start(programs["fdleak"], str(leakdir))
    try:
        wait_for(lambda: len(os.listdir(f"/proc/{proc.pid}/fd")) >= 20)
        # backend procfs with collectors left to the default is "none"; ask for fds explicitly.
        rec = mvault.capture(proc.pid, metric="fds", value=20, duration=1, backend="procfs", collectors=["fds"])
    finally:
        proc.kill()
        proc.wait()
    doc = json.loads(mvault.read_artefact(rec.id, "fds.json"))
    assert doc["schema"] == "spikevault.fds"
    first = doc["groups"][0]
    assert first["pattern"].endswith("/leak-*.dat") and first["kind"] == "file" and first["growth"] > 0
    assert rec.notes["capture"]["metric"]["collectors"] == ["fds"]
    summary = mvault.summary(rec.id, "json", redact=False)
    assert summary["answer"].startswith("fds: ") and "/leak-*.dat" in summary["answer"]
    text, js = show(mvault.path, rec.id)
    assert text.splitlines()[1].startswith("Answer:") and "/leak-*.dat" in text.splitlines()[1]
    assert "/leak-*.dat" in js["answer"]


def test_threads_named_alike_grouped(mvault: spikevault.Vault, programs) -> None:
    proc = start(programs["threads"])
    try:
        wait_for(lambda: len(os.listdir(f"/proc/{proc.pid}/task")) >= 5)
        rec = mvault.capture(proc.pid, metric="threads", value=5, duration=1, backend="procfs", collectors=["threads"])
    finally:
        proc.kill()
        proc.wait()
    doc = json.loads(mvault.read_artefact(rec.id, "threads.json"))
    first = doc["groups"][0]
    assert first["pattern"] == "pool-*" and first["growth"] > 0 and first["created"] > 0
    text, js = show(mvault.path, rec.id)
    assert "named pool-*" in js["answer"] and "named pool-*" in text.splitlines()[1]


def test_heap_growth(mvault: spikevault.Vault, programs) -> None:
    proc = start(programs["heap"])
    try:
        def heap_kib() -> int:
            smaps = Path(f"/proc/{proc.pid}/smaps").read_text()
            lines = smaps.splitlines()
            for i, line in enumerate(lines):
                if line.endswith("[heap]"):
                    for l2 in lines[i + 1:]:
                        if l2.startswith("Rss:"):
                            return int(l2.split()[1])
            return 0
        wait_for(lambda: heap_kib() >= 2048)
        rec = mvault.capture(proc.pid, metric="memory", value=1, duration=2, backend="procfs", collectors=["memory"])
    finally:
        proc.kill()
        proc.wait()
    doc = json.loads(mvault.read_artefact(rec.id, "mappings.json"))
    assert doc["mappings"][0]["label"] == "[heap]" and doc["mappings"][0]["rssGrowthKiB"] > 0
    text, js = show(mvault.path, rec.id)
    assert js["answer"].startswith("memory grew") and "[heap]" in js["answer"]
    why = perf_refusal()
    if why:
        assert any(s["backend"] == "memory.stacks" for s in rec.notes["capture"]["backendsSkipped"])
        pytest.skip(f"growth stacks not checked: {why}")
    folded = mvault.read_artefact(rec.id, "growth.folded").decode()
    total = under = 0
    for line in folded.splitlines():
        stack, n = line.rsplit(" ", 1)
        total += int(n)
        under += int(n) if "grow_cache" in stack.split(";") else 0
    assert total > 0 and under >= 0.8 * total, (under, total)
    assert "under grow_cache" in text.splitlines()[1]


def test_writer_file_first(mvault: spikevault.Vault, programs, tmp_path: Path) -> None:
    proc = start(programs["writer"], str(tmp_path))
    try:
        wait_for(lambda: (tmp_path / "app-debug.log").exists() and (tmp_path / "app-debug.log").stat().st_size > 1 << 20)
        rec = mvault.capture(proc.pid, metric="diskIO", value=1, duration=1, backend="procfs", collectors=["diskIO"])
    finally:
        proc.kill()
        proc.wait()
    doc = json.loads(mvault.read_artefact(rec.id, "io.json"))
    assert doc["files"][0]["path"] == str(tmp_path / "app-debug.log") and doc["files"][0]["bytesMoved"] > 0
    text, js = show(mvault.path, rec.id)
    assert "app-debug.log" in js["answer"]
    why = perf_refusal()
    if why:
        pytest.skip(f"I/O stacks not checked: {why}")
    folded = mvault.read_artefact(rec.id, "io.folded").decode()
    assert any("flush_log" in line for line in folded.splitlines())
    assert "from flush_log" in js["answer"]


def test_sockets_to_listener(mvault: spikevault.Vault, programs, tmp_path: Path) -> None:
    with open(tmp_path / "port", "wb") as out:
        proc = start(programs["sockets"], stdout=out)
    try:
        wait_for(lambda: (tmp_path / "port").read_text().strip() != "" and len(os.listdir(f"/proc/{proc.pid}/fd")) >= 12)
        port = (tmp_path / "port").read_text().strip()
        # auto with the network metric: the plan adds network and fds.
        rec = mvault.capture(proc.pid, metric="network", value=1, duration=1, backend="auto")
    finally:
        proc.kill()
        proc.wait()
    assert rec.notes["capture"]["metric"]["collectors"] == ["network", "fds"]
    doc = json.loads(mvault.read_artefact(rec.id, "sockets.json"))
    assert doc["groups"][0]["peer"] == f"127.0.0.1:{port}" and doc["groups"][0]["growth"] > 0
    text, js = show(mvault.path, rec.id)
    assert f"tcp to 127.0.0.1:{port}" in js["answer"]
    assert "Collectors:" in text and "fds:" in text


def test_bad_collectors_refused(mvault: spikevault.Vault) -> None:
    with pytest.raises(spikevault.InvalidArgumentError, match="unknown collector 'bogus'"):
        mvault.capture(os.getpid(), metric="fds", duration=1, collectors=["fds", "bogus"])
    with pytest.raises(spikevault.InvalidArgumentError, match="twice"):
        mvault.capture(os.getpid(), metric="fds", duration=1, collectors=["fds", "fds"])
    with pytest.raises(spikevault.InvalidArgumentError):
        mvault.capture(os.getpid(), metric="fds", duration=1, collectors="fds")
    with pytest.raises(spikevault.InvalidArgumentError):
        mvault.capture(os.getpid(), metric="fds", duration=1, collectors=["fds,threads"])
    with pytest.raises(spikevault.EncodingError):
        mvault.capture(os.getpid(), metric="fds", duration=1, collectors=[b"\xff"])
    assert mvault.recent() == []


def test_c_abi_collectors_bad_input(lib) -> None:
    import ctypes
    req = ctypes.c_void_p()
    assert lib.sv_request_new(ctypes.byref(req)) == 0
    try:
        assert lib.sv_request_set_collectors(req, None) == 0
        assert lib.sv_request_set_collectors(req, b"") == 0
        assert lib.sv_request_set_collectors(req, b"memory,diskIO") == 0
        assert lib.sv_request_set_collectors(req, b"cpu") == spikevault.Status.ERR_INVALID_ARGUMENT
        assert b"unknown collector 'cpu'" in lib.sv_errmsg()
        assert lib.sv_request_set_collectors(req, b"fds,,threads") == spikevault.Status.ERR_INVALID_ARGUMENT
        assert lib.sv_request_set_collectors(req, b"\xff") == spikevault.Status.ERR_ENCODING
    finally:
        lib.sv_request_free(req)
    assert lib.sv_request_set_collectors(None, b"fds") < 0
