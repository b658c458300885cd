"""Review: filtered queries, summaries, stack formats, exports, bundles, analytics (SQLite and
DuckDB) and quick actions. ``Vault`` exposes these as methods; this module holds the code.

Redaction is on by default everywhere (``redact=False`` turns it off): the home directory
becomes ``~``, the user name ``<user>`` and secrets in command lines ``<redacted>``.
"""

from __future__ import annotations

import ctypes
import json
import os
import struct
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence, Union

from . import _convert
from ._enums import Analytics, CaptureStatus, ExportFlag, FilterField, Format, Metric, Order
from ._functions import PROGRESS_CALLBACK
from ._closing import Closing
from ._library import api, lib
from .errors import InvalidArgumentError, check
from .records import Record, RecordIterator

__all__ = ["record_key", "FilterHandle", "BundleReport", "duckdb_analytics", "ANALYTICS_NAMES"]

ANALYTICS_NAMES = {
    "peak-by-process": Analytics.PEAK_BY_PROCESS,
    "captures-per-hour": Analytics.CAPTURES_PER_HOUR,
    "top-processes": Analytics.TOP_PROCESSES,
    "p95-by-process": Analytics.P95_BY_PROCESS,
}
_ORDERS = {
    "time": Order.TIME_DESC, "time-desc": Order.TIME_DESC, "time-asc": Order.TIME_ASC,
    "value": Order.VALUE_DESC, "value-desc": Order.VALUE_DESC, "value-asc": Order.VALUE_ASC,
}

TimeLike = Union[datetime, int, None]


def record_key(record: Record) -> str:
    """The keyset pagination key of a record (what ``sv_cursor_key`` gives):
    ``<capturedAt ms>:<16 hex digits of the value's IEEE-754 bits>:<id>``."""
    ms = _convert.datetime_to_ms(record.captured_at, "captured_at")
    bits = struct.unpack(">Q", struct.pack(">d", float(record.value)))[0]
    return f"{ms}:{bits:016x}:{record.id}"


def _time_ms(value: TimeLike, what: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, datetime):
        return _convert.datetime_to_ms(value, what)
    return _convert.int64(value, what)


def _as_list(value: Any) -> List[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, int)) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def _flags(redact: bool, overwrite: bool = False) -> int:
    return (0 if redact else int(ExportFlag.NO_REDACT)) | (int(ExportFlag.OVERWRITE) if overwrite else 0)


def _take_string(out: ctypes.c_void_p) -> str:
    try:
        return ctypes.string_at(out.value).decode("utf-8") if out.value else ""
    finally:
        lib().sv_free(out)


class FilterHandle(Closing):
    """An ``sv_filter*`` built from keyword criteria (see ``Vault.query``); a context manager."""

    def __init__(
        self,
        *,
        metric: Any = None,
        process: Optional[str] = None,
        process_glob: Optional[str] = None,
        pid: Optional[int] = None,
        since: TimeLike = None,
        until: TimeLike = None,
        min_value: Optional[float] = None,
        max_value: Optional[float] = None,
        status: Any = None,
        order: Union[str, Order] = Order.TIME_DESC,
        limit: Optional[int] = None,
        after: Union[Record, str, None] = None,
    ) -> None:
        library = lib()
        # Convert everything before allocating, so a bad argument leaks nothing.
        ints: List[tuple] = []
        for m in _as_list(metric):
            try:
                ints.append((FilterField.METRIC, int(Metric.parse(m)) if not isinstance(m, int) else m))
            except ValueError as exc:
                raise InvalidArgumentError(str(exc)) from None
        for s in _as_list(status):
            try:
                ints.append((FilterField.STATUS, int(CaptureStatus.parse(s)) if not isinstance(s, int) else s))
            except ValueError as exc:
                raise InvalidArgumentError(str(exc)) from None
        if pid is not None:
            ints.append((FilterField.PID, _convert.int64(pid, "pid")))
        since_ms, until_ms = _time_ms(since, "since"), _time_ms(until, "until")
        if since_ms is not None:
            ints.append((FilterField.SINCE, since_ms))
        if until_ms is not None:
            ints.append((FilterField.UNTIL, until_ms))
        if isinstance(order, str):
            if order.lower() not in _ORDERS:
                raise InvalidArgumentError(f"unknown order {order!r}; use one of {sorted(_ORDERS)}")
            order = _ORDERS[order.lower()]
        ints.append((FilterField.ORDER, int(order)))
        if limit is not None:
            ints.append((FilterField.LIMIT, _convert.int64(limit, "limit")))
        doubles = []
        if min_value is not None:
            doubles.append((FilterField.MIN_VALUE, _convert.finite_float(min_value, "min_value")))
        if max_value is not None:
            doubles.append((FilterField.MAX_VALUE, _convert.finite_float(max_value, "max_value")))
        texts = []
        if process is not None:
            texts.append((FilterField.PROCESS, _convert.text(process, "process")))
        if process_glob is not None:
            texts.append((FilterField.PROCESS_GLOB, _convert.text(process_glob, "process_glob")))
        if after is not None:
            key = record_key(after) if isinstance(after, Record) else after
            texts.append((FilterField.AFTER, _convert.text(key, "after")))
        handle = ctypes.c_void_p()
        api().sv_filter_new(ctypes.byref(handle))
        self.handle: Optional[int] = handle.value
        try:
            for field, value in ints:
                api().sv_filter_set_int(handle, int(field), value)
            for field, value in doubles:
                api().sv_filter_set_double(handle, int(field), value)
            for field, value in texts:
                api().sv_filter_set_text(handle, int(field), value)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        handle, self.handle = getattr(self, "handle", None), None
        if handle is not None:
            lib().sv_filter_free(handle)


def query(handle: int, criteria: dict) -> RecordIterator:
    library = lib()
    cursor = ctypes.c_void_p()
    with FilterHandle(**criteria) as f:
        api().sv_vault_query(handle, f.handle, ctypes.byref(cursor))
    return RecordIterator(library, cursor.value)


def write_list(handle: int, fd: int, now_us: int, criteria: dict) -> int:
    """The ``list`` table of the matching captures written by the library to descriptor ``fd``
    (``sv_cursor_write_list``); the number of rows. ``BrokenPipeError`` when the reader left."""
    cursor = ctypes.c_void_p()
    rows = ctypes.c_int64()
    with FilterHandle(**criteria) as f:
        api().sv_vault_query(handle, f.handle, ctypes.byref(cursor))
    try:
        status = lib().sv_cursor_write_list(cursor, _convert.fd(fd), _convert.int64(now_us, "now_us"),
                                            ctypes.byref(rows))
        _raise_write_status(status)
    finally:
        lib().sv_cursor_close(cursor)
    return rows.value


def count(handle: int, criteria: dict) -> int:
    out = ctypes.c_int64()
    criteria = {k: v for k, v in criteria.items() if k not in ("order", "limit", "after")}
    with FilterHandle(**criteria) as f:
        api().sv_vault_count(handle, f.handle, ctypes.byref(out))
    return out.value


def summary(handle: int, id: int, fmt: str, redact: bool) -> Union[str, dict]:
    formats = {"text": Format.TEXT, "json": Format.JSON}
    if fmt not in formats:
        raise InvalidArgumentError(f"summary format must be 'text' or 'json', not {fmt!r}")
    out = ctypes.c_void_p()
    api().sv_vault_summary(handle, _convert.int64(id, "id"), int(formats[fmt]), _flags(redact), ctypes.byref(out))
    text = _take_string(out)
    return json.loads(text) if fmt == "json" else text


def export_stacks(handle: int, id: int, dest: Any, fmt: str, kind: Optional[str], redact: bool, overwrite: bool) -> None:
    formats = {"folded": Format.FOLDED, "speedscope": Format.SPEEDSCOPE, "pprof": Format.PPROF}
    if fmt not in formats:
        raise InvalidArgumentError(f"stack format must be 'folded', 'speedscope' or 'pprof', not {fmt!r}")
    raw_kind = None if kind is None else _convert.text(kind, "kind")
    api().sv_vault_export_stacks(handle, _convert.int64(id, "id"), raw_kind, int(formats[fmt]),
                                       _convert.fs_path(dest, "dest"), _flags(redact, overwrite))


def _record_format(fmt: str) -> int:
    formats = {"json": Format.JSON, "ndjson": Format.NDJSON, "csv": Format.CSV}
    if fmt not in formats:
        raise InvalidArgumentError(f"export format must be 'json', 'ndjson' or 'csv', not {fmt!r}")
    return int(formats[fmt])


def export_records(handle: int, dest: Any, fmt: str, redact: bool, overwrite: bool, criteria: dict) -> int:
    code = _record_format(fmt)
    out = ctypes.c_int64()
    raw_dest = _convert.fs_path(dest, "dest")
    with FilterHandle(**criteria) as f:
        api().sv_vault_export_records(handle, f.handle, code, raw_dest, _flags(redact, overwrite), ctypes.byref(out))
    return out.value


def write_records(handle: int, fd: int, fmt: str, redact: bool, criteria: dict) -> int:
    """export_records streamed by the library to descriptor ``fd`` (``sv_vault_write_records``);
    the number of rows. ``BrokenPipeError`` when the reader left."""
    code = _record_format(fmt)
    out = ctypes.c_int64()
    with FilterHandle(**criteria) as f:
        status = lib().sv_vault_write_records(handle, f.handle, code, _convert.fd(fd), _flags(redact),
                                              ctypes.byref(out))
    _raise_write_status(status)
    return out.value


def _raise_write_status(status: int) -> None:
    if status < 0 and "Broken pipe" in lib().sv_errmsg().decode("utf-8", "replace"):
        raise BrokenPipeError(32, "Broken pipe")
    check(status)


def export_bundle(handle: int, dest: Any, redact: bool, overwrite: bool,
                  progress: Optional[Callable[[int, int], Optional[bool]]], criteria: dict) -> "BundleReport":
    """``progress(done_bytes, total_bytes)`` runs on the calling thread; returning False
    cancels (``CancelledError``). An exception raised in it also cancels and is re-raised."""
    raised: List[BaseException] = []

    def trampoline(done: int, total: int, _user: Optional[int]) -> int:
        if progress is None:
            return 0
        try:
            return 1 if progress(done, total) is False else 0
        except BaseException as exc:  # never let a Python exception unwind through C
            raised.append(exc)
            return 1

    callback = PROGRESS_CALLBACK(trampoline) if progress is not None else PROGRESS_CALLBACK()
    out = ctypes.c_void_p()
    raw_dest = _convert.fs_path(dest, "dest")
    with FilterHandle(**criteria) as f:
        status = lib().sv_vault_export_bundle_report(handle, f.handle, raw_dest, _flags(redact, overwrite), callback,
                                                     None, ctypes.byref(out))
    if raised:
        raise raised[0]
    check(status)
    return BundleReport.from_json(_take_string(out))


class BundleReport(int):
    """What ``export_bundle`` wrote: an ``int`` (the number of captures, as before) that also
    carries ``files`` (artefacts in the archive) and the artefacts left out, each a list of
    ``{"captureId", "kind", "reason"}``: ``missing`` (file gone), ``corrupt`` (failed its
    checksum or bounds) and ``withheld`` (binary, so not redactable; use ``redact=False``)."""

    files: int
    missing: List[dict]
    corrupt: List[dict]
    withheld: List[dict]

    @classmethod
    def from_json(cls, text: str) -> "BundleReport":
        data = json.loads(text)
        report = cls(data["records"])
        report.files = data["files"]
        report.missing, report.corrupt, report.withheld = data["missing"], data["corrupt"], data["withheld"]
        return report

    @property
    def left_out(self) -> List[dict]:
        """Every artefact not in the archive, whatever the reason."""
        return self.missing + self.corrupt + self.withheld


def _analysis(template: Union[str, Analytics]) -> int:
    if isinstance(template, Analytics):
        return int(template)
    if template not in ANALYTICS_NAMES:
        raise InvalidArgumentError(f"unknown analysis {template!r}; use one of {sorted(ANALYTICS_NAMES)}")
    return int(ANALYTICS_NAMES[template])


def _range(since: TimeLike, until: TimeLike) -> tuple:
    s = _time_ms(since, "since")
    u = _time_ms(until, "until")
    return (0 if s is None else s, 253_402_300_799_999 if u is None else u)


def analytics(handle: int, template: Union[str, Analytics], since: TimeLike, until: TimeLike) -> List[dict]:
    out = ctypes.c_void_p()
    s, u = _range(since, until)
    api().sv_vault_analytics(handle, _analysis(template), s, u, ctypes.byref(out))
    return json.loads(_take_string(out))


def export_duckdb(handle: int, dest: Any, redact: bool, overwrite: bool, duckdb: Optional[str]) -> int:
    out = ctypes.c_int64()
    tool = None if duckdb is None else _convert.fs_path(duckdb, "duckdb")
    api().sv_vault_export_duckdb(handle, _convert.fs_path(dest, "dest"), tool, _flags(redact, overwrite),
                                       ctypes.byref(out))
    return out.value


def export_parquet(handle: int, dest: Any, redact: bool) -> int:
    out = ctypes.c_int64()
    api().sv_vault_export_parquet(handle, _convert.fs_path(dest, "dest"), _flags(redact), ctypes.byref(out))
    return out.value


def duckdb_analytics(snapshot: Any, template: Union[str, Analytics], since: TimeLike = None, until: TimeLike = None,
                     duckdb: Optional[str] = None) -> List[dict]:
    """Run a built-in analysis over a snapshot made by ``Vault.export_duckdb``, in DuckDB.
    Raises ``UnsupportedError`` when the duckdb CLI is missing (``pip install duckdb-cli``)."""
    out = ctypes.c_void_p()
    s, u = _range(since, until)
    tool = None if duckdb is None else _convert.fs_path(duckdb, "duckdb")
    api().sv_duckdb_analytics(_convert.fs_path(snapshot, "snapshot"), _analysis(template), s, u, tool,
                                    ctypes.byref(out))
    return json.loads(_take_string(out))


def rerun(handle: int, id: int) -> int:
    out = ctypes.c_int64()
    api().sv_vault_rerun(handle, _convert.int64(id, "id"), ctypes.byref(out))
    return out.value
