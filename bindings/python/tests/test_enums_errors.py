"""Pure-Python parts: metric parsing, status-to-exception mapping, records' properties."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import spikevault
from spikevault import CaptureStatus, Metric, Status
from spikevault.errors import check, error_for_status


@pytest.mark.parametrize("text, member", [
    ("cpu", Metric.CPU), ("CPU", Metric.CPU), ("memory", Metric.MEMORY), ("diskIO", Metric.DISK_IO),
    ("disk_io", Metric.DISK_IO), ("DISK_IO", Metric.DISK_IO), ("diskio", Metric.DISK_IO),
    ("network", Metric.NETWORK), ("threads", Metric.THREADS), ("FDS", Metric.FDS), (Metric.FDS, Metric.FDS), (3, Metric.DISK_IO),
])
def test_metric_parse(text, member) -> None:
    assert Metric.parse(text) is member


def test_metric_stored_names() -> None:
    assert [m.stored_name for m in Metric] == ["cpu", "memory", "diskIO", "network", "threads", "fds"]
    assert all(Metric.parse(m.stored_name) is m for m in Metric)


@pytest.mark.parametrize("bad", ["gpu", "", "disk io!", 99, 0, True, None, 1.0])
def test_metric_parse_rejects(bad) -> None:
    with pytest.raises(ValueError):
        Metric.parse(bad)


def test_capture_status_names() -> None:
    assert [s.stored_name for s in CaptureStatus] == ["complete", "partial", "failed", "missing", "quarantined"]
    assert CaptureStatus.parse("Quarantined") is CaptureStatus.QUARANTINED


def test_one_exception_class_per_error_status() -> None:
    classes = set()
    for status in Status:
        if status >= 0:
            continue
        error = error_for_status(status, "detail")
        assert type(error) is not spikevault.SpikeVaultError, status
        assert isinstance(error, spikevault.SpikeVaultError)
        assert error.status is status and error.message == "detail" and str(error) == "detail"
        assert type(error).status is status
        classes.add(type(error))
    assert len(classes) == sum(1 for s in Status if s < 0)
    unknown = error_for_status(-99, "what")
    assert type(unknown) is spikevault.SpikeVaultError and unknown.status == -99


def test_check_uses_the_library_message(lib, vault) -> None:
    with pytest.raises(spikevault.InvalidArgumentError) as info:
        vault.recent(-5)
    assert "-5" in info.value.message and repr(info.value).startswith("InvalidArgumentError(")
    assert check(Status.OK) == 0 and check(Status.DONE) == 2


def test_record_is_frozen(vault) -> None:
    rid = vault.save(process_name="f", pid=1, metric="cpu", value=1, artefacts={"a": b"1"},
                     captured_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    record = vault.get(rid)
    with pytest.raises(Exception):
        record.pid = 2  # type: ignore[misc]
    assert hash(record) == hash(vault.get(rid))
    assert record == vault.get(rid)
