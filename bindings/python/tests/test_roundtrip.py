"""Save, read back, list, export and delete through the real library."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import spikevault
from spikevault import CaptureStatus, Metric, Record, Vault

UTC = timezone.utc


def test_save_get_read_export_path(vault: Vault, tmp_path: Path) -> None:
    on_disk = tmp_path / "perf.folded"
    file_content = b"main;loop;spin 990\nmain;idle 10\n" * 200
    on_disk.write_bytes(file_content)
    memory = b"{\"threads\": 12}" * 100
    rid = vault.save(
        process_name="worker", pid=4242, metric=Metric.MEMORY, value=812.5,
        artefacts={"procfs.json": memory, "perf.folded": on_disk},
        duration=2.5, notes={"host": "db-1", "rss": [1, 2, 3]}, process_start_time=123456,
    )
    assert isinstance(rid, int) and rid > 0

    record = vault.get(rid)
    assert isinstance(record, Record)
    assert (record.id, record.process_name, record.pid) == (rid, "worker", 4242)
    assert record.metric is Metric.MEMORY and record.value == 812.5
    assert record.duration == 2.5 and record.process_start_time == 123456
    assert record.notes == {"host": "db-1", "rss": [1, 2, 3]}
    assert record.status is CaptureStatus.COMPLETE
    assert [a.kind for a in record.artefacts] == ["procfs.json", "perf.folded"]
    assert record.profile_path == record.artefacts[0].path
    assert record.raw_bytes == len(memory) + len(file_content)
    assert 0 < record.stored_bytes < record.raw_bytes
    assert all(a.checksum.startswith("xxh64:") and len(a.checksum) == 22 for a in record.artefacts)
    assert record.captured_at.tzinfo is not None
    assert abs(record.captured_at - datetime.now(UTC)) < timedelta(minutes=5)

    assert vault.read_artefact(rid) == memory  # kind None: the first artefact
    assert vault.read_artefact(rid, "perf.folded") == file_content

    dest = tmp_path / "exported.folded"
    vault.export_artefact(rid, dest, kind="perf.folded")
    assert dest.read_bytes() == file_content

    path = vault.artefact_path(rid, "perf.folded")
    assert os.path.isabs(path) and os.path.isfile(path)
    assert os.path.basename(path) == record.artefacts[1].path
    assert Path(path).parent == (tmp_path / "vault" / "artefacts").resolve()


def test_default_options_vault_and_memoryview_sources(lib, tmp_path: Path) -> None:
    # Default durability (fsync on) once, and every in-memory source type.
    with Vault(tmp_path / "v", compression_level=19, busy_timeout_ms=2000) as v:
        rid = v.save(
            process_name="m", pid=1, metric="threads", value=64,
            artefacts={"a": bytearray(b"abc" * 10), "b": memoryview(b"xyz" * 10), "c": memoryview(bytearray(b"q" * 7))},
        )
        assert v.read_artefact(rid, "a") == b"abc" * 10
        assert v.read_artefact(rid, "b") == b"xyz" * 10
        assert v.read_artefact(rid, "c") == b"q" * 7
    assert v.closed


def test_several_artefacts_per_record(vault: Vault) -> None:
    payloads = {f"part-{i}.bin": os.urandom(100 + i) for i in range(6)}
    rid = vault.save(process_name="multi", pid=7, metric="fds", value=1000, artefacts=payloads)
    record = vault.get(rid)
    assert [a.kind for a in record.artefacts] == list(payloads)
    assert len({a.path for a in record.artefacts}) == 6
    for kind, data in payloads.items():
        assert vault.read_artefact(rid, kind) == data


def test_record_without_artefacts(vault: Vault) -> None:
    rid = vault.save(process_name="bare", pid=2, metric="network", value=3.0)
    record = vault.get(rid)
    assert record.artefacts == () and record.profile_path is None
    assert record.stored_bytes == 0 and record.raw_bytes == 0
    assert record.notes == {} and record.process_start_time is None


def test_recent_is_newest_first_and_limited(vault: Vault) -> None:
    base = datetime(2026, 11, 1, tzinfo=UTC)
    offsets = [3, 0, 5, 1, 4, 2]  # saved out of time order
    ids = {off: vault.save(process_name=f"p{off}", pid=10 + off, metric="cpu", value=off,
                           captured_at=base + timedelta(hours=off)) for off in offsets}
    recent = vault.recent()
    assert [r.id for r in recent] == [ids[o] for o in sorted(offsets, reverse=True)]
    assert [r.id for r in vault.recent(2)] == [ids[5], ids[4]]
    assert vault.recent(0) == []


def test_datetime_round_trip_ms_precision(vault: Vault) -> None:
    when = datetime(2026, 11, 27, 12, 34, 56, 789999, tzinfo=UTC)
    rid = vault.save(process_name="t", pid=1, metric="cpu", value=1, captured_at=when)
    got = vault.get(rid).captured_at
    assert got == when.replace(microsecond=789000)
    assert got.utcoffset() == timedelta(0)

    plus_two = timezone(timedelta(hours=2))
    local = datetime(2026, 11, 27, 14, 0, 0, 1000, tzinfo=plus_two)
    rid2 = vault.save(process_name="t", pid=1, metric="cpu", value=1, captured_at=local)
    assert vault.get(rid2).captured_at == local  # same instant, returned in UTC
    assert vault.get(rid2).captured_at.hour == 12

    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    rid3 = vault.save(process_name="t", pid=1, metric="cpu", value=1, captured_at=epoch)
    assert vault.get(rid3).captured_at == epoch


def test_notes_round_trip(vault: Vault) -> None:
    notes = {"unicode": "héllo ✓", "nested": {"a": [1, 2.5, None, True]}, "empty": {}}
    rid = vault.save(process_name="n", pid=1, metric="cpu", value=1, notes=notes)
    assert vault.get(rid).notes == notes
    rid2 = vault.save(process_name="n", pid=1, metric="cpu", value=1, notes='{"raw": "text"}')
    assert vault.get(rid2).notes == {"raw": "text"}


def test_metric_names_and_process_names(vault: Vault) -> None:
    for given, expected in [("diskIO", Metric.DISK_IO), ("disk_io", Metric.DISK_IO), ("CPU", Metric.CPU),
                            (Metric.FDS, Metric.FDS), ("Network", Metric.NETWORK)]:
        rid = vault.save(process_name="naïve 名前", pid=3, metric=given, value=0)
        record = vault.get(rid)
        assert record.metric is expected and record.process_name == "naïve 名前"
    rid = vault.save(process_name=b"bytes-name", pid=3, metric="memory", value=0)
    assert vault.get(rid).process_name == "bytes-name"


def test_delete_older_than_removes_rows_and_files(vault: Vault, tmp_path: Path) -> None:
    artefacts_dir = tmp_path / "vault" / "artefacts"
    old_day = datetime(2020, 1, 1, tzinfo=UTC)
    old = [vault.save(process_name="old", pid=5, metric="cpu", value=i,
                      artefacts={"a": b"old-a %d" % i, "b": b"old-b %d" % i},
                      captured_at=old_day + timedelta(minutes=i)) for i in range(3)]
    keep = vault.save(process_name="new", pid=6, metric="cpu", value=1, artefacts={"a": b"keep me"},
                      captured_at=datetime(2026, 11, 27, tzinfo=UTC))
    old_files = {a.path for rid in old for a in vault.get(rid).artefacts}
    assert len(old_files) == 6 and old_files <= set(os.listdir(artefacts_dir))

    # strictly before the cutoff: a capture exactly at the cutoff stays
    assert vault.delete_older_than(old_day) == 0
    assert vault.delete_older_than(datetime(2021, 1, 1, tzinfo=UTC)) == 3

    assert [r.id for r in vault.recent()] == [keep]
    for rid in old:
        with pytest.raises(spikevault.NotFoundError):
            vault.get(rid)
    remaining = set(os.listdir(artefacts_dir))
    assert not (old_files & remaining)
    assert remaining == {a.path for a in vault.get(keep).artefacts}
    assert vault.read_artefact(keep) == b"keep me"
    assert vault.delete_older_than(datetime(2021, 1, 1, tzinfo=UTC)) == 0


def test_reopen_sees_saved_records(lib, tmp_path: Path) -> None:
    with Vault(tmp_path / "v", durability=1) as v:
        rid = v.save(process_name="persist", pid=9, metric="cpu", value=1, artefacts={"a": b"x" * 100})
    with Vault(tmp_path / "v") as again:
        assert again.get(rid).process_name == "persist"
        assert again.read_artefact(rid) == b"x" * 100


def test_repr_and_closed_property(lib, tmp_path: Path) -> None:
    v = Vault(tmp_path / "v")
    assert "open" in repr(v) and not v.closed
    v.close()
    assert "closed" in repr(v) and v.closed


def test_option_bounds_and_library_version(lib) -> None:
    assert spikevault.option_bounds(spikevault.Option.COMPRESSION_LEVEL) == (1, 19, 3)
    low, high, default = spikevault.option_bounds(spikevault.Option.DURABILITY)
    assert low <= default <= high
    assert spikevault.library_version().count(".") == 2
    assert spikevault.__version__ == spikevault.library_version()  # both read the one VERSION file
