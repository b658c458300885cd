"""Capture fidelity (#12) through the binding and the CLI: py-spy for Python targets, perf
refused -> fallback with the reason, a host ignoring SIGCHLD, perf leaving HOME alone, and
bad rates from C, Python and the command line."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

import spikevault
from spikevault import InvalidArgumentError, Status

from conftest import PACKAGE_ROOT, run_python, wait_until
from test_cli import cli_env, run_cli

HOT_C = r"""
#include <pthread.h>
#include <unistd.h>
static volatile unsigned long sink;
__attribute__((noinline)) void spikevault_fid_hot(void) { for (;;) sink++; }
static void *run(void *a) { (void)a; spikevault_fid_hot(); return 0; }
int main(void) { pthread_t t[2]; pthread_create(&t[0], 0, run, 0); pthread_create(&t[1], 0, run, 0); sleep(60); return 0; }
"""

BUSY_PY = """
import sys, time
def spikevault_py_hot(n):
    s = 0
    for i in range(n):
        s += i * i
    return s
end = time.time() + float(sys.argv[1])
while time.time() < end:
    spikevault_py_hot(200000)
"""


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


@pytest.fixture(scope="module")
def shared_dir() -> Iterator[Path]:
    """A directory every user may read (the unprivileged helper runs the target from it)."""
    d = Path(tempfile.mkdtemp(prefix="sv-fid-"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def hot_binary(shared_dir: Path) -> Path:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler to build the CPU-burning target")
    (shared_dir / "hot.c").write_text(HOT_C)
    subprocess.run([cc, "-O1", "-g", "-fno-omit-frame-pointer", "-pthread", str(shared_dir / "hot.c"),
                    "-o", str(shared_dir / "hot")], check=True)
    (shared_dir / "hot").chmod(0o755)
    return shared_dir / "hot"


@pytest.fixture
def burner(hot_binary: Path) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen([str(hot_binary)])
    try:
        assert wait_until(lambda: _threads(proc.pid) >= 3, timeout=30)
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _perf_allowed() -> bool:
    return shutil.which("perf") is not None and os.geteuid() == 0


# -- py-spy ----------------------------------------------------------------------------------

def test_python_target_auto_picks_py_spy(capvault: spikevault.Vault, tmp_path: Path) -> None:
    if shutil.which("py-spy") is None:
        pytest.skip("py-spy is not installed (scripts/deps.sh installs it from PyPI)")
    script = tmp_path / "fid_busy.py"
    script.write_text(BUSY_PY)
    proc = subprocess.Popen([sys.executable, str(script), "60"])
    try:
        assert wait_until(lambda: (Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[11] != "0"), timeout=30)
        record = capvault.capture(proc.pid, duration=3)
    finally:
        proc.kill()
        proc.wait()
    cap = record.notes["capture"]
    assert cap["backendsRun"] == ["procfs", "py-spy"], cap["backendsSkipped"]
    assert record.status is spikevault.CaptureStatus.COMPLETE, cap["reason"]
    folded = capvault.read_artefact(record.id, "oncpu.folded").decode()
    total = hot = 0
    for line in folded.splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        if "fid_busy.py:spikevault_py_hot" in stack.split(";"):
            hot += int(count)
    print(f"py-spy: {hot} of {total} samples in fid_busy.py:spikevault_py_hot, stats {cap['stats'].get('py-spy')}")
    assert total > 0 and hot >= 0.9 * total, folded[:2000]
    assert cap["stats"]["py-spy"]["samples"] == total and cap["stats"]["py-spy"]["requestedRateHz"] == 100


# -- perf refused or missing -------------------------------------------------------------------

HELPER = """
import json, os, subprocess, sys, time
import spikevault
target = subprocess.Popen([sys.argv[1]])
try:
    end = time.monotonic() + 30
    while len(os.listdir(f"/proc/{target.pid}/task")) < 3 and time.monotonic() < end:
        time.sleep(0.02)
    with spikevault.Vault(sys.argv[2], durability=0) as v:
        r = v.capture(target.pid, duration=1)
        print(json.dumps({"status": r.status.name, "capture": r.notes["capture"],
                          "kinds": [a.kind for a in r.artefacts]}))
finally:
    target.kill(); target.wait()
"""


def _helper_env(lib_path: str, **extra: str) -> dict:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(PACKAGE_ROOT),
           "SPIKEVAULT_LIBRARY": lib_path, "HOME": "/nonexistent"}
    env.update(extra)
    return env


def test_auto_without_perf_in_path_falls_back_and_says_why(lib, burner: subprocess.Popen, tmp_path: Path) -> None:
    if shutil.which("eu-stack") is None:
        pytest.skip("eu-stack is not installed (the fallback under test)")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("eu-stack", "gdb", "sleep"):
        found = shutil.which(tool)
        if found:
            (bindir / tool).symlink_to(found)
    code = f"""
import json, spikevault
with spikevault.Vault({str(tmp_path / 'v')!r}, durability=0) as v:
    r = v.capture({burner.pid}, duration=1)
    print(json.dumps({{"status": r.status.name, "capture": r.notes["capture"]}}))
"""
    res = run_python(code, env={"PATH": str(bindir)})
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    cap = out["capture"]
    assert cap["backendsRun"] == ["procfs", "eu-stack"]
    skipped = {s["backend"]: s["reason"] for s in cap["backendsSkipped"]}
    assert "tool 'perf' not found in PATH" in skipped["perf"]
    assert out["status"] == "COMPLETE"


def test_perf_refused_by_paranoid_falls_back_and_says_why(lib, hot_binary: Path, shared_dir: Path) -> None:
    paranoid = Path("/proc/sys/kernel/perf_event_paranoid")
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None or not os.access(paranoid, os.W_OK):
        pytest.skip("lowering privilege needs root, setpriv and a writable perf_event_paranoid")
    if shutil.which("perf") is None or shutil.which("eu-stack") is None:
        pytest.skip("perf and eu-stack are both needed (refused one, fallback other)")
    python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
    lib_path = os.environ["SPIKEVAULT_LIBRARY"]
    vault_dir = shared_dir / "nobody-vault"
    vault_dir.mkdir()
    os.chown(vault_dir, 65534, 65534)
    original = paranoid.read_text().strip()
    try:
        paranoid.write_text("3\n")
        res = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", python, "-c", HELPER,
                              str(hot_binary), str(vault_dir / "v")],
                             env=_helper_env(lib_path), capture_output=True, text=True, timeout=120)
    finally:
        paranoid.write_text(original + "\n")
    if res.returncode != 0 and ("Permission denied" in res.stderr and "spikevault" in res.stderr.lower()):
        pytest.skip(f"the unprivileged user cannot load the library or package: {res.stderr[-300:]}")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    cap = out["capture"]
    skipped = {s["backend"]: s["reason"] for s in cap["backendsSkipped"]}
    assert "perf_event_paranoid is 3" in skipped["perf"], skipped
    assert cap["backendsRun"] == ["procfs", "eu-stack"], skipped
    assert "oncpu.folded" in out["kinds"]


# -- hosts that reap children; HOME --------------------------------------------------------------

def test_sigchld_ignored_host_captures_with_perf_and_home_stays_empty(lib, burner: subprocess.Popen, tmp_path: Path) -> None:
    if not _perf_allowed():
        pytest.skip("perf is missing or this is not root")
    home = tmp_path / "home"
    home.mkdir()
    code = f"""
import json, signal, spikevault
signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # the kernel now reaps every child itself
with spikevault.Vault({str(tmp_path / 'v')!r}, durability=0) as v:
    r = v.capture({burner.pid}, duration=1, backend="perf")
    print(json.dumps({{"status": r.status.name, "capture": r.notes["capture"],
                      "folded": v.read_artefact(r.id, "oncpu.folded").decode()}}))
"""
    res = run_python(code, env={"HOME": str(home), "TMPDIR": str(home)})
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["status"] == "COMPLETE", out["capture"]["reason"]
    assert "spikevault_fid_hot" in out["folded"]
    assert any("reaped" in n for n in out["capture"]["notes"]), out["capture"]["notes"]
    assert out["capture"]["stats"]["perf"]["samples"] > 0
    assert list(home.iterdir()) == []


def test_idle_target_with_perf_is_partial(capvault: spikevault.Vault) -> None:
    if not _perf_allowed():
        pytest.skip("perf is missing or this is not root")
    proc = subprocess.Popen(["sleep", "60"])
    try:
        record = capvault.capture(proc.pid, duration=1, backend="perf")
    finally:
        proc.kill()
        proc.wait()
    assert record.status is spikevault.CaptureStatus.PARTIAL
    assert "no on-CPU sample" in record.notes["capture"]["reason"]
    assert record.notes["capture"]["stats"]["perf"]["samples"] == 0


# -- bad rates -------------------------------------------------------------------------------------

def test_bad_rate_through_c(lib, capvault: spikevault.Vault, burner: subprocess.Popen) -> None:
    library = spikevault._library.lib()
    h = ctypes.c_void_p()
    assert library.sv_request_new(ctypes.byref(h)) == Status.OK
    try:
        for bad in (0.0, -1.0, 10000.5, 1e9, float("nan"), float("inf")):
            assert library.sv_request_set_rate(h, bad) == Status.ERR_INVALID_ARGUMENT, bad
            assert b"rate must be more than 0 and at most 10000 Hz" in library.sv_errmsg()
        assert library.sv_request_set_rate(None, 10.0) != Status.OK
        assert library.sv_request_set_perf_frequency(h, 0) == Status.ERR_INVALID_ARGUMENT
        assert library.sv_request_set_pid(h, burner.pid) == Status.OK
        assert library.sv_request_set_backend(h, spikevault.Backend.EU_STACK) == Status.OK
        assert library.sv_request_set_rate(h, 500.0) == Status.OK      # the setter's bound is 10000 ...
        new_id = ctypes.c_int64(0)
        with capvault._using() as vh:
            rc = library.sv_capture_run(vh, h, ctypes.byref(new_id))
        assert rc == Status.ERR_INVALID_ARGUMENT                            # ... eu-stack's is 100
        assert b"at most 100 Hz for backend 'eu-stack'" in library.sv_errmsg()
        assert new_id.value == 0
    finally:
        library.sv_request_free(h)
    assert capvault.recent(10) == []


def test_bad_rate_through_python(capvault: spikevault.Vault, burner: subprocess.Popen) -> None:
    for bad, message in ((0, "more than 0"), (-5, "more than 0"), (20000, "at most 10000"),
                         (float("nan"), "more than 0"), ("fast", "must be a number"), (True, "not bool")):
        with pytest.raises(InvalidArgumentError, match=message):
            capvault.capture(burner.pid, duration=0.5, rate=bad)
    with pytest.raises(InvalidArgumentError, match="at most 1000 Hz for backend 'py-spy'"):
        capvault.capture(burner.pid, duration=0.5, backend="py-spy", rate=5000)
    with pytest.raises(InvalidArgumentError, match="at most 10 Hz for backend 'gdb'"):
        capvault.capture(burner.pid, duration=0.5, backend="gdb", rate=50)
    with pytest.raises(InvalidArgumentError, match="older name of rate"):
        capvault.capture(burner.pid, duration=0.5, rate=10, perf_frequency=10)
    assert capvault.recent(10) == []


def test_bad_rate_through_cli(lib, tmp_path: Path, burner: subprocess.Popen) -> None:
    for bad, message in (("0", "more than 0 Hz"), ("-5", "more than 0 Hz"), ("20000", "at most 10000 Hz"),
                         ("fast", "is not a number")):
        r = run_cli(["capture", str(burner.pid), "--duration", "1s", f"--rate={bad}"], vault=tmp_path / "v")
        assert r.returncode == 2, r.stderr
        assert message in r.stderr.decode(), r.stderr
    r = run_cli(["capture", str(burner.pid), "--duration", "1s", "--backend", "eu-stack", "--rate", "500"],
                vault=tmp_path / "v")
    assert r.returncode != 0
    assert "at most 100 Hz for backend 'eu-stack'" in r.stderr.decode(), r.stderr
    r = run_cli(["capture", str(burner.pid), "--duration", "1s", "--rate", "5", "--perf-frequency", "5"],
                vault=tmp_path / "v")
    assert r.returncode == 2 and "older name of --rate" in r.stderr.decode()


def test_cli_rate_reaches_the_backend(lib, tmp_path: Path, burner: subprocess.Popen) -> None:
    if shutil.which("eu-stack") is None:
        pytest.skip("eu-stack is not installed")
    r = run_cli(["capture", str(burner.pid), "--duration", "1s", "--backend", "eu-stack", "--rate", "5Hz", "--json"],
                vault=tmp_path / "v", timeout=60)
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    assert rec["notes"]["capture"]["rateHz"] == 5
    assert rec["notes"]["capture"]["stats"]["eu-stack"]["requestedRateHz"] == 5
