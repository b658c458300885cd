"""Watching processes: ``Monitor`` samples /proc (or takes the host's observations), applies
``Rule``s (threshold, sustain window, cooldown, hourly cap, filters) and captures into the
vault when one fires. See docs/monitor.md.

    rules = [spikevault.Rule("cpu", 90, sustain=30), spikevault.Rule("memory", 2048)]
    with spikevault.Monitor(vault, rules, on_fired=print, on_capture=print) as monitor:
        time.sleep(3600)

Callbacks run on library threads (``on_fired`` on the monitor thread, ``on_capture`` on a
capture worker); ctypes takes the GIL for them. An exception raised by a callback never
reaches the library: it is appended to ``Monitor.errors``, logged on the
``spikevault.monitor`` logger and passed to ``on_error`` if given.
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import _convert
from ._enums import Backend, Metric, MonitorCounter, Status
from ._functions import MONITOR_CAPTURE_CALLBACK, MONITOR_FIRED_CALLBACK
from ._closing import Closing
from ._library import api, lib
from .capture import parse_backend
from .errors import ClosedError, InvalidArgumentError, SpikeVaultError, check, error_for_status

if TYPE_CHECKING:
    from .vault import Vault

__all__ = ["Rule", "Firing", "CaptureDone", "Monitor", "default_rules"]

log = logging.getLogger("spikevault.monitor")


@dataclass(frozen=True)
class Rule:
    """``metric`` at or above ``threshold`` (at or below with ``below=True``) for ``sustain``
    seconds fires; then the process is captured with ``backend`` for ``duration`` seconds
    (unless ``capture=False``: notify only), at most once per ``cooldown`` seconds per process.
    Units: cpu in % of one core, memory MiB, diskIO MiB/s, network = open sockets, threads
    and fds as counts. ``include``/``exclude`` are process-name globs (fnmatch), ``uids``
    limits the rule to those users. ``history_stacks``: seconds between low-rate eu-stack
    snapshots of the matched processes kept in the monitor's history and stored with a fired
    capture as ``history.folded`` (0: off; else 0.5 to 60)."""

    metric: Union[Metric, str]
    threshold: float
    sustain: float = 0.0
    cooldown: float = 600.0
    below: bool = False
    include: Sequence[str] = ()
    exclude: Sequence[str] = ()
    uids: Sequence[int] = ()
    backend: Union[Backend, str] = Backend.AUTO
    duration: float = 5.0
    capture: bool = True
    history_stacks: float = 0.0

    def _handle(self) -> "_RuleHandle":
        return _RuleHandle(self)


def default_rules() -> List[Rule]:
    """CPU >= 90 % for 30 s, memory >= 2048 MiB, disk I/O >= 100 MiB/s for 30 s,
    threads >= 1000, fds >= 5000 (the library's defaults)."""
    return [Rule(Metric.CPU, 90, sustain=30), Rule(Metric.MEMORY, 2048), Rule(Metric.DISK_IO, 100, sustain=30),
            Rule(Metric.THREADS, 1000), Rule(Metric.FDS, 5000)]


@dataclass(frozen=True)
class Firing:
    """A rule fired for a process (passed to ``on_fired``)."""

    pid: int
    process_name: str
    metric: Metric
    value: float
    rule_index: int
    time_ms: int
    rule: Optional[Rule] = None


@dataclass(frozen=True)
class CaptureDone:
    """The capture a firing started has finished (passed to ``on_capture``): ``capture_id``
    on success, else ``error`` (e.g. ``PermissionDeniedError``, ``CooldownError``)."""

    pid: int
    metric: Metric
    rule_index: int
    capture_id: Optional[int]
    error: Optional[SpikeVaultError] = None
    rule: Optional[Rule] = None

    @property
    def ok(self) -> bool:
        return self.error is None


class _RuleHandle(Closing):
    def __init__(self, rule: Rule) -> None:
        try:
            metric = Metric.parse(rule.metric)
        except ValueError as exc:
            raise InvalidArgumentError(str(exc)) from None
        library = lib()
        handle = ctypes.c_void_p()
        api().sv_rule_new(int(metric), _convert.finite_float(rule.threshold, "threshold"), ctypes.byref(handle))
        self.handle = handle
        try:
            api().sv_rule_set_below(handle, 1 if rule.below else 0)
            api().sv_rule_set_sustain(handle, _convert.finite_float(rule.sustain, "sustain"))
            api().sv_rule_set_cooldown(handle, _convert.finite_float(rule.cooldown, "cooldown"))
            for glob in _strings(rule.include, "include"):
                api().sv_rule_add_include(handle, glob)
            for glob in _strings(rule.exclude, "exclude"):
                api().sv_rule_add_exclude(handle, glob)
            for uid in rule.uids:
                api().sv_rule_add_uid(handle, _convert.int64(uid, "uid"))
            api().sv_rule_set_capture(handle, int(parse_backend(rule.backend)),
                                              _convert.finite_float(rule.duration, "duration"))
            api().sv_rule_set_notify_only(handle, 0 if rule.capture else 1)
            api().sv_rule_set_history_stacks(handle, _convert.finite_float(rule.history_stacks, "history_stacks"))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        handle, self.handle = getattr(self, "handle", None), None
        if handle is not None:
            lib().sv_rule_free(handle)


def _strings(values: Sequence[str], what: str) -> List[bytes]:
    if isinstance(values, (str, bytes)):
        raise InvalidArgumentError(f"{what} must be a sequence of globs, not one string")
    return [_convert.text(v, f"{what}[{i}]") for i, v in enumerate(values)]


# Live monitors by token (the user_data of their callbacks); weak so a forgotten Monitor is collected.
_monitors: "weakref.WeakValueDictionary[int, Monitor]" = weakref.WeakValueDictionary()
_tokens = itertools.count(1)


def _on_fired(pid: int, name: Optional[bytes], metric: int, value: float, rule_index: int, time_ms: int,
              user_data: Optional[int]) -> None:
    try:
        monitor = _monitors.get(user_data or 0)
        if monitor is not None:
            monitor._fired(Firing(pid, (name or b"").decode("utf-8", "replace"), Metric(metric), value, rule_index,
                                  time_ms, monitor._rule(rule_index)))
    except BaseException:  # noqa: BLE001 - never raise into the library
        pass


def _on_capture(pid: int, metric: int, rule_index: int, status: int, capture_id: int, user_data: Optional[int]) -> None:
    try:
        monitor = _monitors.get(user_data or 0)
        if monitor is None:
            return
        error = None
        if status != Status.OK:
            raw = lib().sv_errmsg()
            message = raw.decode("utf-8", "replace") if raw else ""
            error = error_for_status(status, message or f"capture failed with status {status}")
        monitor._captured(CaptureDone(pid, Metric(metric), rule_index, capture_id if error is None else None, error,
                                      monitor._rule(rule_index)))
    except BaseException:  # noqa: BLE001
        pass


_FIRED = MONITOR_FIRED_CALLBACK(_on_fired)
_CAPTURED = MONITOR_CAPTURE_CALLBACK(_on_capture)


class Monitor(Closing):
    """Watches processes and captures into ``vault`` on sustained spikes.

    ``rules``: a sequence of ``Rule`` (``None``: ``default_rules()``). ``interval``: sampling
    period in seconds (also the unit of the gap rule: observations more than 2 intervals apart
    restart a sustain window). ``max_per_hour``: captures per rolling hour over all rules.
    ``sampling=False``: host-fed mode, only ``observe()`` drives the rules.
    ``history``: seconds of per-process history kept for the processes the capturing rules
    match (0: off; at most 3600), stored with each fired capture as ``history.json``;
    ``history_memory``: its memory limit in bytes (65536 to 1 GiB). See docs/monitor.md.

    Nothing runs until ``start()`` (or ``with``); ``stop()`` joins the monitor thread and waits
    for the captures it started, so no callback runs after it returns.
    """

    def __init__(
        self,
        vault: "Vault",
        rules: Optional[Sequence[Rule]] = None,
        *,
        interval: float = 1.0,
        max_per_hour: int = 6,
        sampling: bool = True,
        history: float = 60.0,
        history_memory: int = 16 << 20,
        on_fired: Optional[Callable[[Firing], Any]] = None,
        on_capture: Optional[Callable[[CaptureDone], Any]] = None,
        on_error: Optional[Callable[[BaseException], Any]] = None,
    ) -> None:
        self._handle: Optional[int] = None
        self._vault = vault
        self.rules: Tuple[Rule, ...] = tuple(default_rules() if rules is None else rules)
        if not self.rules:
            raise InvalidArgumentError("a Monitor needs at least one rule")
        self.on_fired = on_fired
        self.on_capture = on_capture
        self.on_error = on_error
        self.errors: List[BaseException] = []
        self._lock = threading.Lock()
        library = lib()
        handle = ctypes.c_void_p()
        with vault._using() as vault_handle:
            api().sv_monitor_new(vault_handle, ctypes.byref(handle))
        self._handle = handle.value
        try:
            api().sv_monitor_set_interval(self._handle, _convert.finite_float(interval, "interval"))
            api().sv_monitor_set_max_per_hour(self._handle, _convert.int64(max_per_hour, "max_per_hour"))
            api().sv_monitor_set_sampling(self._handle, 1 if sampling else 0)
            api().sv_monitor_set_history(self._handle, _convert.finite_float(history, "history"))
            api().sv_monitor_set_history_memory(self._handle, _convert.int64(history_memory, "history_memory"))
            for rule in self.rules:
                with rule._handle() as rh:
                    api().sv_monitor_add_rule(self._handle, rh.handle, None)
            self._token = next(_tokens)
            _monitors[self._token] = self
            api().sv_monitor_set_callbacks(self._handle, _FIRED, _CAPTURED, self._token)
        except BaseException:
            self.close()
            raise

    # -- lifecycle --
    def _live(self) -> int:
        if self._handle is None:
            raise ClosedError("the monitor is closed")
        return self._handle

    def start(self) -> "Monitor":
        api().sv_monitor_start(self._live())
        return self

    def stop(self) -> None:
        """Stops and waits (see the class doc). Raises ``BusyError`` from a monitor callback."""
        if self._handle is not None:
            api().sv_monitor_stop(self._handle)

    def close(self) -> None:
        """Stops the monitor and releases it. Idempotent."""
        handle, self._handle = self._handle, None
        if handle is not None:
            status = lib().sv_monitor_free(handle)
            if status == Status.ERR_BUSY:
                self._handle = handle
            check(status)

    def __enter__(self) -> "Monitor":
        return self.start()


    # -- host-fed mode --
    def observe(self, pid: int, metric: Union[Metric, str], value: float, time_ms: Optional[int] = None) -> None:
        """One observation (units as in ``Rule``) at ``time_ms`` (default: now, epoch ms)."""
        t = int(time.time() * 1000) if time_ms is None else _convert.int64(time_ms, "time_ms")
        api().sv_monitor_observe(self._live(), _convert.int64(pid, "pid"), int(_metric(metric)),
                                       _convert.finite_float(value, "value"), t)

    def observe_many(self, observations: Iterable[Tuple[int, Union[Metric, str], float, int]]) -> None:
        """``(pid, metric, value, time_ms)`` tuples in order, in one call."""
        rows = list(observations)
        n = len(rows)
        pids = (ctypes.c_int64 * max(1, n))(*[_convert.int64(r[0], "pid") for r in rows])
        metrics = (ctypes.c_int32 * max(1, n))(*[int(_metric(r[1])) for r in rows])
        values = (ctypes.c_double * max(1, n))(*[_convert.finite_float(r[2], "value") for r in rows])
        times = (ctypes.c_int64 * max(1, n))(*[_convert.int64(r[3], "time_ms") for r in rows])
        api().sv_monitor_observe_batch(self._live(), pids, metrics, values, times, n)

    # -- figures --
    def counters(self) -> Dict[str, int]:
        """Every ``MonitorCounter`` by lower-case name (``ticks``, ``vanished``, ``fired``…)."""
        out: Dict[str, int] = {}
        value = ctypes.c_int64()
        for counter in MonitorCounter:
            api().sv_monitor_get_counter(self._live(), int(counter), ctypes.byref(value))
            out[counter.name.lower()] = value.value
        return out

    def sample(self) -> int:
        """One sampler pass now (no rules evaluated); returns the number of processes."""
        n = ctypes.c_int64()
        api().sv_monitor_sample(self._live(), ctypes.byref(n))
        return n.value

    # -- callback plumbing (library threads) --
    def _rule(self, index: int) -> Optional[Rule]:
        return self.rules[index] if 0 <= index < len(self.rules) else None

    def _fired(self, firing: Firing) -> None:
        if self.on_fired is not None:
            self._call(self.on_fired, firing)

    def _captured(self, done: CaptureDone) -> None:
        if self.on_capture is not None:
            self._call(self.on_capture, done)

    def _call(self, fn: Callable[[Any], Any], arg: Any) -> None:
        try:
            fn(arg)
        except BaseException as exc:  # noqa: BLE001 - reported, never raised into C
            with self._lock:
                self.errors.append(exc)
            log.error("spikevault monitor callback %r raised", fn, exc_info=exc)
            if self.on_error is not None:
                try:
                    self.on_error(exc)
                except BaseException:  # noqa: BLE001
                    log.exception("spikevault monitor on_error raised")


def _metric(metric: Union[Metric, str]) -> Metric:
    try:
        return Metric.parse(metric)
    except ValueError as exc:
        raise InvalidArgumentError(str(exc)) from None
