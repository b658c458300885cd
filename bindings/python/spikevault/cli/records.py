"""Records as JSON-ready dicts (the seed's column names) and the simple redaction used by
``show`` and ``export`` until the library's redaction (issue 5) is merged."""

from __future__ import annotations

import getpass
import os
import re
from typing import Any, Callable, Dict, List, Optional

from .render import utc_time

__all__ = ["record_dict", "Redactor", "CSV_COLUMNS", "csv_row"]


def record_dict(record: Any, redact: Optional["Redactor"] = None) -> Dict[str, Any]:
    """One record with the seed design's names (``processName``, ``triggerMetric``, …)."""
    r = redact or (lambda x: x)
    return {
        "id": record.id,
        "processName": r(record.process_name),
        "pid": record.pid,
        "triggerMetric": record.metric.stored_name,
        "triggerValue": record.value,
        "capturedAt": utc_time(record.captured_at),
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
        "notes": r(record.notes),
    }


CSV_COLUMNS = ["id", "processName", "pid", "triggerMetric", "triggerValue", "capturedAt", "durationSeconds",
               "status", "processStartTime", "profilePath", "storedBytes", "rawBytes", "artefactKinds", "notes"]


def csv_row(d: Dict[str, Any]) -> List[str]:
    import json

    flat = dict(d)
    flat["artefactKinds"] = ";".join(a["kind"] for a in d["artefacts"])
    flat["notes"] = json.dumps(d["notes"], sort_keys=True, separators=(",", ":"))
    return ["" if flat[c] is None else str(flat[c]) for c in CSV_COLUMNS]


class Redactor:
    """Replaces the home directory with ``~`` and the user name with ``<user>`` (as a whole
    word) in every string of a value, recursively. A stop-gap for the library's fuller
    redaction (secrets in command lines, URLs, tokens), which issue 5 brings."""

    def __init__(self, home: Optional[str] = None, user: Optional[str] = None) -> None:
        home = home if home is not None else os.path.expanduser("~")
        if user is None:
            try:
                user = getpass.getuser()
            except Exception:
                user = ""
        self.home = home.rstrip("/") if home and home not in ("/", "~") else ""
        self.user = user or ""
        self._home_re = re.compile(re.escape(self.home) + r"(?=/|$|[^\w.-])") if self.home else None
        self._user_re = re.compile(r"(?<![\w.-])" + re.escape(self.user) + r"(?![\w-])") if self.user else None

    def text(self, s: str) -> str:
        if self._home_re is not None:
            s = self._home_re.sub("~", s)
        if self._user_re is not None:
            s = self._user_re.sub("<user>", s)
        return s

    def __call__(self, value: Any) -> Any:
        return _walk(value, self.text)


def _walk(value: Any, f: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return f(value)
    if isinstance(value, dict):
        return {k: _walk(v, f) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_walk(v, f) for v in value]
    return value
