"""Nothing secret leaves a redacted output (issue #11): a real process is captured with
secrets in its command line and paths under the home directory, then every byte of every
output meant to leave the machine is scanned, artefact contents included."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from test_cli import cli_env, run_cli

# Each canary is a secret the redactor must mask (the flag or name stays readable).
CANARIES = {
    "--password": "hunter2canary",
    "--api-key=": "k3yCanaryValue",
    "postgres URL": "Pa55Canary",
    "TOKEN=": "T0kenCanary",
    "AWS_SECRET_ACCESS_KEY=": "AwsSecretCanary",
    "-p glued": "Glu3dCanary",
}


@pytest.fixture
def captured(lib, tmp_path: Path) -> Iterator[Tuple[Path, Dict[str, str], int]]:
    """A vault holding one capture of a busy process started from a script under $HOME,
    with secrets in its arguments; yields the vault, the CLI environment and the id."""
    home = tmp_path / "home" / "alice"
    (home / "app").mkdir(parents=True)
    script = home / "app" / "worker.py"
    script.write_text("import sys\nwhile True:\n    pass\n")
    argv = [sys.executable, str(script), "--password", CANARIES["--password"],
            "--api-key=" + CANARIES["--api-key="], "--db", f"postgres://admin:{CANARIES['postgres URL']}@db/x",
            "TOKEN=" + CANARIES["TOKEN="], "AWS_SECRET_ACCESS_KEY=" + CANARIES["AWS_SECRET_ACCESS_KEY="],
            "-p" + CANARIES["-p glued"]]
    child = subprocess.Popen(argv, cwd=home)
    vault = tmp_path / "v"
    env = cli_env(vault, HOME=str(home))
    try:
        r = run_cli(["capture", str(child.pid), "--duration", "1s", "--json"], env=env, timeout=120)
        assert r.returncode == 0, r.stderr
        capture_id = json.loads(r.stdout)["id"]
    finally:
        child.kill()
        child.wait()
    yield vault, env, capture_id


def _leaks(data: bytes, home: str) -> List[str]:
    found = [c for c in CANARIES.values() if c.encode() in data]
    if home.encode() in data:
        found.append(home)
    return found


def _bundle_members(path: Path, tmp_path: Path) -> Dict[str, bytes]:
    """Every member of the bundle, .zst members decompressed with the zstd tool."""
    members: Dict[str, bytes] = {}
    with tarfile.open(path) as tar:
        for m in tar.getmembers():
            f = tar.extractfile(m)
            assert f is not None, m.name
            data = f.read()
            if m.name.endswith(".zst"):
                data = subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=True).stdout
            members[m.name] = data
    return members


def test_redacted_bundle_carries_no_secret_in_any_member(captured, tmp_path: Path) -> None:
    if shutil.which("zstd") is None:
        pytest.skip("the zstd tool is needed to read bundle members (scripts/deps.sh installs it)")
    vault, env, capture_id = captured
    home = env["HOME"]
    # Unredacted first: the canaries really were captured, so the scan below can fail.
    raw = tmp_path / "raw.tar"
    assert run_cli(["export", "--format", "bundle", "--no-redact", "-o", str(raw)], env=env).returncode == 0
    raw_members = _bundle_members(raw, tmp_path)
    procfs = [name for name in raw_members if "procfs.json" in name]
    assert procfs and set(CANARIES.values()) <= set(_leaks(raw_members[procfs[0]], home))

    shared = tmp_path / "shared.tar"
    r = run_cli(["export", "--format", "bundle", "-o", str(shared)], env=env)
    assert r.returncode == 0, r.stderr
    members = _bundle_members(shared, tmp_path)
    # The same artefacts are in it (text artefacts are redacted, not dropped)...
    assert sorted(members) == sorted(raw_members)
    for name, data in members.items():
        assert _leaks(data, home) == [], name
    redacted_procfs = members[procfs[0]].decode()
    assert "<redacted>" in redacted_procfs and "--password" in redacted_procfs and "~/app/worker.py" in redacted_procfs
    # ...and the metadata describes the copies in the archive (checksum of the redacted bytes).
    meta = json.loads(members["metadata.json"])
    assert meta["redacted"] is True and meta["formatVersion"] == 2
    assert {f["path"] for f in meta["files"]} == {n for n in members if n != "metadata.json"}
    for f in meta["files"]:
        assert f["rawBytes"] == len(members[f["path"]])


def test_record_exports_summary_dump_and_stacks_are_redacted(captured, tmp_path: Path) -> None:
    vault, env, capture_id = captured
    home = env["HOME"]
    for fmt in ("json", "ndjson", "csv"):
        r = run_cli(["export", "--format", fmt], env=env)
        assert r.returncode == 0 and _leaks(r.stdout, home) == [], fmt
    show = run_cli(["show", str(capture_id)], env=env)
    assert show.returncode == 0 and _leaks(show.stdout, home) == []
    show_json = run_cli(["show", str(capture_id), "--json"], env=env)
    assert show_json.returncode == 0 and _leaks(show_json.stdout, home) == []

    plain = run_cli(["dump", str(capture_id), "--kind", "procfs.json"], env=env)
    assert plain.returncode == 0 and CANARIES["--password"].encode() in plain.stdout  # dump is as stored by default
    masked = run_cli(["dump", str(capture_id), "--kind", "procfs.json", "--redact"], env=env)
    assert masked.returncode == 0 and _leaks(masked.stdout, home) == []
    json.loads(masked.stdout)  # still a valid document
    out = tmp_path / "procfs.json"
    assert run_cli(["dump", str(capture_id), "--kind", "procfs.json", "--redact", "-o", str(out)], env=env).returncode == 0
    assert out.read_bytes() == masked.stdout

    kinds = json.loads(show_json.stdout).get("artefacts") or []
    if any(str(k.get("kind", "")).endswith(".folded") for k in kinds if isinstance(k, dict)):
        for fmt in ("svg", "speedscope"):
            r = run_cli(["flamegraph", str(capture_id), "--format", fmt], env=env)
            assert r.returncode == 0 and _leaks(r.stdout, home) == [], fmt


def test_library_redacted_read_of_a_binary_artefact_is_refused(vault, tmp_path: Path) -> None:
    import spikevault

    capture_id = vault.save(process_name="bin", pid=5, metric="cpu", value=1,
                            artefacts={"blob.bin": b"\x00\x01secret", "note.txt": b"--password s3cret\n"})
    assert vault.read_artefact(capture_id, "note.txt", redact=True) == b"--password <redacted>\n"
    assert vault.read_artefact(capture_id, "note.txt") == b"--password s3cret\n"  # stored data unchanged
    with pytest.raises(spikevault.UnsupportedError, match="binary"):
        vault.read_artefact(capture_id, "blob.bin", redact=True)
    report = vault.export_bundle(tmp_path / "b.tar")
    assert report == 1 and report.files == 1
    assert [(w["captureId"], w["kind"]) for w in report.withheld] == [(capture_id, "blob.bin")]
    full = vault.export_bundle(tmp_path / "full.tar", redact=False)
    assert full.files == 2 and full.left_out == []


def test_json_values_under_secret_keys_are_masked(vault, tmp_path: Path) -> None:
    doc = {"db": {"password": "pw-in-json", "host": "db1"}, "api_token": "tok-in-json",
           "args": ["serve", "--password", "pw-in-argv"], "key:\"odd\"": "a \\ \" : b"}
    capture_id = vault.save(process_name="cfg", pid=6, metric="cpu", value=1, notes={"db": {"password": "pw-in-notes"}},
                            artefacts={"config.json": json.dumps(doc).encode()})
    masked = json.loads(vault.read_artefact(capture_id, "config.json", redact=True))
    assert masked == {"db": {"password": "<redacted>", "host": "db1"}, "api_token": "<redacted>",
                      "args": ["serve", "--password", "<redacted>"], "key:\"odd\"": "a \\ \" : b"}
    out = tmp_path / "x.json"
    vault.export_records(out, "json")
    assert "pw-in-notes" not in out.read_text()


def test_a_private_key_spread_over_lines_of_a_folded_artefact_is_masked(vault) -> None:
    folded = b"main;load 3\n-----BEGIN RSA PRIVATE KEY-----\nMIIEfoldedKeyCanary\n-----END RSA PRIVATE KEY-----\n"
    capture_id = vault.save(process_name="k", pid=7, metric="cpu", value=1, artefacts={"oncpu.folded": folded})
    masked = vault.read_artefact(capture_id, "oncpu.folded", redact=True)
    assert b"MIIEfoldedKeyCanary" not in masked and b"main;load 3" in masked
