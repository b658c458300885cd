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


def _ids(tree: Path) -> list:
    from test_fleet import parquet_rows
    return sorted(r["captureId"] for r in parquet_rows(tree, "captures"))


def _save(v: spikevault.Vault, n: int) -> None:
    for _ in range(n):
        v.save(process_name="p", pid=1, metric="cpu", value=1.0, artefacts={"oncpu.folded": b"a;b 3\n"})


def test_lost_or_tampered_watermark_does_not_duplicate_rows(lib, tmp_path: Path) -> None:
    import sqlite3
    need_duckdb()
    tree = tmp_path / "tree"
    with spikevault.Vault(tmp_path / "v", durability=0, max_age_seconds=0, host_name="h1") as v:
        _save(v, 5)
        assert v.export_parquet(tree) == 5
        _save(v, 3)
        assert v.export_parquet(tree) == 3
        for marker in (tree / "_spikevault").glob("*.watermark"):
            marker.unlink()  # the tree's marker lost, its files kept: everything again, once
        assert v.export_parquet(tree) == 8 and _ids(tree) == list(range(1, 9))
        db = sqlite3.connect(tmp_path / "v" / "vault.sqlite3")
        db.execute("UPDATE export_watermark SET lastId = 2")  # disagrees with the marker
        db.commit()
        _save(v, 1)
        assert v.export_parquet(tree) == 9 and _ids(tree) == list(range(1, 10))
        db.execute("UPDATE export_watermark SET lastId = 1000")  # past the last capture, marker too
        db.commit()
        db.close()
        (next((tree / "_spikevault").glob("*.watermark"))).write_text("1000\n")
        _save(v, 1)
        assert v.export_parquet(tree) == 10 and _ids(tree) == list(range(1, 11))


def test_parquet_marker_directory_symlink_refused(lib, tmp_path: Path) -> None:
    need_duckdb()
    (tmp_path / "tree").mkdir(mode=0o700)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "tree" / "_spikevault").symlink_to(tmp_path / "elsewhere")
    with spikevault.Vault(tmp_path / "v", durability=0, max_age_seconds=0, host_name="h1") as v:
        _save(v, 1)
        try:
            v.export_parquet(tmp_path / "tree")
            raise AssertionError("exported through a symlinked _spikevault")
        except spikevault.UnsafePathError:
            pass
    assert not any((tmp_path / "elsewhere").iterdir())


def test_concurrent_exports_into_one_tree(lib, tmp_path: Path) -> None:
    import threading
    need_duckdb()
    tree = tmp_path / "tree"
    with spikevault.Vault(tmp_path / "v", durability=0, max_age_seconds=0, host_name="h1") as v:
        _save(v, 2)
        stop, errors = threading.Event(), []
        def saver() -> None:
            while not stop.is_set():
                _save(v, 1)
        def exporter() -> None:
            try:
                for _ in range(4):
                    v.export_parquet(tree)
            except Exception as exc:
                errors.append(exc)
        s = threading.Thread(target=saver)
        s.start()
        exporters = [threading.Thread(target=exporter) for _ in range(2)]
        [t.start() for t in exporters]
        [t.join() for t in exporters]
        stop.set()
        s.join()
        assert errors == []
        v.export_parquet(tree)
        last = max(r.id for r in v.query())
    assert _ids(tree) == list(range(1, last + 1))  # every capture once, none twice


def test_tampered_host_in_the_database_is_partitioned_safely(lib, tmp_path: Path) -> None:
    import sqlite3
    need_duckdb()
    with spikevault.Vault(tmp_path / "v", durability=0, max_age_seconds=0, host_name="h1") as v:
        _save(v, 3)
        db = sqlite3.connect(tmp_path / "v" / "vault.sqlite3")
        for rid, host in ((1, "../../escaped"), (2, "x" * 300), (3, "a/b\x1b[2J")):
            db.execute("UPDATE profile_capture SET host = ? WHERE id = ?", (host, rid))
        db.commit()
        db.close()
        assert v.export_parquet(tmp_path / "tree") == 3
    hosts = sorted(p.name for p in (tmp_path / "tree" / "captures").iterdir())
    assert len(hosts) == 3 and "host=h..-..-escaped" in hosts and "host=a-b--2J" in hosts
    long = next(h for h in hosts if h.startswith("host=xxx"))
    assert len(long) == 255 and re.fullmatch(r"host=x{233}-[0-9a-f]{16}", long)
    assert not (tmp_path / "escaped").exists() and _ids(tmp_path / "tree") == [1, 2, 3]


def test_longest_valid_host_name_exports(lib, tmp_path: Path) -> None:
    need_duckdb()
    names = ["a" * 253, "a" * 252 + "b"]  # valid names; host=NAME would pass NAME_MAX (255)
    for i, name in enumerate(names):
        with spikevault.Vault(tmp_path / f"v{i}", durability=0, max_age_seconds=0, host_name=name) as v:
            _save(v, 1)
            assert v.get(1).host == name
            assert v.export_parquet(tmp_path / "tree") == 1
    hosts = [p.name for p in (tmp_path / "tree" / "captures").iterdir()]
    assert len(hosts) == 2 and all(len(h) <= 255 for h in hosts)  # kept apart by the hash
    r = run_cli(["fleet", str(tmp_path / "tree"), "--template", "top-processes"])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["hosts"] == 2
