"""A capture's summary when its procfs.json timeline is not what a capture writes: malformed
JSON, a wrong shape, or entries of the wrong type give a summary without busiest threads,
never an error (the timeline is stored as given, and the summary must still answer)."""

from __future__ import annotations

import json

import pytest

import spikevault

TIMELINES = {
    "truncated": b'{"summary": {"threads": [{"tid": 1, "name": "a"',
    "not json": b"\x00\xff garbage",
    "threads not a list": json.dumps({"summary": {"threads": "many"}}).encode(),
    "entries of the wrong type": json.dumps({"summary": {"threads": ["x", 3, None, [1]]}}).encode(),
}


@pytest.mark.parametrize("name", sorted(TIMELINES))
def test_summary_survives_a_hostile_timeline(vault: spikevault.Vault, name: str) -> None:
    rid = vault.save(process_name="w", pid=7, metric="cpu", value=1,
                     artefacts={"procfs.json": TIMELINES[name], "oncpu.folded": b"main;hot 5\n"})
    text = vault.summary(rid)
    assert "capture" in text.lower()
    doc = vault.summary(rid, "json")
    assert doc["busiestThreads"] == []


def test_well_formed_entries_still_count_beside_bad_ones(vault: spikevault.Vault) -> None:
    timeline = {"summary": {"threads": ["junk", {"tid": 5, "name": "worker", "cpuPercent": 80.0, "cpuSeconds": 1.6}]}}
    rid = vault.save(process_name="w", pid=7, metric="cpu", value=1,
                     artefacts={"procfs.json": json.dumps(timeline).encode()})
    threads = vault.summary(rid, "json")["busiestThreads"]
    assert [t["tid"] for t in threads] == [5]
