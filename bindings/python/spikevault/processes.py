"""The machine's processes as the monitor's sampler sees them (what ``spikevault top`` shows).

    with spikevault.ProcessTable() as table:
        table.refresh()                      # first pass: no CPU or I/O rates yet
        time.sleep(1)
        for row in sorted(table.refresh(), key=lambda r: r.cpu or 0, reverse=True)[:10]:
            print(row.pid, row.name, row.cpu, row.rss_mib)

Names come from the processes: escape them (``spikevault.textsafe.visible``) before showing
them. Linux only (``UnsupportedError`` without procfs). One thread uses a table at a time.
"""

from __future__ import annotations

import ctypes
import math
import threading
from dataclasses import dataclass
from typing import List, Optional

from ._enums import Metric
from ._closing import Closing
from ._library import api, lib
from .errors import ClosedError

__all__ = ["ProcessRow", "ProcessTable"]


@dataclass(frozen=True)
class ProcessRow:
    """One process in one pass. Units as in ``Rule``: ``cpu`` in % of one core (as top shows
    it), ``rss_mib`` MiB, ``disk_io`` MiB/s (read + write). ``None``: this pass has no reading
    (CPU and I/O on a process's first pass; io, fds and sockets of processes the caller may
    not inspect)."""

    pid: int
    name: str
    uid: int
    start_time: int
    inspectable: bool
    cpu: Optional[float]
    rss_mib: Optional[float]
    disk_io: Optional[float]
    threads: Optional[int]
    fds: Optional[int]
    sockets: Optional[int]


def _number(value: float) -> Optional[float]:
    return None if math.isnan(value) else value


def _count(value: float) -> Optional[int]:
    return None if math.isnan(value) else int(value)


class ProcessTable(Closing):
    """A /proc sampler of its own (``sv_sampler``): ``refresh()`` is one pass with every reading."""

    def __init__(self) -> None:
        self._handle: Optional[int] = None
        # refresh() reads rows by index after the pass: a second thread's pass in between
        # would mix two passes (or index past the new table), so passes are serialised.
        self._lock = threading.Lock()
        handle = ctypes.c_void_p()
        api().sv_sampler_new(ctypes.byref(handle))
        self._handle = handle.value

    def _live(self) -> int:
        if self._handle is None:
            raise ClosedError("the process table is closed")
        return self._handle

    def refresh(self) -> List[ProcessRow]:
        """One pass over /proc; the rows in /proc order. Safe to call from several threads."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> List[ProcessRow]:
        library = lib()
        handle = self._live()
        n = ctypes.c_int64()
        api().sv_sampler_refresh(handle, ctypes.byref(n))
        pid, uid, start = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
        inspectable = ctypes.c_int32()
        value = ctypes.c_double()
        rows: List[ProcessRow] = []
        for i in range(n.value):
            api().sv_sampler_row_process(handle, i, ctypes.byref(pid), ctypes.byref(uid), ctypes.byref(start),
                                                 ctypes.byref(inspectable))
            values = {}
            for metric in Metric:
                api().sv_sampler_row_value(handle, i, int(metric), ctypes.byref(value))
                values[metric] = value.value
            raw = library.sv_sampler_row_name(handle, i)
            rows.append(ProcessRow(
                pid=pid.value, name=(raw or b"").decode("utf-8", "replace"), uid=uid.value, start_time=start.value,
                inspectable=bool(inspectable.value), cpu=_number(values[Metric.CPU]),
                rss_mib=_number(values[Metric.MEMORY]), disk_io=_number(values[Metric.DISK_IO]),
                threads=_count(values[Metric.THREADS]), fds=_count(values[Metric.FDS]),
                sockets=_count(values[Metric.NETWORK])))
        return rows

    def close(self) -> None:
        """Releases the sampler. Idempotent."""
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            api().sv_sampler_free(handle)

