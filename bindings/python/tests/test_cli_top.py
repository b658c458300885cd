"""``spikevault top`` and the sampler rows under it (sv_sampler_*, spikevault.ProcessTable):
real processes with known figures, through pipes (snapshots, JSON) and on a real
pseudo-terminal (start, sort, select, capture, quit, Ctrl-C, terminal restored)."""

from __future__ import annotations

import ctypes
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

import spikevault
from spikevault import Metric, Status
from conftest import cpu_percent
from ptysession import PtySession
from test_cli import cli_env, run_cli

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

CHILD = """
import ctypes, os, sys, time
name, mib, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
open('/proc/self/comm', 'w').write(name)
ballast = bytearray(mib * 1024 * 1024)
for i in range(0, len(ballast), 4096): ballast[i] = 1
held = [open(os.devnull) for _ in range(files)]
sys.stdout.write('ready\\n'); sys.stdout.flush()
busy = sys.argv[4] == 'busy'
while True:
    if not busy: time.sleep(0.05)
"""


def _child(name: str, mib: int, files: int, busy: bool) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", CHILD, name, str(mib), str(files), "busy" if busy else "idle"],
                         stdout=subprocess.PIPE)
    assert p.stdout is not None and p.stdout.readline() == b"ready\n"
    return p


@pytest.fixture
def children() -> Iterator[dict]:
    """A busy small process and an idle big one, with distinctive names."""
    procs = {"burn": _child("svtop-burn", 5, 3, True), "big": _child("svtop-big", 120, 40, False)}
    try:
        yield procs
    finally:
        for p in procs.values():
            p.kill()
            p.wait()


def test_process_table_rows_have_the_known_figures(lib, children) -> None:
    big = children["big"]
    with spikevault.ProcessTable() as table:
        first = {r.pid: r for r in table.refresh()}
        assert first[big.pid].cpu is None  # a rate needs two passes
        got = cpu_percent(children["burn"].pid, 1.0)  # the window between the passes
        rows = {r.pid: r for r in table.refresh()}
    row = rows[big.pid]
    assert row.name == "svtop-big" and row.inspectable and row.uid == os.geteuid()
    assert row.rss_mib is not None and row.rss_mib >= 120
    assert row.fds is not None and row.fds >= 43  # stdin/out/err + 40 opened
    assert row.threads == 1 and row.cpu is not None and row.disk_io is not None and row.sockets is not None
    burn = rows[children["burn"].pid]
    assert burn.cpu is not None and burn.cpu > 0
    # Against what it actually got (a loaded machine gives it less than a core): loose, since
    # the two windows differ a little.
    assert abs(burn.cpu - got) <= max(25.0, got * 0.5), (burn.cpu, got)


def test_sampler_bad_input_gets_statuses(lib) -> None:
    handle = ctypes.c_void_p()
    assert lib.sv_sampler_new(None) == Status.ERR_NULL_ARGUMENT
    assert lib.sv_sampler_new(ctypes.byref(handle)) == Status.OK
    value = ctypes.c_double()
    pid = ctypes.c_int64()
    assert lib.sv_sampler_row_value(handle, 0, int(Metric.CPU), ctypes.byref(value)) == Status.ERR_INVALID_ARGUMENT
    n = ctypes.c_int64()
    assert lib.sv_sampler_refresh(handle, ctypes.byref(n)) == Status.OK and n.value > 0
    assert lib.sv_sampler_refresh(handle, None) == Status.OK  # the count is optional
    for bad_row in (-1, n.value + 100000, 2**63 - 1, -(2**63)):
        assert lib.sv_sampler_row_value(handle, bad_row, int(Metric.CPU), ctypes.byref(value)) == Status.ERR_INVALID_ARGUMENT
        assert lib.sv_sampler_row_process(handle, bad_row, ctypes.byref(pid), None, None, None) == Status.ERR_INVALID_ARGUMENT
        assert lib.sv_sampler_row_name(handle, bad_row) is None
        assert "row must be" in lib.sv_errmsg().decode()
    for bad_metric in (0, 7, -1, 2**31 - 1):
        assert lib.sv_sampler_row_value(handle, 0, bad_metric, ctypes.byref(value)) == Status.ERR_INVALID_ARGUMENT
    assert lib.sv_sampler_row_value(handle, 0, int(Metric.CPU), None) == Status.ERR_NULL_ARGUMENT
    assert lib.sv_sampler_row_process(handle, 0, None, None, None, None) == Status.OK  # every out may be NULL
    assert lib.sv_sampler_row_value(handle, 0, int(Metric.MEMORY), ctypes.byref(value)) == Status.OK
    assert not math.isnan(value.value) and value.value >= 0
    assert lib.sv_sampler_row_name(handle, 0)  # a name (maybe empty) for a real row
    assert lib.sv_sampler_free(handle) == Status.OK
    assert lib.sv_sampler_free(handle) == Status.ERR_CLOSED
    assert lib.sv_sampler_refresh(handle, ctypes.byref(n)) == Status.ERR_CLOSED
    assert lib.sv_sampler_row_name(handle, 0) is None
    assert lib.sv_sampler_free(None) == Status.OK
    assert lib.sv_sampler_refresh(None, None) == Status.ERR_NULL_ARGUMENT
    # A handle of another kind is refused, not used.
    opts = ctypes.c_void_p()
    assert lib.sv_options_new(ctypes.byref(opts)) == Status.OK
    try:
        assert lib.sv_sampler_refresh(opts, None) == Status.ERR_INVALID_ARGUMENT
    finally:
        lib.sv_options_free(opts)
    table = spikevault.ProcessTable()
    table.close()
    table.close()  # idempotent
    with pytest.raises(spikevault.ClosedError):
        table.refresh()


def test_top_snapshot_through_a_pipe_sorts_filters_and_marks(lib, tmp_path: Path, children) -> None:
    big = children["big"]
    r = run_cli(["top", "--sort", "rss", "--process", "svtop-*", "--interval", "300ms"], tmp_path / "none")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "\x1b" not in out  # no colour through a pipe
    lines = out.splitlines()
    assert lines[0].startswith("spikevault top - ") and "2 shown" in lines[0] and "sorted by rss" in lines[0]
    assert "RSS▼" in lines[1]
    assert lines[2].split()[0] == str(big.pid) and lines[2].endswith("svtop-big")  # the bigger RSS first
    # The burner may meet the default CPU rule (then "[cpu]" follows its name) or not, by load.
    assert re.search(r"svtop-burn( +\[[a-zA-Z, ]+\])?$", lines[3]), lines[3]
    assert "no captures in the vault" in out
    assert not (tmp_path / "none").exists()  # top never creates a vault
    r = run_cli(["top", "--sort", "fds", "-n", "1", "--process", "svtop", "--interval", "200ms", "--iterations", "2"],
                tmp_path / "none")
    assert r.returncode == 0, r.stderr
    snaps = r.stdout.decode().split("\n\n")
    assert sum(1 for s in r.stdout.decode().splitlines() if s.startswith("spikevault top - ")) == 2, r.stdout
    assert all("svtop-big" in s for s in snaps if s.startswith("spikevault top"))


def test_top_json_validates_and_marks_rules_and_recent_captures(lib, tmp_path: Path, children) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is installed by scripts/deps.sh")
    big = children["big"]
    vault = tmp_path / "v"
    with spikevault.Vault(vault) as v:
        rid = v.save(process_name="svtop-big", pid=big.pid, metric="memory", value=120, artefacts={"x.txt": b"x"})
        v.save(process_name="someone-else", pid=big.pid, metric="cpu", value=1, artefacts={"x.txt": b"x"})
    r = run_cli(["top", "--json", "--process", "svtop", "--interval", "200ms", "--iterations", "2"], vault)
    assert r.returncode == 0, r.stderr
    docs = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert len(docs) == 2
    schema = json.loads((Path(spikevault.__file__).parent / "cli" / "schemas" / "cli.schema.json").read_text())
    for doc in docs:
        jsonschema.validate(doc, {"$ref": "#/$defs/top", "$defs": schema["$defs"]})
        rows = {row["pid"]: row for row in doc["rows"]}
        assert rows[big.pid]["recentCaptureId"] == rid  # the one with its name, not the other
        assert rows[big.pid]["rssBytes"] >= 120 * 1024 * 1024
        assert rows[children["burn"].pid]["recentCaptureId"] is None
        cpus = [row["cpuPercent"] for row in doc["rows"]]
        assert cpus == sorted(cpus, reverse=True)
        assert [c["id"] for c in doc["recentCaptures"]][:2] == [rid + 1, rid]
    # A rule's threshold met now: fds >= 5000 is the default; none here, so check the
    # marker with the cpu rule instead when the burner got 90 % of a core (not on a loaded box).
    burn = next(row for row in docs[-1]["rows"] if row["pid"] == children["burn"].pid)
    assert ("cpu" in burn["rulesMet"]) == (burn["cpuPercent"] >= 90)


def test_top_escapes_hostile_process_names(lib, tmp_path: Path) -> None:
    hostile = "\x1b[2Jev\x1b]0;x\x07"
    child = _child(hostile, 1, 0, False)
    try:
        r = run_cli(["top", "--process", "*ev*", "--interval", "200ms"], tmp_path / "none")
        assert r.returncode == 0, r.stderr
        out = r.stdout.decode()
        assert "\x1b" not in out and "\x07" not in out
        assert "\\x1b[2Jev\\x1b]0;x\\x07" in out
        session = PtySession(["top", "--process", "*ev*", "--interval", "200ms", "--iterations", "1"],
                             cli_env(tmp_path / "none"))
        try:
            assert session.wait(60) == 0
            assert "\x1b[2Jev" not in session.text and "\x1b]0;x" not in session.text
            assert "\\x1b[2Jev" in session.text
        finally:
            session.close()
    finally:
        child.kill()
        child.wait()


@pytest.mark.parametrize("args,needle", [
    (["top", "--interval", "10ms"], "--interval 10ms is shorter than 100ms"),
    (["top", "--sort", "rs"], "--sort: invalid choice 'rs'; did you mean 'rss'?"),
    (["top", "--iterations", "0"], "--iterations"),
    (["top", "--duration", "2h"], "--duration"),
    (["top", "--limit", "-3"], "--limit"),
])
def test_top_usage_errors_exit_2_naming_the_option(lib, tmp_path: Path, args: list, needle: str) -> None:
    r = run_cli(args, tmp_path / "none")
    assert r.returncode == 2, (r.stdout, r.stderr)
    err = r.stderr.decode()
    assert needle in err and err.count("\n") == 1, err


# -- the full-screen view on a real pseudo-terminal -----------------------------------------------

def test_top_on_a_terminal_sorts_selects_captures_and_quits_restoring_the_terminal(lib, tmp_path: Path,
                                                                                 children) -> None:
    vault = tmp_path / "v"
    big = children["big"]
    session = PtySession(["top", "--process", "svtop", "--interval", "300ms", "--backend", "procfs",
                          "--duration", "500ms"], cli_env(vault))
    try:
        session.expect(r"\x1b\[\?1049h")  # the alternate screen
        session.expect(r"spikevault top - .*2 shown")
        assert "CPU%▼" in session.text and "\x1b[1m" in session.text  # colour on a terminal
        mark = len(session.text)
        session.send(b"m")  # sort by RSS
        session.expect("RSS▼", since=mark)
        mark = len(session.text)
        # The selection (the busiest row at first) follows its process to row 2; up, down, up
        # (in one read) selects the first row: the big one.
        session.send(b"\x1b[A\x1b[B\x1b[A")
        session.expect("sorted by rss", since=mark)
        mark = len(session.text)
        session.send(b"\r")  # capture the selected process now
        m = session.expect(r"capture (\d+) stored \((svtop-\w+), pid (\d+)\)", timeout=90, since=mark)
        assert (m.group(2), int(m.group(3))) == ("svtop-big", big.pid)
        mark = len(session.text)
        session.expect(r"●", since=mark)  # marked as captured in the next frames
        session.send(b"q")
        assert session.wait(30) == 0
        assert session.text.rstrip().endswith("\x1b[?25h\x1b[?1049l")  # cursor shown, screen left
        assert session.settings_now() == session.settings_before  # echo and line mode back
    finally:
        session.close()
    with spikevault.Vault(vault, create=False) as v:
        record = v.get(int(m.group(1)))
    assert record.pid == big.pid and record.process_name == "svtop-big"


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_top_quits_cleanly_on_ctrl_c_and_sigterm(lib, tmp_path: Path, how: str) -> None:
    session = PtySession(["top", "--interval", "200ms"], cli_env(tmp_path / "none"))
    try:
        session.expect(r"spikevault top - ")
        if how == "ctrl-c":
            session.send(b"\x03")  # the terminal turns it into SIGINT
        else:
            session.proc.terminate()
        assert session.wait(30) == 0
        assert "Traceback" not in session.text and "interrupted" not in session.text
        assert session.text.rstrip().endswith("\x1b[?25h\x1b[?1049l")
        assert session.settings_now() == session.settings_before
    finally:
        session.close()
