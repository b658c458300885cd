"""Adversarial pass over Parquet export and ``fleet``: hostile process names and frames
reach the terminal escaped, and tampered or racing exports keep the tree right."""

from __future__ import annotations

import json
import re
from pathlib import Path

import spikevault
from test_cli import run_cli
from test_fleet import need_duckdb

# ESC-based OSC and CSI, a C1 CSI (U+009B), a right-to-left override and a newline.
HOSTILE = "ev\x1b]0;pwn\x07il\x1b[2J\u009b31m\u202eRTL\nx"
# Bytes that act on a terminal: C0 controls but the JSON's own newlines, DEL, C1 in UTF-8, bidi controls.
TERMINAL_ACTIVE = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]")


def test_fleet_output_escapes_hostile_names_and_frames(lib, tmp_path: Path) -> None:
    need_duckdb()
    with spikevault.Vault(tmp_path / "v", durability=0, max_age_seconds=0, host_name="h1") as v:
        v.save(process_name=HOSTILE, pid=7, metric="cpu", value=50.0,
               artefacts={"oncpu.folded": ("main;" + HOSTILE.replace("\n", " ") + " 5\n").encode()})
        assert v.export_parquet(tmp_path / "tree", redact=False) == 1
    for template in ("top-processes", "hottest-stacks"):
        r = run_cli(["fleet", str(tmp_path / "tree"), "--template", template])
        assert r.returncode == 0, r.stderr
        assert not TERMINAL_ACTIVE.search(r.stdout), r.stdout
        rows = json.loads(r.stdout)
        text = rows[0]["processName"] if template == "top-processes" else rows[0]["stack"]
        assert "\u009b31m\u202eRTL" in text  # the same text, only escaped on the way out
