"""Typed, immutable views of stored captures, read from a C cursor."""

from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timedelta
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ._convert import EPOCH, ms_to_datetime
from ._enums import CaptureStatus, Metric, Status
from ._closing import Closing
from ._library import api
from .errors import InternalError, UnsupportedError

__all__ = ["Artefact", "Record", "RecordIterator", "read_cursor"]


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
    """Read every row of ``cursor`` into Records, a page per C call. Takes ownership: the
    cursor is always closed."""
    return RecordIterator(lib, cursor).to_list()


def read_cursor_by_row(lib: ctypes.CDLL, cursor: int) -> List[Record]:
    """``read_cursor`` through the single-row accessors (a dozen C calls a row; kept to test
    that both paths agree)."""
    records: List[Record] = []
    try:
        while True:
            status = api().sv_cursor_next(cursor)
            if status == Status.DONE:
                return records
            records.append(_row(lib, cursor))
    finally:
        lib.sv_cursor_close(cursor)


_METRICS = {m.stored_name: m for m in Metric}
_STATUSES = {s.stored_name: s for s in CaptureStatus}


def _named(table: Dict[str, Any], enum: Any, name: str) -> Any:
    member = table.get(name)
    if member is None:
        raise UnsupportedError(
            f"the library returned {enum.__name__} {name!r}, unknown to this binding: upgrade the spikevault package"
        )
    return member


def _page_records(text: bytes) -> List[Record]:
    """Records of one packed page (``sv_cursor_next_page``; the format is in docs/streaming.md).
    Records and Artefacts are filled through ``__dict__`` (what the frozen dataclasses'
    ``__init__`` does, without its per-field ``object.__setattr__`` calls: a third of the time)."""
    rows = json.loads(text)
    out: List[Record] = []
    new_record, new_artefact = Record.__new__, Artefact.__new__
    loads = json.loads
    for (rid, name, pid, metric, value, ms, duration, status, start, notes_text, artefacts, host, machine) in rows:
        try:
            notes = loads(notes_text) if notes_text else {}
        except ValueError:
            notes = {}
        parts = []
        for kind, path, raw, stored, checksum in artefacts:
            a = new_artefact(Artefact)
            a.__dict__.update(kind=kind, path=path, raw_bytes=raw, stored_bytes=stored, checksum=checksum)
            parts.append(a)
        r = new_record(Record)
        r.__dict__.update(
            id=rid, process_name=name, pid=pid, metric=_METRICS.get(metric) or _named(_METRICS, Metric, metric),
            value=float(value), captured_at=EPOCH + timedelta(milliseconds=ms), duration=float(duration),
            notes=notes if isinstance(notes, dict) else {},
            status=_STATUSES.get(status) or _named(_STATUSES, CaptureStatus, status),
            process_start_time=start, artefacts=tuple(parts), host=host, machine_id=machine)
        out.append(r)
    return out


class RecordIterator(Closing):
    """The captures of a query, read lazily: one C call (``sv_cursor_next_page``) brings a page
    of rows, so memory stays one page whatever the size of the result. Single pass.

    It sees the captures stored when the query ran; ones saved later are not returned, ones
    deleted before the iterator reaches them are skipped (docs/streaming.md).

    A list on request: ``list(it)`` or ``to_list()``. For callers that treat the result as a
    list, ``len()``, indexing, ``bool()`` and ``==`` read the rows not yet iterated into memory
    first (and iteration then continues over them): these give up the O(page) bound.
    The underlying cursor is closed at the end, on ``close()``, or when the iterator is
    collected. Use one iterator from one thread at a time.
    """

    __slots__ = ("_lib", "_cursor", "_page", "_pos", "_rest", "__weakref__")

    def __init__(self, library: ctypes.CDLL, cursor: Optional[int]) -> None:
        self._lib = library
        self._cursor = cursor
        self._page: List[Record] = []
        self._pos = 0
        self._rest: Optional[List[Record]] = None

    def __iter__(self) -> "RecordIterator":
        return self

    def _fill(self) -> bool:
        if self._cursor is None:
            return False
        data = ctypes.c_void_p()
        size = ctypes.c_size_t()
        try:
            status = api().sv_cursor_next_page(self._cursor, ctypes.byref(data), ctypes.byref(size), None)
        except BaseException:
            self._release()
            raise
        if status == Status.DONE or not data.value:
            self._release()
            return False
        self._page = _page_records(ctypes.string_at(data.value, size.value))
        self._pos = 0
        return bool(self._page)

    def __next__(self) -> Record:
        if self._rest is not None:
            if self._pos < len(self._rest):
                self._pos += 1
                return self._rest[self._pos - 1]
            raise StopIteration
        if self._pos >= len(self._page):
            self._page = []
            if not self._fill():
                raise StopIteration
        self._pos += 1
        return self._page[self._pos - 1]

    def to_list(self) -> List[Record]:
        """The rows not yet iterated, as a list (reads them all)."""
        return list(self._materialised()[self._pos:])

    def _materialised(self) -> List[Record]:
        if self._rest is None:
            rest = self._page[self._pos:]
            self._page = []
            while self._fill():
                rest.extend(self._page)
                self._page = []
            self._rest = rest
            self._pos = 0
        return self._rest

    def __length_hint__(self) -> int:
        if self._rest is not None:
            return len(self._rest) - self._pos
        return len(self._page) - self._pos

    def __len__(self) -> int:
        return len(self._materialised()) - self._pos

    def __getitem__(self, index: Any) -> Any:
        return self._materialised()[self._pos:][index]

    def __bool__(self) -> bool:
        return len(self) > 0

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple, RecordIterator)):
            return self.to_list() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        state = "closed" if self._cursor is None else "open"
        return f"<RecordIterator {state}, {self.__length_hint__()} row(s) read ahead>"

    def close(self) -> None:
        """Closes the cursor and drops the rows read ahead: iteration ends. Idempotent."""
        self._page = []
        if self._rest is not None:
            self._rest = self._rest[:self._pos]
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            self._lib.sv_cursor_close(cursor)

    def _release(self) -> None:
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            self._lib.sv_cursor_close(cursor)

