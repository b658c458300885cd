"""Adversarial pass over stacks read back by the command (flamegraph, diff) and over text
exports: counts that overflow or are not whole numbers, and names or frames holding line
separators that Python's ``str.splitlines`` splits at but the library's formats do not."""

from __future__ import annotations

import json
from pathlib import Path

import spikevault
from spikevault.cli.stacks import parse_folded
from test_cli import run_cli

# NEL (U+0085), LINE SEPARATOR and PARAGRAPH SEPARATOR: inside one line of every library format.
SEPARATORS = "a\u0085b\u2028c\u2029d"


def test_parse_folded_follows_the_librarys_rules() -> None:
    data = (b"a;inf inf\na;big 1e400\na;nan nan\na;huge 99999999999999999999\na;neg -5\na;frac 1.5\n"
            b"a;max 4294967295\na;over 4294967296\n 4\nmain;ok 2\n" + f"x;{SEPARATORS} 3\n".encode())
    assert parse_folded(data) == [(["a", "max"], 4294967295), (["main", "ok"], 2), (["x", SEPARATORS], 3)]


def test_flamegraph_and_diff_keep_frames_with_line_separators(lib, tmp_path: Path) -> None:
    with spikevault.Vault(tmp_path / "v", durability=0, max_age_seconds=0) as v:
        rid = v.save(process_name="w", pid=1, metric="cpu", value=1.0,
                     artefacts={"oncpu.folded": f"main;{SEPARATORS} 3\nmain;b inf\n".encode()})
        path = Path(v.path)
    r = run_cli(["flamegraph", str(rid), "-o", str(tmp_path / "f.svg"), "--no-redact"], vault=path)
    assert r.returncode == 0, r.stderr
    assert "a\u0085b" in (tmp_path / "f.svg").read_text(encoding="utf-8")
    r = run_cli(["diff", str(rid), str(rid), "--json", "--no-redact"], vault=path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["after"]["samples"] == 3


def test_ndjson_export_of_names_with_line_separators(lib, tmp_path: Path) -> None:
    with spikevault.Vault(tmp_path / "v", durability=0, max_age_seconds=0) as v:
        v.save(process_name=SEPARATORS, pid=1, metric="cpu", value=1.0, artefacts={"x.txt": b"x"})
        path = Path(v.path)
    r = run_cli(["export", "--format", "ndjson", "--no-redact", "-o", str(tmp_path / "o.ndjson")], vault=path)
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "o.ndjson").read_bytes().split(b"\n")
    assert [json.loads(x)["processName"] for x in lines if x] == [SEPARATORS]


def test_show_escapes_line_separators_as_textsafe_does(lib, tmp_path: Path) -> None:
    from spikevault.textsafe import visible
    with spikevault.Vault(tmp_path / "v", durability=0, max_age_seconds=0) as v:
        rid = v.save(process_name=SEPARATORS, pid=1, metric="cpu", value=1.0, artefacts={"x.txt": b"x"})
        path = Path(v.path)
    r = run_cli(["show", str(rid), "--no-redact"], vault=path)
    assert r.returncode == 0, r.stderr
    assert "\u2028".encode() not in r.stdout and "\u2029".encode() not in r.stdout and b"\xc2\x85" not in r.stdout
    assert visible(SEPARATORS).encode() in r.stdout  # the library's escape is the Python one
