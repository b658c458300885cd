"""Quick actions and downloads: re-run (POST), copy summary (text/JSON), export the current
selection (CSV/JSON/NDJSON/bundle, redacted unless asked otherwise) into a private temporary
file that is streamed and then removed, and the artefact paths for "reveal". Nothing here
writes to the vault except re-run, which the router only calls for an authorised POST."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import timedelta
from typing import Any, Dict, Iterator, Tuple

__all__ = ["EXPORT_TYPES", "export_file", "artefact_paths", "single_capture_criteria"]

EXPORT_TYPES = {"csv": ("text/csv; charset=utf-8", "csv"), "json": ("application/json", "json"),
                "ndjson": ("application/x-ndjson", "ndjson"), "bundle": ("application/x-tar", "tar")}
CHUNK = 64 * 1024


def single_capture_criteria(record: Any) -> Dict[str, Any]:
    """Criteria matching one capture: its pid within its millisecond (the query has no id)."""
    start = record.captured_at.replace(microsecond=(record.captured_at.microsecond // 1000) * 1000)
    return {"pid": record.pid, "since": start, "until": start + timedelta(milliseconds=1)}


def export_file(vault: Any, fmt: str, redact: bool, criteria: Dict[str, Any]) -> Tuple[str, Iterator[bytes], int]:
    """Write the export to a private temporary directory; return its name, a chunk iterator
    (which deletes the file when exhausted or closed) and its size."""
    scratch = tempfile.mkdtemp(prefix="spikevault-serve-")
    try:
        ext = EXPORT_TYPES[fmt][1]
        dest = os.path.join(scratch, f"spikevault-export.{ext}")
        if fmt == "bundle":
            vault.export_bundle(dest, redact=redact, **criteria)
        else:
            vault.export_records(dest, fmt, redact=redact, **criteria)
        size = os.path.getsize(dest)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise

    def chunks() -> Iterator[bytes]:
        try:
            with open(dest, "rb") as f:
                while True:
                    block = f.read(CHUNK)
                    if not block:
                        return
                    yield block
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    return os.path.basename(dest), chunks(), size


def artefact_paths(vault: Any, record: Any) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for a in record.artefacts:
        try:
            out[a.kind] = vault.artefact_path(record.id, a.kind)
        except Exception:  # a missing file is shown as such, not as a failed page
            out[a.kind] = a.path or "(missing)"
    return out
