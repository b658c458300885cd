"""`record`, `diff` and the pager on a real pseudo-terminal (Python's pty), against the same
commands through pipes: colour on a terminal and none through a pipe, the pager started on a
terminal only (never with --no-pager, and an early quit is no error), and `record` passing
Ctrl-C to its command and the command's exit status through."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

import spikevault
from ptysession import PtySession
from test_cli import cli_env, run_cli
from test_cli_diff import pair  # noqa: F401  (the fixture: a vault of two captures that differ)

# A stand-in pager: records its argv, whether its stdin is a pipe and what it was given, then
# prints a marker (so the test sees it ran on the terminal) and exits. `lines` > 0: it reads
# only that many lines and quits early, as a reader pressing q in less does.
FAKE_PAGER = r"""
import json, os, stat, sys
out, lines = sys.argv[1], int(sys.argv[2])
piped = stat.S_ISFIFO(os.fstat(0).st_mode)
data = b"".join(sys.stdin.buffer.readline() for _ in range(lines)) if lines else sys.stdin.buffer.read()
json.dump({"argv": sys.argv, "piped": piped, "tty_out": os.isatty(1), "data": data.decode("utf-8", "replace"),
           "less": os.environ.get("LESS")}, open(out, "w"))
sys.stdout.write("FAKE-PAGER-RAN\n"); sys.stdout.flush()
"""


@pytest.fixture
def fake_pager(tmp_path: Path):
    script = tmp_path / "pager.py"
    script.write_text(FAKE_PAGER)
    report = tmp_path / "pager.json"

    def env(vault: Path, lines: int = 0, **extra: str) -> dict:
        return cli_env(vault, **{"PAGER": f"{sys.executable} {script} {report} {lines}", **extra})
    env.report = report  # type: ignore[attr-defined]
    return env


def _run(args, env, **kw) -> PtySession:
    return PtySession(args, env, **kw)


# -- diff -------------------------------------------------------------------------------------------

def test_diff_is_coloured_on_a_terminal_and_plain_through_a_pipe(pair: Path) -> None:
    s = _run(["diff", "-2", "-1", "--no-pager"], cli_env(pair))
    try:
        assert s.wait(60) == 0, s.text
        text = s.text
    finally:
        s.close()
    assert "\x1b[1mFrames that grew" in text  # bold titles, coloured cells
    assert re.search(r"\x1b\[[0-9;]*31m", text), text  # red: grew
    assert "hot" in text
    piped = run_cli(["diff", "-2", "-1"], pair)
    assert piped.returncode == 0 and b"\x1b" not in piped.stdout and b"hot" in piped.stdout
    no_colour = _run(["diff", "-2", "-1", "--no-pager"], cli_env(pair, NO_COLOR="1"))
    try:
        assert no_colour.wait(60) == 0
        assert "\x1b[" not in no_colour.text.replace("\x1b[?1h", "").replace("\x1b=", "")
    finally:
        no_colour.close()


def test_diff_svg_written_from_a_terminal_has_no_escape_codes(pair: Path, tmp_path: Path) -> None:
    out = tmp_path / "d.svg"
    s = _run(["diff", "-2", "-1", "-o", str(out)], cli_env(pair))
    try:
        assert s.wait(60) == 0, s.text
    finally:
        s.close()
    svg = out.read_text()
    assert svg.startswith("<?xml") or svg.startswith("<svg")
    assert "\x1b" not in svg and "ago)" not in svg  # no colour codes, no relative times in files


# -- the pager ----------------------------------------------------------------------------------------

def test_pager_runs_on_a_terminal_only(pair: Path, fake_pager) -> None:
    s = _run(["diff", "-2", "-1"], fake_pager(pair))
    try:
        assert s.wait(60) == 0, s.text
        s.expect("FAKE-PAGER-RAN")
    finally:
        s.close()
    report = json.loads(fake_pager.report.read_text())
    assert report["piped"] and report["tty_out"]  # it reads a pipe and writes the terminal
    assert "hot" in report["data"] and "\x1b[" in report["data"]  # colour decided by the terminal, kept for less -R
    assert report["less"] == "FRSX"
    fake_pager.report.unlink()
    piped = run_cli(["diff", "-2", "-1"], pair, env=fake_pager(pair))
    assert piped.returncode == 0 and b"hot" in piped.stdout
    assert not fake_pager.report.exists(), "the pager ran although stdout was a pipe"
    for args in (["--no-pager", "diff", "-2", "-1"], ["list", "--no-pager"]):
        s = _run(args, fake_pager(pair))
        try:
            assert s.wait(60) == 0, s.text
        finally:
            s.close()
        assert "FAKE-PAGER-RAN" not in s.text and not fake_pager.report.exists(), args
    s = _run(["list"], fake_pager(pair, PAGER="cat"))  # PAGER=cat: no pager at all
    try:
        assert s.wait(60) == 0 and "FAKE-PAGER-RAN" not in s.text
    finally:
        s.close()


def test_a_pager_quitting_early_is_no_error(lib, tmp_path: Path, fake_pager) -> None:
    path = tmp_path / "many"
    with spikevault.Vault(path, durability=0) as v:
        for i in range(1200):  # about 130 KB of table: more than a pipe holds
            v.save(process_name=f"worker-{i}", pid=1000 + i, metric="cpu", value=i, artefacts={"s.txt": b"x"})
    s = _run(["list"], fake_pager(path, lines=3))
    try:
        assert s.wait(120) == 0, s.text[-2000:]
        s.expect("FAKE-PAGER-RAN")
        assert "Traceback" not in s.text and "Broken pipe" not in s.text
    finally:
        s.close()
    assert len(json.loads(fake_pager.report.read_text())["data"].splitlines()) == 3


def test_default_pager_less_quits_on_one_screen(pair: Path) -> None:
    if shutil.which("less") is None:
        pytest.skip("less is not installed")
    s = _run(["list"], cli_env(pair, PAGER=None, LESS=None))
    try:
        assert s.wait(60) == 0, s.text  # less -F: one screen, no keypress needed
        assert re.search(r"\bw\b", re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", s.text)), s.text
    finally:
        s.close()


# -- record -------------------------------------------------------------------------------------------

CHILD = r"""
import os, signal, sys, time
mode = sys.argv[1]
print(f"child-tty={os.isatty(0) and os.isatty(1)}", flush=True)
if mode == "handle":
    signal.signal(signal.SIGINT, lambda *a: (print("child got SIGINT", flush=True), os._exit(42)))
else:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # killed by it, as most programs are
t = time.time()
while time.time() - t < 0.5: pass  # some CPU to capture
print("ready", flush=True)
if mode == "exit":
    sys.exit(3)
while True:
    time.sleep(0.05)
"""


def test_record_on_a_terminal_passes_the_exit_status_and_the_terminal(lib, tmp_path: Path) -> None:
    vault = tmp_path / "v"
    s = _run(["record", "--backend", "procfs", "--", sys.executable, "-c", CHILD, "exit"], cli_env(vault))
    try:
        assert s.wait(90) == 3, s.text
        text = s.text
    finally:
        s.close()
    assert "child-tty=True" in text  # the command runs on the same terminal
    m = re.search(r"exited with status 3; capture (\d+)", text)
    assert m, text
    with spikevault.Vault(vault, create=False) as v:
        record = v.get(int(m.group(1)))
    assert record.notes.get("recordedCommand", [None])[0] == sys.executable


@pytest.mark.parametrize("mode,status", [("handle", 42), ("default", 130)])
def test_record_passes_ctrl_c_to_the_command(lib, tmp_path: Path, mode: str, status: int) -> None:
    vault = tmp_path / "v"
    s = _run(["record", "--backend", "procfs", "--", sys.executable, "-c", CHILD, mode], cli_env(vault))
    try:
        s.expect("ready", timeout=60)
        s.send(b"\x03")  # the terminal's Ctrl-C: SIGINT to the foreground group
        assert s.wait(90) == status, s.text
        text = s.text
    finally:
        s.close()
    if mode == "handle":
        assert "child got SIGINT" in text
    assert f"exited with status {status}" in text and "Traceback" not in text
    assert "interrupted" not in text  # record itself ignored the Ctrl-C; the command decided
    m = re.search(r"capture (\d+)", text)
    assert m, text  # what ran until the Ctrl-C is stored
    with spikevault.Vault(vault, create=False) as v:
        assert v.get(int(m.group(1))).status.stored_name in ("complete", "partial")
