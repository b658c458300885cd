"""Retention through the binding: maintain() purges by age, reconciles orphans, reports."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import spikevault


def test_maintain_purges_old_captures_and_orphans(lib, tmp_path: Path) -> None:
    path = tmp_path / "v"
    now = datetime.now(timezone.utc)
    with spikevault.Vault(path, durability=0, max_age_seconds=0) as v:  # store history first
        old = v.save(process_name="old", pid=1, metric="cpu", value=1, captured_at=now - timedelta(hours=73),
                     artefacts={"a.txt": b"old"})
        new = v.save(process_name="new", pid=2, metric="cpu", value=1, artefacts={"a.txt": b"new"})
    stray = path / "artefacts" / "20200101T000000.000Z-9.stray.zst"
    stray.write_bytes(b"no row points here")
    os.utime(stray, (0, 0))
    with spikevault.Vault(path, durability=0, orphan_grace_seconds=0, maintenance_interval_seconds=0) as v:
        before = v.footprint()
        report = v.maintain()
        assert isinstance(report, spikevault.MaintenanceReport)
        assert report.purged_by_age == 1
        assert report.orphans_deleted == 1
        assert report.files_deleted == 1  # the old capture's artefact (orphans are counted apart)
        assert not report.interrupted
        assert report.footprint_before >= report.footprint_after > 0
        assert [r.id for r in v.recent(10)] == [new]
        assert not stray.exists()
        assert v.footprint() <= before
        try:
            v.get(old)
        except spikevault.NotFoundError:
            pass
        else:
            raise AssertionError("the 73-hour-old capture survived maintenance")


def test_footprint_budget_keeps_newest(lib, tmp_path: Path) -> None:
    with spikevault.Vault(tmp_path / "v", durability=0, max_footprint_bytes=600_000,
                          maintenance_interval_seconds=0) as v:
        ids = [v.save(process_name="p", pid=i + 1, metric="memory", value=i, artefacts={"blob": os.urandom(50_000)})
               for i in range(40)]
        kept = [r.id for r in v.recent(100)]
        assert kept == sorted(kept, reverse=True) and kept[0] == ids[-1]
        assert len(kept) < 40  # older ones were evicted
        assert v.footprint() <= 600_000 + 60_000  # the budget plus at most one capture
