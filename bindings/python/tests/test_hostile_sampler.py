"""Adversarial pass over the sampler ABI (sv_sampler_*) and ProcessTable: one handle used
from two threads, names asked for again and again, and a process whose comm mimics the
end of /proc/PID/stat's name field (``) R 1 2``, a newline)."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import threading
import time

import pytest

import spikevault
from spikevault.processes import ProcessTable

HAMMER = r"""
import ctypes, threading
from spikevault import _library
lib = _library.lib()
h = ctypes.c_void_p()
assert lib.sv_sampler_new(ctypes.byref(h)) == 0
def hammer():
    n, v = ctypes.c_int64(), ctypes.c_double()
    for _ in range(25):
        lib.sv_sampler_refresh(h, ctypes.byref(n))
        for row in range(n.value):
            lib.sv_sampler_row_name(h, row)
            lib.sv_sampler_row_value(h, row, 0, ctypes.byref(v))
threads = [threading.Thread(target=hammer) for _ in range(2)]
[t.start() for t in threads]
[t.join() for t in threads]
assert lib.sv_sampler_free(h) == 0
print("ok")
"""


def test_one_sampler_from_two_threads_does_not_corrupt_the_heap(lib) -> None:
    # In a child: before the fix the two threads' refreshes freed the same names (glibc abort).
    r = subprocess.run([sys.executable, "-c", HAMMER], capture_output=True, timeout=300)
    assert r.returncode == 0 and r.stdout == b"ok\n", r.stderr[-2000:]


def test_row_name_asked_again_is_the_same_copy(lib) -> None:
    h = ctypes.c_void_p()
    assert lib.sv_sampler_new(ctypes.byref(h)) == 0
    try:
        n = ctypes.c_int64()
        assert lib.sv_sampler_refresh(h, ctypes.byref(n)) == 0 and n.value > 0
        name = lib.sv_sampler_row_name
        name.restype = ctypes.c_void_p  # the address, to see that no new copy is made each time
        try:
            assert len({name(h, 0) for _ in range(1000)}) == 1
        finally:
            name.restype = ctypes.c_char_p
    finally:
        assert lib.sv_sampler_free(h) == 0


def test_process_table_shared_by_threads(lib) -> None:
    table, errors = ProcessTable(), []
    def work() -> None:
        try:
            for _ in range(5):
                assert any(r.pid == os.getpid() for r in table.refresh())
        except Exception as exc:  # e.g. a row index past a table another thread refreshed
            errors.append(exc)
    threads = [threading.Thread(target=work) for _ in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    table.close()
    assert errors == []


def test_comm_mimicking_the_stat_line(lib) -> None:
    hostile = b") R 1 2\n(x) "  # 12 bytes: the kernel keeps up to 15
    code = ("import ctypes, sys; ctypes.CDLL(None).prctl(15, %r, 0, 0, 0); sys.stdout.write('ready\\n'); "
            "sys.stdout.flush(); sys.stdin.read()" % hostile)
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline() == b"ready\n"
        with ProcessTable() as table:
            deadline = time.monotonic() + 30
            row = None
            while row is None and time.monotonic() < deadline:
                row = next((r for r in table.refresh() if r.pid == child.pid), None)
            assert row is not None
            assert row.name == hostile.decode()
            assert row.uid == os.getuid() and row.threads is not None and row.threads >= 1
            assert row.start_time > 0 and row.rss_mib is not None and row.rss_mib > 0
    finally:
        child.stdin.close()
        child.wait(timeout=30)
