"""``Vault``: the Pythonic façade over one ``sv_vault*`` handle."""

from __future__ import annotations

import ctypes
import json
import os
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Iterator, List, Mapping, Optional, Sequence, Type, Union

from . import _convert, errors as spikevault_errors, review as _review
from ._enums import OPTION_KEYWORDS, OPTION_SPECS, TEXT_OPTION_SPECS, Backend, Metric, Option
from ._library import api, lib
from ._options import OptionsHandle
from .errors import ClosedError, InvalidArgumentError, NotFoundError
from .records import Record, RecordIterator, read_cursor

if TYPE_CHECKING:
    from concurrent.futures import Future

    from . import capture as _capture
    from .maintenance import MaintenanceReport

__all__ = ["Vault", "ArtefactSource"]

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
ArtefactSource = Union[bytes, bytearray, memoryview, "os.PathLike[str]", "os.PathLike[bytes]"]
_NO_ARTEFACTS: Mapping[str, ArtefactSource] = MappingProxyType({})
MAX_SAVE_BATCH = 10_000  # Vault.maxSaveBatch
_SAVE_KEYS = frozenset({"process_name", "pid", "metric", "value", "artefacts", "captured_at", "duration", "notes",
                        "process_start_time"})


class Vault:
    """An open SpikeVault directory (created with mode 0700 if missing).

    Use it as a context manager or call ``close()`` (idempotent). Any method called after
    ``close()`` raises ``ClosedError``. One Vault may be shared by threads: ``close()`` waits
    for calls already running on other threads, and refuses new ones.

    Tunables are keyword arguments, one per ``SV_OPT_*`` key (``None`` keeps the library
    default); their names, bounds, defaults and meanings come from abi/manifest.json and are
    listed at the end of this text, in ``OPTION_SPECS`` and in docs/abi-reference.md. An
    unknown keyword raises ``TypeError``; a value outside its bounds ``InvalidArgumentError``.
    ``create=False`` opens an existing vault only: a missing directory or database raises
    ``NotFoundError`` and nothing is created (for read-only tools).

    Raises ``UnsafePathError`` if ``path`` or ``artefacts/`` is a symlink, owned by another
    user or writable by group or others, or if a vault file is another user's (docs/trust.md).
    A directory or file of ours that others can merely read is tightened to 0700/0600.
    """

    def __init__(
        self,
        path: PathLike,
        *,
        create: bool = True,
        **tunables: Optional[int],
    ) -> None:
        self._handle: Optional[int] = None  # first, so close()/__del__ work if opening fails
        self._users = 0
        self._cond = threading.Condition(threading.Lock())
        raw_path = _convert.fs_path(path, "vault path")
        if not raw_path:
            raise InvalidArgumentError("vault path is empty")
        self._path = os.fsdecode(raw_path)
        unknown = sorted(set(tunables) - set(OPTION_KEYWORDS))
        if unknown:
            raise TypeError(f"Vault() got an unexpected keyword argument {unknown[0]!r}")
        options = {OPTION_KEYWORDS[name]: value for name, value in tunables.items()}
        options[Option.OPEN_EXISTING] = None if create else 1
        handle = ctypes.c_void_p()
        with OptionsHandle(options) as options_handle:
            api().sv_vault_open(raw_path, options_handle, ctypes.byref(handle))
        self._handle = handle.value

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The vault directory as given to the constructor."""
        return self._path

    @property
    def closed(self) -> bool:
        return self._handle is None

    def close(self) -> None:
        """Close the vault. Calling it again does nothing. Waits for calls in progress."""
        with self._cond:
            handle, self._handle = self._handle, None
            while self._users:
                self._cond.wait()
        if handle is not None:
            api().sv_vault_close(handle)

    def __enter__(self) -> "Vault":
        self._require_open()
        return self

    def __exit__(
        self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<spikevault.Vault {getattr(self, '_path', '?')!r} {state}>"

    def __del__(self) -> None:
        # A forgotten Vault is closed quietly; a finaliser must never raise.
        try:
            if getattr(self, "_handle", None) is not None:
                handle, self._handle = self._handle, None
                lib().sv_vault_close(handle)
        except Exception:
            pass

    def _require_open(self) -> None:
        if self._handle is None:
            raise ClosedError(f"the vault {self._path!r} is closed; open a new Vault to use it again")

    @contextmanager
    def _using(self) -> Iterator[int]:
        """The live handle for one call; close() waits until the call is over."""
        with self._cond:
            self._require_open()
            handle = self._handle
            assert handle is not None
            self._users += 1
        try:
            yield handle
        finally:
            with self._cond:
                self._users -= 1
                if not self._users:
                    self._cond.notify_all()

    # -- writing ---------------------------------------------------------------------------

    def save(
        self,
        *,
        process_name: Union[str, bytes],
        pid: int,
        metric: Union[Metric, str],
        value: float,
        artefacts: Mapping[str, ArtefactSource] = _NO_ARTEFACTS,
        captured_at: Optional[datetime] = None,
        duration: float = 0.0,
        notes: Union[Mapping[str, Any], str, None] = None,
        process_start_time: Optional[int] = None,
    ) -> int:
        """Store one capture and its artefacts atomically; return its id.

        ``save_async`` takes the same arguments and returns at once.

        ``artefacts`` maps a kind (``[a-z0-9._-]``, 1–64 characters, e.g. ``"procfs.json"``) to
        the content: ``bytes``/``bytearray``/``memoryview`` are copied from memory, an
        ``os.PathLike`` (e.g. ``pathlib.Path``) names a file read when saving. A plain ``str``
        is refused as ambiguous. ``metric`` is a ``Metric`` or a name (``"cpu"``, ``"diskIO"``,
        ``"disk_io"`` …). ``captured_at`` must be timezone-aware (a naive datetime raises
        ``InvalidArgumentError``); it is stored at millisecond precision, default now.
        ``notes`` is a dict (serialised with ``json.dumps``) or a JSON object as text.
        ``process_name`` as ``bytes`` is passed unchanged: non-UTF-8 raises ``EncodingError``.

        Errors: ``InvalidArgumentError`` (pid outside 1..2^31-1, NaN/infinite value, unknown
        metric, notes not a JSON object, bad kind, an artefact path that is not a regular file:
        a FIFO, device, directory or symlink), ``EncodingError``, ``NotFoundError`` (a missing
        artefact file), ``EmptyError`` (a zero-byte artefact), ``ClosedError``.
        """
        with self._record(process_name, pid, metric, value, artefacts, captured_at, duration, notes,
                          process_start_time) as (library, handle, record):
            new_id = ctypes.c_int64()
            api().sv_vault_save(handle, record, ctypes.byref(new_id))
            return new_id.value

    def save_many(self, records: Sequence[Mapping[str, Any]]) -> List[int]:
        """Store a burst of captures all or nothing, with one transaction and one directory
        sync for the batch; return their ids in order. Each item is a mapping of ``save``'s
        keyword arguments (``process_name``, ``pid``, ``metric``, ``value``, ``artefacts``,
        ``captured_at``, ``duration``, ``notes``, ``process_start_time``). A bad item raises
        what ``save`` would, with its index in the message, and nothing of the batch is stored.
        ``[]`` returns ``[]``; more than 10,000 items raise ``InvalidArgumentError``."""
        if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Sequence):
            raise InvalidArgumentError(f"records must be a sequence of mappings of save() arguments, not {type(records).__name__}")
        if not records:
            return []
        if len(records) > MAX_SAVE_BATCH:
            raise InvalidArgumentError(f"a batch holds 1-{MAX_SAVE_BATCH} records, got {len(records)}")
        from contextlib import ExitStack

        with ExitStack() as stack:
            handles = []
            for i, item in enumerate(records):
                if not isinstance(item, Mapping):
                    raise InvalidArgumentError(f"records[{i}] must be a mapping of save() arguments, not {type(item).__name__}")
                unknown = set(item) - _SAVE_KEYS
                if unknown:
                    raise InvalidArgumentError(f"records[{i}]: unknown argument(s) {', '.join(sorted(map(str, unknown)))}")
                missing = {"process_name", "pid", "metric", "value"} - set(item)
                if missing:
                    raise InvalidArgumentError(f"records[{i}]: missing {', '.join(sorted(missing))}")
                try:
                    library, handle, record = stack.enter_context(self._record(
                        item["process_name"], item["pid"], item["metric"], item["value"],
                        item.get("artefacts", _NO_ARTEFACTS), item.get("captured_at"), item.get("duration", 0.0),
                        item.get("notes"), item.get("process_start_time")))
                except spikevault_errors.SpikeVaultError as exc:
                    raise type(exc)(f"records[{i}]: {exc}") from None
                handles.append(record)
            array = (ctypes.c_void_p * len(handles))(*handles)
            ids = (ctypes.c_int64 * len(handles))()
            api().sv_vault_save_many(handle, array, len(handles), ids)
            return list(ids)

    def save_async(
        self,
        *,
        process_name: Union[str, bytes],
        pid: int,
        metric: Union[Metric, str],
        value: float,
        artefacts: Mapping[str, ArtefactSource] = _NO_ARTEFACTS,
        captured_at: Optional[datetime] = None,
        duration: float = 0.0,
        notes: Union[Mapping[str, Any], str, None] = None,
        process_start_time: Optional[int] = None,
    ) -> "Future[int]":
        """Queue ``save(...)`` on the vault's writer thread and return a
        ``concurrent.futures.Future`` of the new id at once; the calling thread never waits for
        the disk. Arguments are checked and copied now (artefact files are read when the save
        runs): bad input raises here as ``save`` would. ``BusyError`` when
        ``write_queue_capacity`` saves are already waiting; ``ClosedError`` once closing.
        ``close()`` runs every queued write first, so each future is done when it returns.
        Done-callbacks of the future run on the library's writer thread: keep them short."""
        from . import background as _background  # imported on first use: a fast command start

        with self._record(process_name, pid, metric, value, artefacts, captured_at, duration, notes,
                          process_start_time) as (library, handle, record):
            return _background.start(lambda cb, token: library.sv_vault_save_start(handle, record, cb, token, None))

    def purge_async(self, cutoff: datetime) -> "Future[int]":
        """``delete_older_than(cutoff)`` on the writer thread; a future of the number deleted."""
        from . import background as _background

        cutoff_ms = _convert.datetime_to_ms(cutoff, "cutoff")
        library = lib()
        with self._using() as handle:
            return _background.start(lambda cb, token: library.sv_vault_purge_start(handle, cutoff_ms, cb, token, None))

    def maintain_async(self) -> "Future[int]":
        """One maintenance pass on the writer thread; a future of the captures purged."""
        from . import background as _background

        library = lib()
        with self._using() as handle:
            return _background.start(lambda cb, token: library.sv_vault_maintain_start(handle, cb, token, None))

    @contextmanager
    def _record(self, process_name: Union[str, bytes], pid: int, metric: Union[Metric, str], value: float,
                artefacts: Mapping[str, ArtefactSource], captured_at: Optional[datetime], duration: float,
                notes: Union[Mapping[str, Any], str, None], process_start_time: Optional[int]) -> Iterator[Any]:
        """A filled ``sv_record`` with the library and the vault handle, freed afterwards."""
        name = _convert.text(process_name, "process_name")
        pid_value = _convert.int64(pid, "pid")
        try:
            metric_value = Metric.parse(metric)
        except ValueError as exc:
            raise InvalidArgumentError(str(exc)) from None
        trigger = _convert.finite_float(value, "value")
        seconds = _convert.finite_float(duration, "duration")
        captured_ms = None if captured_at is None else _convert.datetime_to_ms(captured_at, "captured_at")
        notes_raw = None if notes is None else _convert.text(_notes_json(notes), "notes")
        start = None if process_start_time is None else _convert.int64(process_start_time, "process_start_time")
        if not isinstance(artefacts, Mapping):
            raise InvalidArgumentError(f"artefacts must be a mapping of kind to content, not {type(artefacts).__name__}")
        items = [(_convert.text(kind, "artefact kind"), kind, source) for kind, source in artefacts.items()]

        library = lib()
        with self._using() as handle:
            record = ctypes.c_void_p()
            api().sv_record_new(ctypes.byref(record))
            try:
                api().sv_record_set_process(record, name)
                api().sv_record_set_pid(record, pid_value)
                api().sv_record_set_trigger(record, int(metric_value), trigger)
                if captured_ms is not None:
                    api().sv_record_set_captured_at(record, captured_ms)
                api().sv_record_set_duration(record, seconds)
                if notes_raw is not None:
                    api().sv_record_set_notes(record, notes_raw)
                if start is not None:
                    api().sv_record_set_process_start_time(record, start)
                for raw_kind, kind, source in items:
                    _add_artefact(library, record, raw_kind, kind, source)
                yield library, handle, record
            finally:
                library.sv_record_free(record)

    def delete_older_than(self, cutoff: datetime) -> int:
        """Delete every capture taken strictly before ``cutoff`` (aware datetime), rows and
        files; return how many were deleted. A naive datetime raises ``InvalidArgumentError``."""
        cutoff_ms = _convert.datetime_to_ms(cutoff, "cutoff")
        deleted = ctypes.c_int64()
        with self._using() as handle:
            api().sv_vault_delete_older_than(handle, cutoff_ms, ctypes.byref(deleted))
        return deleted.value

    def delete(self, id: int) -> None:
        """Delete capture ``id``: its rows, then its artefact files (the footprint follows).
        ``NotFoundError`` if there is none, ``InvalidArgumentError`` for an id below 1 or not
        an integer; a capture naming an unsafe file is quarantined instead (``UnsafePathError``)."""
        key = _convert.int64(id, "id")  # below 1: the library's InvalidArgumentError
        with self._using() as handle:
            api().sv_vault_delete(handle, key)

    # -- retention -------------------------------------------------------------------------

    def maintain(self) -> MaintenanceReport:
        """Run one retention pass now, on this thread: purge by age and size, reconcile orphan
        files and missing rows, sweep temp files, give space back. Returns what it did."""
        from .maintenance import MaintenanceReport

        library = lib()
        report = ctypes.c_void_p()
        with self._using() as handle:
            api().sv_vault_maintain(handle, ctypes.byref(report))
        try:
            return MaintenanceReport.from_handle(report.value)
        finally:
            library.sv_report_free(report)

    def footprint(self) -> int:
        """Bytes the vault occupies on disk (database, WAL, artefacts; allocated blocks)."""
        out = ctypes.c_int64()
        with self._using() as handle:
            api().sv_vault_footprint(handle, ctypes.byref(out))
        return out.value

    # -- capturing -------------------------------------------------------------------------

    def capture(
        self,
        pid: int,
        *,
        metric: Union[Metric, str] = Metric.CPU,
        value: float = 0.0,
        duration: float = 5.0,
        interval: Optional[float] = None,
        backend: Union[Backend, str] = Backend.AUTO,
        notes: Union[Mapping[str, Any], str, None] = None,
        command: Optional[Sequence[str]] = None,
        rate: Optional[float] = None,
        perf_frequency: Optional[int] = None,
        collectors: Optional[Sequence[str]] = None,
    ) -> Record:
        """Capture what process ``pid`` is doing for ``duration`` seconds (blocking) and return
        the stored record.

        ``backend``: ``"auto"`` (procfs plus the best stack sampler present), ``"procfs"``,
        ``"eu-stack"``, ``"perf"``, ``"gdb"``, ``"command"`` (with ``command``, an argv list in
        which ``{pid}``, ``{duration}`` and ``{output}`` are replaced; never a shell), or the
        macOS-only ``"sample"``/``"spindump"``, ``"py-spy"`` (Python frames of a CPython target;
        ``auto`` prefers it for one). ``interval`` is the sampling period (default 0.1 s).
        ``rate`` is the stack sampling rate in Hz (default: perf 999, py-spy 100, eu-stack/gdb
        one snapshot per interval; at most 10000, py-spy 1000, eu-stack 100, gdb 10;
        ``perf_frequency`` is its older name). A process that exits mid-capture gives a record with status PARTIAL.
        ``collectors``: the metric collectors to run beside the backend, a list of ``"fds"``,
        ``"threads"``, ``"memory"``, ``"diskIO"``, ``"network"`` (``[]`` for none); by default
        ``"auto"`` picks by ``metric`` (docs/metric-captures.md). Their answer leads the summary.

        Errors: ``NoSuchProcessError``, ``PermissionDeniedError``, ``NotFoundError`` (tool
        missing), ``UnsupportedError``, ``CooldownError``, ``InvalidArgumentError``.
        """
        from . import capture as _capture

        with _capture.request_handle(pid, metric, value, duration, interval, backend,
                                     _capture.notes_text(notes), command,
                                     _capture.pick_rate(rate, perf_frequency), collectors) as request:
            with self._using() as handle:
                new_id = _capture.run(handle, request)
        return self.get(new_id)

    def capture_async(
        self,
        pid: int,
        *,
        metric: Union[Metric, str] = Metric.CPU,
        value: float = 0.0,
        duration: float = 5.0,
        interval: Optional[float] = None,
        backend: Union[Backend, str] = Backend.AUTO,
        notes: Union[Mapping[str, Any], str, None] = None,
        command: Optional[Sequence[str]] = None,
        rate: Optional[float] = None,
        perf_frequency: Optional[int] = None,
        collectors: Optional[Sequence[str]] = None,
    ) -> "_capture.CaptureFuture":
        """Like ``capture`` but on the library's worker threads: returns a
        ``concurrent.futures.Future`` at once, whose result is the stored ``Record``.

        Raises ``BusyError`` at once when the workers and the queue are full, and
        ``CooldownError`` within the cooldown. ``future.cancel()`` stops a running capture;
        closing the vault cancels every pending one (their futures fail with ``CancelledError``).
        """
        from . import capture as _capture

        with _capture.request_handle(pid, metric, value, duration, interval, backend,
                                     _capture.notes_text(notes), command,
                                     _capture.pick_rate(rate, perf_frequency), collectors) as request:
            with self._using() as handle:
                return _capture.start(self, handle, request)

    # -- reading ---------------------------------------------------------------------------

    def get(self, id: int) -> Record:
        """The capture with ``id``; ``NotFoundError`` if there is none."""
        key = _convert.int64(id, "id")
        library = lib()
        cursor = ctypes.c_void_p()
        with self._using() as handle:
            api().sv_vault_get(handle, key, ctypes.byref(cursor))
        records = read_cursor(library, cursor.value)
        if not records:
            raise NotFoundError(f"no capture with id {key}")
        return records[0]

    def recent(self, limit: int = 50, *, as_list: bool = False) -> Union[RecordIterator, List[Record]]:
        """The newest ``limit`` captures (0..1000000), newest first, as a ``RecordIterator``
        that reads a page at a time (``as_list=True``: a list). The iterator also answers
        ``len()``, indexing and ``==`` like a list, by reading the rest of the rows first."""
        count = _convert.int64(limit, "limit")
        library = lib()
        cursor = ctypes.c_void_p()
        with self._using() as handle:
            api().sv_vault_recent(handle, count, ctypes.byref(cursor))
        rows = RecordIterator(library, cursor.value)
        return rows.to_list() if as_list else rows

    def read_artefact(self, id: int, kind: Optional[str] = None, redact: bool = False) -> bytes:
        """An artefact's content, decompressed and verified (``kind`` None: the first one).
        With ``redact=True``, the contents redacted as in a redacted bundle (binary content,
        which cannot be redacted, raises ``UnsupportedError``).

        Raises ``CorruptError`` for damaged or foreign data, ``TooLargeError`` above
        ``max_artefact_bytes``, ``NotFoundError`` for an unknown id or kind.
        """
        key = _convert.int64(id, "id")
        raw_kind = None if kind is None else _convert.text(kind, "kind")
        library = lib()
        data = ctypes.c_void_p()
        size = ctypes.c_size_t()
        try:
            with self._using() as handle:
                read = api().sv_vault_read_artefact_redacted if redact else api().sv_vault_read_artefact
                read(handle, key, raw_kind, ctypes.byref(data), ctypes.byref(size))
            return ctypes.string_at(data.value, size.value) if size.value else b""
        finally:
            library.sv_free(data)

    def export_artefact(self, id: int, dest: PathLike, kind: Optional[str] = None) -> None:
        """Write an artefact, decompressed and verified, to ``dest``, which must not exist
        (``AlreadyExistsError``). The file appears complete or not at all."""
        key = _convert.int64(id, "id")
        raw_kind = None if kind is None else _convert.text(kind, "kind")
        raw_dest = _convert.fs_path(dest, "dest")
        with self._using() as handle:
            api().sv_vault_export_artefact(handle, key, raw_kind, raw_dest)

    def artefact_path(self, id: int, kind: Optional[str] = None) -> str:
        """The absolute path of an artefact's (compressed) file."""
        key = _convert.int64(id, "id")
        raw_kind = None if kind is None else _convert.text(kind, "kind")
        library = lib()
        out = ctypes.c_void_p()
        try:
            with self._using() as handle:
                api().sv_vault_artefact_path(handle, key, raw_kind, ctypes.byref(out))
            return os.fsdecode(ctypes.string_at(out.value))
        finally:
            library.sv_free(out)

    # -- review (see spikevault.review and docs/review.md) ----------------------------------

    def query(self, *, as_list: bool = False, **criteria: Any) -> Union[RecordIterator, List[Record]]:
        """Captures matching every given criterion, as a ``RecordIterator`` that reads a page
        of rows per C call (memory stays one page; ``as_list=True``: a list). The query opens
        at once, so bad criteria raise here; captures saved after that are not returned
        (docs/streaming.md). Criteria: ``metric`` (one or a list),
        ``process`` (case-insensitive substring), ``process_glob`` (``*?[...]``), ``pid``,
        ``since``/``until`` (aware datetimes or ms; ``until`` exclusive), ``min_value``/
        ``max_value`` (inclusive), ``status`` (one or a list), ``order`` (``"time"``/
        ``"time-desc"``, ``"time-asc"``, ``"value"``/``"value-desc"``, ``"value-asc"``),
        ``limit`` (>= 0), ``after`` (the last Record of the previous page, or its key).
        Errors: ``InvalidArgumentError`` (unknown metric, inverted range, negative limit,
        unmatched ``[`` in a glob)."""
        with self._using() as handle:
            rows = _review.query(handle, criteria)
        return rows.to_list() if as_list else rows

    def write_list(self, fd: int, *, now: Optional[datetime] = None, **criteria: Any) -> int:
        """Write the matching captures to the open descriptor ``fd`` as the table ``spikevault
        list`` prints to a pipe (the library formats and writes the rows; same criteria as
        ``query``); return the number of rows (0: nothing written). Relative times are measured
        from ``now`` (default: the current time). ``InvalidArgumentError`` for a bad ``fd``,
        ``BrokenPipeError`` when the reader left."""
        when = now or datetime.now(timezone.utc)
        if when.tzinfo is None:
            raise InvalidArgumentError("now must be an aware datetime (e.g. datetime.now(timezone.utc))")
        now_us = (when - _convert.EPOCH) // timedelta(microseconds=1)
        with self._using() as handle:
            return _review.write_list(handle, fd, now_us, criteria)

    def count(self, **criteria: Any) -> int:
        """How many captures match (same criteria as ``query``; order, limit, after ignored)."""
        with self._using() as handle:
            return _review.count(handle, criteria)

    def summary(self, id: int, format: str = "text", *, redact: bool = True) -> Any:
        """A short report of one capture: ``format="text"`` gives a str, ``"json"`` a dict."""
        with self._using() as handle:
            return _review.summary(handle, id, format, redact)

    def export_stacks(self, id: int, dest: PathLike, format: str = "speedscope", *, kind: Optional[str] = None,
                      redact: bool = True, overwrite: bool = False) -> None:
        """Write a capture's stacks as ``"folded"``, ``"speedscope"`` JSON or ``"pprof"`` (gzip
        profile.proto; ``kind`` must then be a ``*.folded`` artefact), atomically."""
        with self._using() as handle:
            _review.export_stacks(handle, id, dest, format, kind, redact, overwrite)

    def export_records(self, dest: PathLike, format: str = "json", *, redact: bool = True, overwrite: bool = False,
                       **criteria: Any) -> int:
        """Write the matching captures as ``"json"`` (array), ``"ndjson"`` or ``"csv"``
        (RFC 4180), atomically; return the row count. ``AlreadyExistsError`` for an existing
        file unless ``overwrite``; ``NotFoundError`` for a missing directory."""
        with self._using() as handle:
            return _review.export_records(handle, dest, format, redact, overwrite, criteria)

    def write_records(self, fd: int, format: str = "json", *, redact: bool = True, **criteria: Any) -> int:
        """``export_records`` to the open descriptor ``fd`` instead of a file: the library writes
        the same bytes as it reads the rows (a pipe sees the first at once; nothing is held in
        memory); return the row count. ``fd`` stays open. ``InvalidArgumentError`` for a bad
        ``fd``, ``BrokenPipeError`` when the reader left."""
        with self._using() as handle:
            return _review.write_records(handle, fd, format, redact, criteria)

    def export_bundle(self, dest: PathLike, *, redact: bool = True, overwrite: bool = False,
                      progress: Any = None, **criteria: Any) -> "_review.BundleReport":
        """Write a .tar with metadata.json and the matching captures' artefacts (zstd; redacted
        copies unless ``redact=False``); return a ``BundleReport``: the number of captures (0
        gives a valid tar with ``"records": []``) with the artefacts left out (missing, corrupt,
        withheld as binary). ``progress(done_bytes, total_bytes)`` runs on this thread; return
        False to cancel."""
        with self._using() as handle:
            return _review.export_bundle(handle, dest, redact, overwrite, progress, criteria)

    def analytics(self, template: str, since: Any = None, until: Any = None) -> List[dict]:
        """A built-in analysis in SQLite: ``"peak-by-process"``, ``"captures-per-hour"``,
        ``"top-processes"``, ``"p95-by-process"`` over ``[since, until)``; a list of dicts."""
        with self._using() as handle:
            return _review.analytics(handle, template, since, until)

    def export_duckdb(self, dest: PathLike, *, redact: bool = True, overwrite: bool = False,
                      duckdb: Optional[str] = None) -> int:
        """Snapshot the tables into a new DuckDB file through the duckdb CLI (``UnsupportedError``
        without it: ``pip install duckdb-cli``); query it with ``spikevault.duckdb_analytics``."""
        with self._using() as handle:
            return _review.export_duckdb(handle, dest, redact, overwrite, duckdb)

    def export_parquet(self, dest: PathLike, *, redact: bool = True) -> int:
        """Write the captures not yet exported to directory ``dest`` as Hive-partitioned Parquet
        (captures/ and stacks/, host=H/date=D/), through the duckdb CLI; return how many were
        new (docs/fleet.md). ``UnsafePathError`` for a symlink, a file, another user's or a
        group/other-writable directory; ``UnsupportedError`` without the duckdb CLI."""
        with self._using() as handle:
            return _review.export_parquet(handle, dest, redact)

    def rerun(self, id: int) -> Record:
        """Capture the process of capture ``id`` again with the same request, if it is still
        the same process (start time); else ``NoSuchProcessError``."""
        with self._using() as handle:
            new_id = _review.rerun(handle, id)
        return self.get(new_id)


def _notes_json(notes: Union[Mapping[str, Any], str]) -> str:
    if isinstance(notes, str):
        return notes
    if isinstance(notes, Mapping):
        try:
            return json.dumps(dict(notes), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(f"notes cannot be serialised as JSON: {exc}") from None
    raise InvalidArgumentError(f"notes must be a dict or a JSON object as str, not {type(notes).__name__}")


def _add_artefact(library: ctypes.CDLL, record: ctypes.c_void_p, raw_kind: bytes, kind: str, source: object) -> None:
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source)
        if not view.c_contiguous:
            view = memoryview(view.tobytes())
        view = view.cast("B") if view.format != "B" or view.ndim != 1 else view
        size = view.nbytes
        if view.readonly:
            buffer: object = view.tobytes() if not isinstance(source, bytes) else source
        else:
            buffer = (ctypes.c_char * size).from_buffer(view) if size else None
        if size == 0:
            buffer = b""  # a valid pointer with size 0: the library reports EMPTY
        api().sv_record_add_artefact_buffer(record, raw_kind, buffer, size)
        return
    if isinstance(source, os.PathLike):
        api().sv_record_add_artefact_file(record, raw_kind, _convert.fs_path(source, f"artefact {kind!r}"))
        return
    if isinstance(source, str):
        raise InvalidArgumentError(
            f"artefact {kind!r} is a str: give pathlib.Path(...) for a file or bytes for content"
        )
    raise InvalidArgumentError(
        f"artefact {kind!r} must be bytes, bytearray, memoryview or os.PathLike, not {type(source).__name__}"
    )


# The tunables' list in help(Vault), from the manifest's table (one source: abi/manifest.json).
Vault.__doc__ = (Vault.__doc__ or "") + "\n    Tunables (keyword, bounds, default):\n\n" + "".join(
    f"    ``{spec.keyword}`` ({spec.minimum:,}..{spec.maximum:,}, default {spec.default:,}): {spec.doc}\n"
    for spec in OPTION_SPECS.values() if spec.keyword)
Vault.__doc__ += "\n    Text tunables (keyword, rule; None keeps the detected value):\n\n" + "".join(
    f"    ``{spec.keyword}`` ({spec.rule}): {spec.doc}\n" for spec in TEXT_OPTION_SPECS.values())
