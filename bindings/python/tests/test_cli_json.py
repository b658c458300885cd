"""Every verb's --json against its written schema (spikevault/cli/schemas/cli.schema.json,
docs/json.md), on real vaults and a real capture; and the one time helper."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

import spikevault
from spikevault.cli.jsonout import json_time, normalise_times
from test_cli import FOLDED, cli_env, run_cli

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is installed by scripts/deps.sh")

SCHEMA = json.loads((Path(spikevault.__file__).parent / "cli" / "schemas" / "cli.schema.json").read_text())


def check(name: str, doc: Any) -> None:
    jsonschema.validate(doc, {"$ref": f"#/$defs/{name}", "$defs": SCHEMA["$defs"]},
                        format_checker=jsonschema.FormatChecker())


def test_json_time_from_every_representation() -> None:
    expected = "2026-12-03 09:41:00.123Z"
    assert json_time(1796290860123) == expected
    assert json_time("1796290860123") == expected
    assert json_time("2026-12-03T09:41:00.123Z") == expected
    assert json_time("2026-12-03 09:41:00.123") == expected  # SQLite text is UTC
    assert json_time("2026-12-03T10:41:00.123+01:00") == expected
    assert json_time(datetime(2026, 12, 3, 9, 41, 0, 123000, tzinfo=timezone.utc)) == expected
    assert json_time("2026-12-03 09:41:00") == "2026-12-03 09:41:00.000Z"
    assert json_time(None) is None
    with pytest.raises(ValueError):
        json_time("tuesday")
    assert normalise_times({"a": [{"capturedAt": 0}]}) == {"a": [{"capturedAt": "1970-01-01 00:00:00.000Z"}]}


@pytest.fixture(scope="module")
def two(lib, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("json") / "vault"
    now = datetime.now(timezone.utc)
    with spikevault.Vault(path, durability=0) as v:
        v.save(process_name="worker", pid=101, metric="cpu", value=50, captured_at=now - timedelta(minutes=9),
               artefacts={"oncpu.folded": FOLDED})
        v.save(process_name="worker", pid=101, metric="cpu", value=97.5, captured_at=now - timedelta(minutes=1),
               artefacts={"oncpu.folded": FOLDED + b"main;run;hot 80\n", "procfs.json": b"{}"})
    return path


@pytest.mark.parametrize("args,name", [
    (["list", "--json"], "list"), (["show", "latest", "--json"], "show"), (["show", "worker", "--all", "--json"], "show-all"),
    (["diff", "-2", "-1", "--json"], "diff"), (["stats", "--json"], "stats"), (["stats", "--template", "hourly", "--json"], "stats"),
    (["export", "--format", "json"], "export"), (["purge", "--dry-run", "--json"], "purge-dry-run"),
])
def test_every_verb_json_matches_its_schema(two: Path, args: list, name: str) -> None:
    r = run_cli(args, two)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    check(name, doc)
    text = r.stdout.decode()
    assert '"capturedAt": 1' not in text and '"capturedAt":1' not in text  # never milliseconds


def test_ndjson_rows_match_the_record_schema(two: Path) -> None:
    r = run_cli(["export", "--format", "ndjson"], two)
    rows = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert len(rows) == 2
    for row in rows:
        check("record", row)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen]:
    p = subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(0.05)"])
    yield p
    p.kill()
    p.wait()


def test_capture_record_rerun_purge_json(lib, tmp_path: Path, sleeper: subprocess.Popen) -> None:
    vault = tmp_path / "v"
    r = run_cli(["capture", str(sleeper.pid), "--backend", "procfs", "--duration", "300ms", "--json"], vault)
    assert r.returncode == 0, r.stderr
    check("capture", json.loads(r.stdout))
    r = run_cli(["rerun", "latest", "--json"], vault)
    assert r.returncode == 0, r.stderr
    check("rerun", json.loads(r.stdout))
    r = run_cli(["record", "--backend", "procfs", "--json", "--", sys.executable, "-c",
                 "import time\nt=time.time()\nwhile time.time()-t<0.5: pass\nraise SystemExit(4)"], vault)
    assert r.returncode == 4, r.stderr
    doc = json.loads(r.stdout)
    check("record-verb", doc)
    assert doc["exitStatus"] == 4
    r = run_cli(["purge", "--older-than", "1000d", "--json"], vault)
    assert r.returncode == 0, r.stderr
    check("purge", json.loads(r.stdout))
