"""The library belongs to its host: loading and using it leaves signal handlers alone, writes
nothing to stdout/stderr, and never reaps a child the host started. Each check runs in a fresh
interpreter so that nothing else in the test session has touched the process first."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
REPO = PACKAGE_ROOT.parent.parent

HOST_SCRIPT = textwrap.dedent(r'''
    import ctypes, os, signal, subprocess, sys, time
    sys.path.insert(0, sys.argv[1])
    libc = ctypes.CDLL(None, use_errno=True)

    class Sigaction(ctypes.Structure):  # glibc x86_64/aarch64 layout: handler, mask, flags, restorer
        _fields_ = [("handler", ctypes.c_void_p), ("mask", ctypes.c_ulong * 16),
                    ("flags", ctypes.c_int), ("restorer", ctypes.c_void_p)]

    SIGNALS = [signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT,
               signal.SIGCHLD, signal.SIGPIPE]

    def handlers():
        out = {}
        for s in SIGNALS:
            act = Sigaction()
            assert libc.sigaction(int(s), None, ctypes.byref(act)) == 0
            out[int(s)] = (act.handler, act.flags)
        return out

    signal.signal(signal.SIGCHLD, lambda *a: None)   # a host with its own SIGCHLD handler
    before = handlers()
    mine = subprocess.Popen(["sleep", "1.5"])        # a child the host will wait for itself

    import spikevault
    vault_dir = sys.argv[2]
    with spikevault.Vault(vault_dir, durability=0, capture_cooldown_seconds=0) as v:
        v.save(process_name="host", pid=os.getpid(), metric="cpu", value=1.0, artefacts={"a": b"x"})
        for bad in (lambda: v.get(999999), lambda: v.save(process_name="x", pid=-1, metric="cpu", value=1.0)):
            try:
                bad()
            except spikevault.SpikeVaultError:
                pass
        burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        v.capture(burner.pid, duration=1.0, backend="auto")   # spawns eu-stack (or perf/gdb) itself
        burner.kill(); burner.wait()
    after = handlers()

    pid, status = os.waitpid(mine.pid, 0)           # the library must not have reaped it
    result = {"handlers_same": before == after, "reaped_own": pid == mine.pid and os.WIFEXITED(status)}
    os.write(int(sys.argv[3]), repr(result).encode())
''')


def test_loading_and_using_the_library_is_invisible_to_the_host(lib, tmp_path: Path) -> None:
    script = tmp_path / "host.py"
    script.write_text(HOST_SCRIPT)
    read_fd, write_fd = os.pipe()
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, str(script), str(PACKAGE_ROOT), str(tmp_path / "vault"), str(write_fd)],
                          capture_output=True, env=env, pass_fds=(write_fd,), timeout=120)
    os.close(write_fd)
    verdict = os.read(read_fd, 4096).decode()
    os.close(read_fd)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == b"", f"the library wrote to stdout: {proc.stdout[:200]!r}"
    assert proc.stderr == b"", f"the library wrote to stderr: {proc.stderr[:200]!r}"
    result = eval(verdict)  # noqa: S307 - our own repr of a dict of booleans
    assert result == {"handlers_same": True, "reaped_own": True}


def test_abi_baseline_check_catches_removed_and_unlisted_symbols(lib, tmp_path: Path) -> None:
    library = os.environ.get("SPIKEVAULT_LIBRARY") or str(REPO / "build" / "lib" / "libspikevault.so")
    if not Path(library).exists():
        pytest.skip(f"no built library at {library}")
    checker = [sys.executable, str(REPO / "scripts" / "check_abi.py"), library]
    version = str(REPO / "VERSION")
    baseline = (REPO / "scripts" / "libspikevault.symbols").read_text().splitlines()
    assert subprocess.run(checker + [str(REPO / "scripts" / "libspikevault.symbols"), version]).returncode == 0

    missing_one = tmp_path / "missing.symbols"  # the library exports a symbol the list lacks
    missing_one.write_text("\n".join(l for l in baseline if not l.startswith("sv_free ")))
    run = subprocess.run(checker + [str(missing_one), version], capture_output=True, text=True)
    assert run.returncode == 1 and "not in" in run.stdout and "sv_free" in run.stdout

    removed = tmp_path / "removed.symbols"  # the list has a symbol the library lost
    removed.write_text("\n".join(baseline + ["sv_vault_gone 0.1"]))
    run = subprocess.run(checker + [str(removed), version], capture_output=True, text=True)
    assert run.returncode == 1 and "removed" in run.stdout and "sv_vault_gone" in run.stdout


def test_tools_the_library_spawns_get_none_of_the_hosts_descriptors(lib, tmp_path: Path) -> None:
    import spikevault

    secret = tmp_path / "host-private.db"
    secret.write_text("x")
    fd = os.open(secret, os.O_RDONLY)
    os.set_inheritable(fd, True)  # as a C host's open() without O_CLOEXEC leaves it
    target = subprocess.Popen(["sleep", "60"])
    lister = ("import os, sys\n"
              "names = []\n"
              "for n in os.listdir('/proc/self/fd'):\n"
              "    try: names.append(os.readlink('/proc/self/fd/' + n))\n"
              "    except OSError: pass  # listdir's own descriptor, closed by now\n"
              "open(sys.argv[1], 'w').write('\\n'.join(names))\n")
    try:
        with spikevault.Vault(tmp_path / "v", durability=0) as v:
            r = v.capture(target.pid, duration=0.5, backend="command", command=[sys.executable, "-c", lister, "{output}"])
            assert [a.kind for a in r.artefacts] == ["command.output"], (r.status, r.notes, v.read_artefact(r.id, r.artefacts[0].kind))
            seen = v.read_artefact(r.id, "command.output").decode()
    finally:
        os.close(fd)
        target.kill()
        target.wait()
    assert "/dev/null" in seen  # the tool's stdin
    assert str(secret) not in seen, seen
