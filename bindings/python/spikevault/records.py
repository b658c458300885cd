"""Typed, immutable views of stored captures, read from a C cursor."""

from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from ._convert import ms_to_datetime
from ._enums import CaptureStatus, Metric, Status
from .errors import InternalError, UnsupportedError, check

__all__ = ["Artefact", "Record", "read_cursor"]


@dataclass(frozen=True)
class Artefact:
    """One stored artefact of a capture.

    ``path`` is the file name relative to the vault's ``artefacts/`` directory, as stored
    (use ``Vault.artefact_path`` for the absolute path). ``raw_bytes`` is the uncompressed
    size, ``stored_bytes`` the compressed size on disk, ``checksum`` ``"xxh64:<16 hex>"``.
    """

    kind: str
    path: str
    raw_bytes: int
    stored_bytes: int
    checksum: str


@dataclass(frozen=True)
class Record:
    """One stored capture. ``captured_at`` is timezone-aware UTC at millisecond precision."""

    id: int
    process_name: str
    pid: int
    metric: Metric
    value: float
    captured_at: datetime
    duration: float
    notes: Dict[str, Any] = field(hash=False)
    status: CaptureStatus
    process_start_time: Optional[int]
    artefacts: Tuple[Artefact, ...]
    host: Optional[str] = None
    machine_id: Optional[str] = None

    @property
    def profile_path(self) -> Optional[str]:
        """The first artefact's path (relative to ``artefacts/``), or None without artefacts."""
        return self.artefacts[0].path if self.artefacts else None

    @property
    def stored_bytes(self) -> int:
        """Total compressed size of the artefacts on disk."""
        return sum(a.stored_bytes for a in self.artefacts)

    @property
    def raw_bytes(self) -> int:
        """Total uncompressed size of the artefacts."""
        return sum(a.raw_bytes for a in self.artefacts)


def _errmsg(lib: ctypes.CDLL) -> str:
    raw = lib.sv_errmsg()
    return raw.decode("utf-8", "replace") if raw else "no detail"


def _text(lib: ctypes.CDLL, raw: Optional[bytes], what: str) -> str:
    if raw is None:
        raise InternalError(f"the cursor gave no {what}: {_errmsg(lib)}")
    return raw.decode("utf-8", "surrogateescape")


def _member(enum: Any, value: int) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise UnsupportedError(
            f"the library returned {enum.__name__} {value}, unknown to this binding: upgrade the spikevault package"
        ) from None


def _row(lib: ctypes.CDLL, cursor: int) -> Record:
    count = lib.sv_cursor_artefact_count(cursor)
    if count < 0:
        raise InternalError(f"the cursor gave no artefact count: {_errmsg(lib)}")
    artefacts = tuple(
        Artefact(
            kind=_text(lib, lib.sv_cursor_artefact_kind(cursor, i), "artefact kind"),
            path=_text(lib, lib.sv_cursor_artefact_path(cursor, i), "artefact path"),
            raw_bytes=int(lib.sv_cursor_artefact_raw_bytes(cursor, i)),
            stored_bytes=int(lib.sv_cursor_artefact_stored_bytes(cursor, i)),
            checksum=_text(lib, lib.sv_cursor_artefact_checksum(cursor, i), "artefact checksum"),
        )
        for i in range(count)
    )
    notes_text = lib.sv_cursor_notes(cursor)
    notes = json.loads(notes_text) if notes_text else {}
    start = int(lib.sv_cursor_process_start_time(cursor))
    return Record(
        id=int(lib.sv_cursor_id(cursor)),
        process_name=_text(lib, lib.sv_cursor_process_name(cursor), "process name"),
        pid=int(lib.sv_cursor_pid(cursor)),
        metric=_member(Metric, lib.sv_cursor_metric(cursor)),
        value=float(lib.sv_cursor_trigger_value(cursor)),
        captured_at=ms_to_datetime(int(lib.sv_cursor_captured_at(cursor))),
        duration=float(lib.sv_cursor_duration(cursor)),
        notes=notes if isinstance(notes, dict) else {},
        status=_member(CaptureStatus, lib.sv_cursor_status(cursor)),
        process_start_time=None if start < 0 else start,
        artefacts=artefacts,
        host=_text(lib, lib.sv_cursor_host(cursor), "host") or None,
        machine_id=_text(lib, lib.sv_cursor_machine_id(cursor), "machine id") or None,
    )


def read_cursor(lib: ctypes.CDLL, cursor: int) -> List[Record]:
    """Read every row of ``cursor`` into Records. Takes ownership: the cursor is always closed."""
    records: List[Record] = []
    try:
        while True:
            status = check(lib.sv_cursor_next(cursor))
            if status == Status.DONE:
                return records
            records.append(_row(lib, cursor))
    finally:
        lib.sv_cursor_close(cursor)
