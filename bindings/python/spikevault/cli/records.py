"""Records as JSON-ready dicts with the seed's column names (``list --json``, ``capture
--json``). Exports and summaries are the library's own (redacted there)."""

from __future__ import annotations

from typing import Any, Dict

from .jsonout import json_time

__all__ = ["record_dict"]


def record_dict(record: Any) -> Dict[str, Any]:
    """One record with the seed design's names (``processName``, ``triggerMetric``, …)."""
    return {
        "id": record.id,
        "processName": record.process_name,
        "pid": record.pid,
        "triggerMetric": record.metric.stored_name,
        "triggerValue": record.value,
        "capturedAt": json_time(record.captured_at),
        "durationSeconds": record.duration,
        "status": record.status.stored_name,
        "processStartTime": record.process_start_time,
        "profilePath": record.profile_path,
        "storedBytes": record.stored_bytes,
        "rawBytes": record.raw_bytes,
        "artefacts": [
            {"kind": a.kind, "path": a.path, "rawBytes": a.raw_bytes, "storedBytes": a.stored_bytes,
             "checksum": a.checksum}
            for a in record.artefacts
        ],
        "notes": record.notes,
    }
