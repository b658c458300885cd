"""Capturing a live process: request building, the synchronous call and ``CaptureFuture``."""

from __future__ import annotations

import ctypes
import itertools
import threading
from concurrent.futures import Future
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Dict, Iterator, Mapping, Optional, Sequence, Union

from . import _convert
from ._enums import Backend, Metric, Status
from ._functions import CAPTURE_CALLBACK
from ._library import api, lib
from .errors import InvalidArgumentError, SpikeVaultError, error_for_status

if TYPE_CHECKING:
    from .vault import Vault

__all__ = ["CaptureFuture", "parse_backend"]


def parse_backend(backend: Union[Backend, str]) -> Backend:
    """A ``Backend`` from itself or a name: ``"auto"``, ``"procfs"``, ``"eu-stack"``, ``"perf"``…"""
    if isinstance(backend, Backend):
        return backend
    if isinstance(backend, str):
        key = backend.strip().upper().replace("-", "_")
        if key in Backend.__members__:
            return Backend[key]
    names = ", ".join(m.name.lower().replace("_", "-") for m in Backend)
    raise InvalidArgumentError(f"unknown backend {backend!r}; use one of {names}")


@contextmanager
def request_handle(
    pid: int,
    metric: Union[Metric, str],
    value: float,
    duration: float,
    interval: Optional[float],
    backend: Union[Backend, str],
    notes: Optional[str],
    command: Optional[Sequence[str]],
    rate: Optional[float],
    collectors: Optional[Sequence[str]] = None,
) -> Iterator[ctypes.c_void_p]:
    """A filled ``sv_request`` handle, always freed."""
    try:
        metric_value = Metric.parse(metric)
    except ValueError as exc:
        raise InvalidArgumentError(str(exc)) from None
    library = lib()
    handle = ctypes.c_void_p()
    api().sv_request_new(ctypes.byref(handle))
    try:
        api().sv_request_set_pid(handle, _convert.int64(pid, "pid"))
        api().sv_request_set_trigger(handle, int(metric_value), _convert.finite_float(value, "value"))
        api().sv_request_set_duration(handle, _convert.finite_float(duration, "duration"))
        if interval is not None:
            api().sv_request_set_interval(handle, _convert.finite_float(interval, "interval"))
        api().sv_request_set_backend(handle, int(parse_backend(backend)))
        if command is not None:
            if isinstance(command, (str, bytes)):
                raise InvalidArgumentError("command must be a sequence of arguments, not one string (no shell is used)")
            args = [_convert.text(a, f"command[{i}]") for i, a in enumerate(command)]
            argv = (ctypes.c_char_p * max(1, len(args)))(*args)
            api().sv_request_set_command(handle, argv, len(args))
        if rate is not None:
            api().sv_request_set_rate(handle, _convert.finite_float(rate, "rate"))
        if collectors is not None:
            if isinstance(collectors, (str, bytes)):
                raise InvalidArgumentError("collectors must be a sequence of names such as ['fds', 'threads'], not one string")
            names = [_convert.text(c, f"collectors[{i}]") for i, c in enumerate(collectors)]
            if any(b"," in n for n in names):
                raise InvalidArgumentError("a collector name cannot contain ','")
            api().sv_request_set_collectors(handle, b",".join(names))
        if notes is not None:
            api().sv_request_set_notes(handle, _convert.text(notes, "notes"))
        yield handle
    finally:
        library.sv_request_free(handle)


class CaptureFuture(Future):  # type: ignore[type-arg]
    """The pending result of ``Vault.capture_async``: a ``concurrent.futures.Future`` whose
    result is the stored ``Record``. ``cancel()`` asks the library to stop the capture (it
    stores nothing); the future then fails with ``spikevault.CancelledError``."""

    def __init__(self) -> None:
        super().__init__()
        self._job: Optional[int] = None
        self._job_lock = threading.Lock()

    def cancel(self) -> bool:
        if self.done():
            return False
        with self._job_lock:
            job = self._job
        if job is not None:
            lib().sv_job_cancel(job)
        return True

    def _release_job(self) -> None:
        with self._job_lock:
            job, self._job = self._job, None
        if job is not None:
            lib().sv_job_free(job)


# Jobs in flight, by the token passed as user_data: the callback finds its future here.
_pending: Dict[int, "tuple[CaptureFuture, Vault]"] = {}
_pending_lock = threading.Lock()
_tokens = itertools.count(1)


def _on_capture_done(job: Optional[int], status: int, capture_id: int, user_data: Optional[int]) -> None:
    """Runs on a library worker thread (ctypes takes the GIL). Never raises: every outcome,
    including a failure to read the record back, ends up in the future."""
    try:
        with _pending_lock:
            future, vault = _pending.pop(user_data or 0, (None, None))
        if future is None or vault is None:
            return
        try:
            if status == Status.OK:
                future.set_result(vault.get(capture_id))
            else:
                raw = lib().sv_errmsg()
                message = raw.decode("utf-8", "replace") if raw else ""
                future.set_exception(error_for_status(status, message or f"capture failed with status {status}"))
        except BaseException as exc:  # noqa: BLE001 - must not escape into C
            if not future.done():
                future.set_exception(exc)
        finally:
            future._release_job()
    except BaseException:  # noqa: BLE001 - a callback must never raise into the library
        pass


# One C trampoline for every job, alive as long as the module.
_CALLBACK = CAPTURE_CALLBACK(_on_capture_done)


def start(vault: "Vault", handle: int, request: ctypes.c_void_p) -> CaptureFuture:
    """Starts the capture and returns its future (errors at start are raised here)."""
    future = CaptureFuture()
    token = next(_tokens)
    with _pending_lock:
        _pending[token] = (future, vault)
    job = ctypes.c_void_p()
    try:
        api().sv_capture_start(handle, request, _CALLBACK, token, ctypes.byref(job))
    except SpikeVaultError:
        with _pending_lock:
            _pending.pop(token, None)
        raise
    with future._job_lock:
        if not future.done():
            future._job = job.value
            job = None  # owned by the future now
    if job is not None:
        lib().sv_job_free(job)  # finished before we could store it
    return future


def pick_rate(rate: Optional[float], perf_frequency: Optional[int]) -> Optional[float]:
    """``rate``, or its older name ``perf_frequency``; both given is an error."""
    if rate is not None and perf_frequency is not None:
        raise InvalidArgumentError("perf_frequency is the older name of rate: pass only rate")
    if perf_frequency is not None:
        if isinstance(perf_frequency, bool) or not isinstance(perf_frequency, int):
            raise InvalidArgumentError(f"perf_frequency must be a whole number of Hz, got {perf_frequency!r}")
        return float(perf_frequency)
    return rate


def notes_text(notes: Union[Mapping[str, Any], str, None]) -> Optional[str]:
    if notes is None:
        return None
    from .vault import _notes_json

    return _notes_json(notes)


def run(vault_handle: int, request: ctypes.c_void_p) -> int:
    new_id = ctypes.c_int64()
    api().sv_capture_run(vault_handle, request, ctypes.byref(new_id))
    return new_id.value
