"""pprof export (docs/fleet.md): every file is read back by ``go tool pprof -top`` and by a
reader generated from the official profile.proto, and matches the folded artefact."""

from __future__ import annotations

import ctypes
import gzip
import shutil
import subprocess
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict

import pytest

import spikevault
from spikevault import Format, Status
from pprof_reader import decode, go_pprof_top, profile_module, stacks
from test_cli import run_cli

WHEN = datetime(2026, 11, 20, 8, 0, 0, 250000, tzinfo=timezone.utc)
FOLDED = (b"main;work;hot 7\nmain;idle 3\nmain;work;cold 2\nmain;work;hot;inner 5\n"
          b"start;[unknown] 1\nmain;a frame with spaces;hot 4\n")


def parse_folded(data: bytes) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for line in data.decode().splitlines():
        stack, _, n = line.rpartition(" ")
        out[stack] = out.get(stack, 0) + int(n)
    return out


def leaf_flat(folded: Dict[str, int]) -> Counter:
    flat: Counter = Counter()
    for stack, n in folded.items():
        flat[stack.split(";")[-1]] += n
    return flat


@pytest.fixture(scope="module")
def pb(tmp_path_factory):
    return profile_module(tmp_path_factory.mktemp("proto"))


def save(vault, kind="oncpu.folded", data=FOLDED, notes=None, name="worker") -> int:
    return vault.save(process_name=name, pid=4242, metric="cpu", value=97.5, captured_at=WHEN, duration=2.5,
                      notes=notes or {}, artefacts={kind: data, "procfs.json": b"{}"})


def test_pprof_matches_the_folded_artefact(vault, pb, tmp_path) -> None:
    rid = save(vault, notes={"capture": {"backend": "eu-stack", "backendsRun": ["procfs", "eu-stack"],
                                          "intervalSeconds": 0.01}})
    dest = tmp_path / "cpu.pb.gz"
    vault.export_stacks(rid, dest, "pprof")
    profile = decode(pb, dest.read_bytes())
    s = profile.string_table
    assert s[0] == ""
    assert [(s[t.type], s[t.unit]) for t in profile.sample_type] == [("samples", "count"), ("cpu", "nanoseconds")]
    assert (s[profile.period_type.type], s[profile.period_type.unit], profile.period) == ("cpu", "nanoseconds", 10_000_000)
    expected = parse_folded(FOLDED)
    got = stacks(profile)
    assert {k: v[0] for k, v in got.items()} == expected
    assert all(v[1] == v[0] * 10_000_000 for v in got.values())
    assert profile.time_nanos == int(WHEN.timestamp() * 1000) * 1_000_000
    assert profile.duration_nanos == 2_500_000_000
    assert len({f.id for f in profile.function}) == len(profile.function) == len({s[f.name] for f in profile.function})
    labels = {(s[l.key], s[l.str] if l.str else l.num) for l in profile.sample[0].label}
    host = vault.get(rid).host
    assert host, "every capture records its host"
    assert labels == {("process", "worker"), ("pid", 4242), ("trigger", "cpu 97.5"), ("host", host)}
    comments = [s[c] for c in profile.comment]
    assert f"spikevault capture {rid} oncpu.folded" in comments and "process: worker" in comments
    assert f"host: {host}" in comments

    total, flat = go_pprof_top(dest, "samples")
    assert total == sum(expected.values())
    assert flat == dict(leaf_flat(expected))
    total_ns, flat_ns = go_pprof_top(dest, "cpu")
    assert total_ns == sum(expected.values()) * 10_000_000
    top = max(flat_ns, key=lambda k: flat_ns[k])
    assert top == leaf_flat(expected).most_common(1)[0][0]


def test_offcpu_and_unknown_period(vault, pb, tmp_path) -> None:
    notes = {"capture": {"backendsRun": ["procfs", "eu-stack"], "intervalSeconds": 0.05}}
    rid = save(vault, kind="offcpu.folded", data=b"main;read;syscall 4\nmain;poll 6\n", notes=notes)
    vault.export_stacks(rid, tmp_path / "off.pb.gz", "pprof")
    p = decode(pb, (tmp_path / "off.pb.gz").read_bytes())
    assert [(p.string_table[t.type], p.string_table[t.unit]) for t in p.sample_type] == \
        [("samples", "count"), ("off-cpu", "nanoseconds")]
    assert p.period == 50_000_000
    assert go_pprof_top(tmp_path / "off.pb.gz", "samples")[0] == 10
    # No sampling rate recorded (a host's own save): samples/count only, no period.
    rid2 = save(vault, kind="history.folded", data=b"a;b 3\na;c 1\n")
    vault.export_stacks(rid2, tmp_path / "hist.pb.gz", "pprof", kind="history.folded")
    p2 = decode(pb, (tmp_path / "hist.pb.gz").read_bytes())
    assert [p2.string_table[t.type] for t in p2.sample_type] == ["samples"] and p2.period == 0
    total, flat = go_pprof_top(tmp_path / "hist.pb.gz")
    assert total == 4 and flat == {"b": 3, "c": 1}


def test_large_profile_compresses_and_reads_back(vault, pb, tmp_path) -> None:
    lines = [f"main;module{i % 50};function_{i % 997};leaf_{i} {1 + i % 13}" for i in range(5000)]
    data = ("\n".join(lines) + "\n").encode()
    rid = save(vault, data=data)
    vault.export_stacks(rid, tmp_path / "big.pb.gz", "pprof")
    raw = (tmp_path / "big.pb.gz").read_bytes()
    p = decode(pb, raw)
    assert {k: v[0] for k, v in stacks(p).items()} == parse_folded(data)
    assert len(raw) < len(gzip.decompress(raw)) / 2, "the deflate stream compresses"
    total, flat = go_pprof_top(tmp_path / "big.pb.gz")
    assert total == sum(parse_folded(data).values()) and len(flat) == 5000


def test_redacted_by_default(vault, pb, tmp_path) -> None:
    home = "/home/alice/src/app.py"
    data = f"main;run {home};--password;hunter2 3\n".encode()
    rid = save(vault, data=data, name="app --token tok-SEEKRIT")
    vault.export_stacks(rid, tmp_path / "r.pb.gz", "pprof")
    raw = gzip.decompress((tmp_path / "r.pb.gz").read_bytes())
    assert b"hunter2" not in raw and b"tok-SEEKRIT" not in raw
    vault.export_stacks(rid, tmp_path / "nr.pb.gz", "pprof", redact=False)
    assert b"hunter2" in gzip.decompress((tmp_path / "nr.pb.gz").read_bytes())
    for f in ("r.pb.gz", "nr.pb.gz"):
        assert go_pprof_top(tmp_path / f)[0] == 3


def test_real_capture_exports_as_pprof(lib, pb, tmp_path) -> None:
    from test_capture import HOT_C
    if shutil.which("eu-stack") is None and shutil.which("perf") is None and shutil.which("gdb") is None:
        pytest.skip("no stack sampler (eu-stack, perf, gdb) installed")
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the CPU-burning target")
    (tmp_path / "hot.c").write_text(HOT_C)
    subprocess.run([cc, "-O0", "-g", "-fno-omit-frame-pointer", "-pthread", str(tmp_path / "hot.c"), "-o",
                    str(tmp_path / "hot")], check=True)
    proc = subprocess.Popen([str(tmp_path / "hot")])
    try:
        with spikevault.Vault(tmp_path / "v", durability=0, capture_cooldown_seconds=0) as v:
            record = v.capture(proc.pid, metric="cpu", value=90.0, duration=1)
            folded = parse_folded(v.read_artefact(record.id, "oncpu.folded"))
            v.export_stacks(record.id, tmp_path / "real.pb.gz", "pprof", redact=False)
    finally:
        proc.kill()
        proc.wait()
    p = decode(pb, (tmp_path / "real.pb.gz").read_bytes())
    assert {k: v[0] for k, v in stacks(p).items()} == folded
    total, flat = go_pprof_top(tmp_path / "real.pb.gz", "samples")
    assert total == sum(folded.values())
    assert "spikevault_py_hot" in flat


def test_bad_inputs(vault, lib, tmp_path) -> None:
    rid = save(vault)
    with pytest.raises(spikevault.InvalidArgumentError, match="'folded', 'speedscope' or 'pprof'"):
        vault.export_stacks(rid, tmp_path / "x", "pprof2")
    with pytest.raises(spikevault.InvalidArgumentError, match="folded-stack artefact"):
        vault.export_stacks(rid, tmp_path / "x", "pprof", kind="procfs.json")
    with pytest.raises(spikevault.NotFoundError):
        vault.export_stacks(rid, tmp_path / "missing" / "x", "pprof")
    with pytest.raises(spikevault.NotFoundError):
        vault.export_stacks(rid + 100, tmp_path / "x", "pprof")
    (tmp_path / "exists").write_bytes(b"keep")
    with pytest.raises(spikevault.AlreadyExistsError):
        vault.export_stacks(rid, tmp_path / "exists", "pprof")
    assert (tmp_path / "exists").read_bytes() == b"keep"
    with vault._using() as handle:
        assert lib.sv_vault_export_stacks(handle, rid, None, 99, str(tmp_path / "y").encode(), 0) \
            == Status.ERR_INVALID_ARGUMENT
        assert lib.sv_vault_export_stacks(handle, rid, b"procfs.json", int(Format.PPROF),
                                          str(tmp_path / "y").encode(), 0) == Status.ERR_INVALID_ARGUMENT
        assert lib.sv_vault_export_stacks(handle, rid, None, int(Format.PPROF), None, 0) == Status.ERR_NULL_ARGUMENT
    assert not (tmp_path / "y").exists() and not (tmp_path / "x").exists()


def test_cli_flamegraph_and_dump_pprof(vault, pb, tmp_path) -> None:
    rid = save(vault)
    path = vault.path
    vault.close()
    out = tmp_path / "fg.pb.gz"
    r = run_cli(["flamegraph", str(rid), "--format", "pprof", "-o", str(out)], vault=path)
    assert r.returncode == 0, r.stderr
    assert {k: v[0] for k, v in stacks(decode(pb, out.read_bytes())).items()} == parse_folded(FOLDED)
    assert go_pprof_top(out, "samples")[0] == sum(parse_folded(FOLDED).values())
    r = run_cli(["dump", str(rid), "--format", "pprof"], vault=path)
    assert r.returncode == 0, r.stderr
    assert {k: v[0] for k, v in stacks(decode(pb, r.stdout)).items()} == parse_folded(FOLDED)
    (tmp_path / "dump.pb.gz").write_bytes(r.stdout)
    assert go_pprof_top(tmp_path / "dump.pb.gz", "samples")[0] == sum(parse_folded(FOLDED).values())
    r = run_cli(["dump", str(rid), "--format", "pprof", "--kind", "procfs.json"], vault=path)
    assert r.returncode != 0 and b"folded-stack artefact" in r.stderr
    r = run_cli(["flamegraph", str(rid), "--format", "pprof", "--title", "x", "-o", str(tmp_path / "t")], vault=path)
    assert r.returncode == 2 and not (tmp_path / "t").exists()
    r = run_cli(["flamegraph", str(rid), "--format", "bogus"], vault=path)
    assert r.returncode == 2 and b"invalid choice" in r.stderr
