"""`spikevault diff`: the frames that grew and shrank between two real stored captures, as a text
table through a pipe and as a differential flame graph (red grew, blue shrank, widths from B)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import spikevault
from test_cli import run_cli

BEFORE = b"main;run;cold 50\nmain;idle 50\n"
AFTER = b"main;run;cold 10\nmain;run;hot 80\nmain;idle 10\n"


@pytest.fixture
def pair(lib, tmp_path: Path) -> Path:
    path = tmp_path / "v"
    with spikevault.Vault(path, durability=0) as v:
        v.save(process_name="w", pid=7, metric="cpu", value=1, artefacts={"oncpu.folded": BEFORE})
        v.save(process_name="w", pid=7, metric="cpu", value=1, artefacts={"oncpu.folded": AFTER})
    return path


def test_table_names_what_grew_and_shrank(pair: Path) -> None:
    r = run_cli(["diff", "-2", "-1"], pair)
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode()
    grew, shrank = text.split("Frames that shrank")
    assert re.search(r"\+80\.0%\s+0\.0%\s+80\.0%\s+hot", grew), text
    assert re.search(r"-40\.0%\s+50\.0%\s+10\.0%\s+idle", shrank), text
    assert "hot" not in shrank and "idle" not in grew


def test_svg_colours_by_change(pair: Path, tmp_path: Path) -> None:
    out = tmp_path / "d.svg"
    r = run_cli(["diff", "1", "2", "-o", str(out)], pair)
    assert r.returncode == 0, r.stderr
    svg = out.read_text()
    fill = {m.group(1): m.group(2) for m in
            re.finditer(r"<title>(\w+) \([^<]*</title><rect [^>]*fill=\"rgb\((\d+,\d+,\d+)\)\"", svg)}
    red, green, blue = (int(c) for c in fill["hot"].split(","))
    assert red == 255 and blue < red  # grew: red
    red, green, blue = (int(c) for c in fill["idle"].split(","))
    assert blue == 255 and red < blue  # shrank: blue
    assert "ago)" not in svg  # no relative time written into a file


def test_same_capture_twice_has_no_change_and_bad_ids_exit_2(pair: Path) -> None:
    r = run_cli(["diff", "1", "1"], pair)
    assert r.returncode == 0 and "hot" not in r.stdout.decode()
    r = run_cli(["diff", "1", "abc!"], pair)
    assert r.returncode in (1, 2) and b"Traceback" not in r.stderr


def test_hostile_process_name_is_escaped_in_the_table(lib, tmp_path: Path) -> None:
    path = tmp_path / "v"
    name = "e\x1b]0;pwn\x07x"
    with spikevault.Vault(path, durability=0) as v:
        v.save(process_name=name, pid=7, metric="cpu", value=1, artefacts={"oncpu.folded": BEFORE})
        v.save(process_name=name, pid=7, metric="cpu", value=1, artefacts={"oncpu.folded": b"main;\x1b[2Jx 3\n"})
    r = run_cli(["diff", "1", "2"], path)
    assert r.returncode == 0, r.stderr
    assert b"\x1b" not in r.stdout and b"\x07" not in r.stdout, r.stdout
    assert b"e\\x1b]0;pwn\\x07x" in r.stdout


def test_capture_against_its_history_compares_on_cpu_stacks(lib, tmp_path: Path) -> None:
    # history.folded as the monitor writes it: each stack rooted at [on-cpu] or [off-cpu].
    history = b"[on-cpu];main;run;cold 6\n[on-cpu];main;idle 4\n[off-cpu];main;wait 90\n"
    path = tmp_path / "v"
    with spikevault.Vault(path, durability=0) as v:
        v.save(process_name="w", pid=7, metric="cpu", value=1,
               artefacts={"oncpu.folded": AFTER, "history.folded": history})
    r = run_cli(["diff", "1", "--json"], path)
    assert r.returncode == 0, r.stderr
    import json
    doc = json.loads(r.stdout)
    assert doc["before"]["kind"] == "history.folded" and doc["before"]["samples"] == 10
    frames = {f["frame"]: f for f in doc["frames"]}
    assert "[on-cpu]" not in frames and "wait" not in frames  # off-CPU history left out, root removed
    assert frames["hot"]["beforePercent"] == 0 and frames["hot"]["afterPercent"] == 80
    assert frames["cold"]["beforePercent"] == 60
