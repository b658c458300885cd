"""Nothing hostile reaches a terminal or a spreadsheet (issue #11): names, command lines and
notes that came from a process are shown with control characters as visible escapes, by the
CLI (on a real pseudo-terminal) and by the library's text summaries; CSV cells a spreadsheet
would evaluate are neutralised."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, Tuple

import pytest

import spikevault
from test_cli import cli_env, run_cli, run_pty

# What an attacker puts in a name: retitle the window, clear the screen, forge a line, and
# reorder text with a bidi override.
HOSTILE_NAME = "evil\x1b]0;owned\x07\x1b[2J\nExecutable: /usr/bin/legit\u202e"
HOSTILE_COMM = "\x1b[2Jevil\x1b]0;x\x07"  # fits the kernel's 15-byte comm
RAW_SEQUENCES = ("\x1b]0;", "\x1b[2J", "\u202e", "\x07")


def _assert_no_raw_sequences(text: str) -> None:
    for seq in RAW_SEQUENCES:
        assert seq not in text, f"{seq!r} reached the terminal: {text!r}"
    assert not any(line.startswith("Executable: /usr/bin/legit") for line in text.splitlines()), text


@pytest.fixture
def hostile_vault(lib, tmp_path: Path) -> Tuple[Path, int]:
    path = tmp_path / "v"
    with spikevault.Vault(path, max_age_seconds=0) as v:
        capture_id = v.save(process_name=HOSTILE_NAME, pid=77, metric="cpu", value=99,
                            notes={"why": "line\nExecutable: /usr/bin/legit\x1b[2J"},
                            artefacts={"oncpu.folded": b"main;\x1b[2Jframe\x1b]0;t\x07 3\n"})
    return path, capture_id


def test_list_and_show_escape_hostile_names_on_a_terminal(hostile_vault) -> None:
    path, capture_id = hostile_vault
    for args in (["list"], ["show", str(capture_id)], ["show", str(capture_id), "--no-redact"]):
        code, text = run_pty(args, cli_env(path))
        assert code == 0, text
        _assert_no_raw_sequences(text)
        assert "\\x1b[2J" in text, text  # shown, as a visible escape
    # Piped output is escaped the same way (a pager or a log viewer is a terminal too).
    r = run_cli(["list"], path)
    assert r.returncode == 0
    _assert_no_raw_sequences(r.stdout.decode())


def test_library_text_summary_escapes_every_process_string(hostile_vault) -> None:
    path, capture_id = hostile_vault
    with spikevault.Vault(path, create=False) as v:
        for redact in (True, False):
            text = v.summary(capture_id, "text", redact=redact)
            assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
            assert not any(line.startswith("Executable: /usr/bin/legit") for line in text.splitlines())
            assert "evil\\x1b]0;owned\\x07" in text
        # JSON keeps the exact bytes: escaping is for display, JSON encoders escape for themselves.
        assert v.summary(capture_id, "json")["processName"] == HOSTILE_NAME


def test_library_and_cli_escape_invisible_characters_alike(lib, tmp_path: Path) -> None:
    """Format characters, odd spaces, private-use and unassigned code points look like nothing
    or like a space; the library's text (show) escapes exactly what the CLI's visible() does."""
    from spikevault.textsafe import visible

    name = "zw\u200bsp bom\ufeff nb\u00a0sp soft\u00adhy pua\ue000 un\U000e0080 ideo\u3000sp \u65e5\u672c e\u0301"
    with spikevault.Vault(tmp_path / "v", max_age_seconds=0) as v:
        capture_id = v.save(process_name=name, pid=78, metric="cpu", value=1, artefacts={"a": b"x"})
        text = v.summary(capture_id, "text", redact=False)
    assert visible(name) in text, text
    for raw in ("\u200b", "\ufeff", "\u00a0", "\u00ad", "\ue000", "\U000e0080", "\u3000"):
        assert raw not in text, f"{raw!r} shown raw"
    assert "\u65e5\u672c e\u0301" in text  # printable text stays as it is
    r = run_cli(["show", str(capture_id), "--no-redact"], tmp_path / "v")
    assert r.returncode == 0 and visible(name) in r.stdout.decode(), r.stdout


@pytest.fixture
def hostile_process() -> Iterator[subprocess.Popen]:
    """A CPU-busy process whose kernel name (comm) holds escape sequences and whose command
    line forges an output line."""
    code = (f"open('/proc/self/comm', 'w').write({HOSTILE_COMM!r})\n"
            "import sys\nsys.stdout.write('ready\\n'); sys.stdout.flush()\nwhile True:\n    pass\n")
    child = subprocess.Popen([sys.executable, "-c", code, "x\nExecutable: /usr/bin/legit"], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        yield child
    finally:
        child.kill()
        child.wait()


def test_capture_output_escapes_a_hostile_process_name(lib, tmp_path: Path, hostile_process) -> None:
    path = tmp_path / "v"
    code, text = run_pty(["capture", str(hostile_process.pid), "--duration", "1s", "--backend", "procfs"],
                         cli_env(path), timeout=90)
    assert code == 0, text
    _assert_no_raw_sequences(text)
    assert "\\x1b[2Jevil" in text
    code, text = run_pty(["show", "1", "--no-redact"], cli_env(path))
    assert code == 0, text
    _assert_no_raw_sequences(text)


def test_watch_output_escapes_a_hostile_process_name(lib, tmp_path: Path, hostile_process) -> None:
    path = tmp_path / "v"
    # 20% of a core for 1 s: a busy loop gets far more even beside two CPU burners.
    code, text = run_pty(["watch", "--cpu", "20", "--sustain", "1s", "--for", "8s", "--include", "*evil*",
                          "--backend", "procfs", "--duration", "1s"], cli_env(path), timeout=90)
    assert code == 0, text
    _assert_no_raw_sequences(text)
    assert " fired " in text and "\\x1b[2Jevil" in text, text


def test_csv_cells_a_spreadsheet_would_evaluate_are_neutralised(lib, tmp_path: Path) -> None:
    path = tmp_path / "v"
    names = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tlead", "\rlead", "plain", "a=b"]
    with spikevault.Vault(path, max_age_seconds=0) as v:
        for i, name in enumerate(names):
            v.save(process_name=name, pid=100 + i, metric="cpu", value=1, notes={"k": "=1+1"})
        out = tmp_path / "x.csv"
        v.export_records(out, "csv", redact=False, order="time-asc")
        rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode(), newline="")))
        shown = {int(r["pid"]): r["processName"] for r in rows}
        for i, name in enumerate(names):
            expected = name if name[0] not in "=+-@\t\r" else "'" + name
            assert shown[100 + i] == expected
        assert all(not r["processName"].startswith(("=", "+", "-", "@")) for r in rows)
        # JSON is not for spreadsheets: the names stay as captured.
        j = tmp_path / "x.json"
        v.export_records(j, "json", redact=False)
        assert sorted(r["processName"] for r in json.loads(j.read_text())) == sorted(names)
    # The CLI's CSV is the library's.
    r = run_cli(["export", "--format", "csv", "--no-redact"], path)
    assert r.returncode == 0 and b"\"'=HYPERLINK(" in r.stdout
