"""Python mirrors of the C enums in spikevault.h (values are ABI and must match the header)."""

from __future__ import annotations

from enum import IntEnum
from typing import Union

__all__ = ["Status", "Metric", "CaptureStatus", "Backend", "Option", "MonitorCounter", "FilterField", "Order",
           "Format", "ExportFlag", "Analytics"]


class Status(IntEnum):
    """``sv_status``: 0 is success, small positive values are cursor states, negatives errors."""

    OK = 0
    ROW = 1
    DONE = 2
    ERR_INVALID_ARGUMENT = -1
    ERR_NULL_ARGUMENT = -2
    ERR_ENCODING = -3
    ERR_IO = -4
    ERR_NO_SPACE = -5
    ERR_PERMISSION = -6
    ERR_NOT_FOUND = -7
    ERR_CORRUPT = -8
    ERR_TOO_LARGE = -9
    ERR_DATABASE = -10
    ERR_CLOSED = -11
    ERR_BUSY = -12
    ERR_UNSUPPORTED = -13
    ERR_NO_SUCH_PROCESS = -14
    ERR_UNSAFE_PATH = -15
    ERR_TIMEOUT = -16
    ERR_CANCELLED = -17
    ERR_EMPTY = -18
    ERR_NO_MEMORY = -19
    ERR_FORKED = -20
    ERR_INTERNAL_ERROR = -21
    ERR_ALREADY_EXISTS = -22
    ERR_COOLDOWN = -23


def _normalise(text: str) -> str:
    return text.replace("_", "").replace("-", "").replace(" ", "").lower()


class Metric(IntEnum):
    """``sv_metric``: what spiked. ``stored_name`` is the text the vault stores."""

    CPU = 1
    MEMORY = 2
    DISK_IO = 3
    NETWORK = 4
    THREADS = 5
    FDS = 6

    @property
    def stored_name(self) -> str:
        """The name stored in the vault: ``cpu``, ``memory``, ``diskIO``, ``network``, ``threads``, ``fds``."""
        return _METRIC_STORED_NAMES[self]

    def __str__(self) -> str:  # print(record.metric) -> "cpu", not "1"
        return self.stored_name

    @classmethod
    def parse(cls, value: Union["Metric", str, int]) -> "Metric":
        """Return the member for a Metric, its number, its Python name or its stored name.

        Strings are matched case-insensitively, ignoring ``_`` and ``-``: ``"diskIO"``,
        ``"disk_io"`` and ``"DISK-IO"`` all give ``Metric.DISK_IO``. Raises ``ValueError``
        for anything else (the public API turns that into ``InvalidArgumentError``).
        """
        if isinstance(value, Metric):
            return value
        if isinstance(value, str):
            member = _METRICS_BY_KEY.get(_normalise(value))
            if member is None:
                known = ", ".join(m.stored_name for m in cls)
                raise ValueError(f"unknown metric {value!r} (known: {known})")
            return member
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return cls(value)
            except ValueError:
                raise ValueError(f"unknown metric number {value} (known: 1..{len(cls)})") from None
        raise ValueError(f"metric must be a Metric or a str, not {type(value).__name__}")


_METRIC_STORED_NAMES = {
    Metric.CPU: "cpu",
    Metric.MEMORY: "memory",
    Metric.DISK_IO: "diskIO",
    Metric.NETWORK: "network",
    Metric.THREADS: "threads",
    Metric.FDS: "fds",
}
_METRICS_BY_KEY = {_normalise(m.name): m for m in Metric}
_METRICS_BY_KEY.update({_normalise(n): m for m, n in _METRIC_STORED_NAMES.items()})


class CaptureStatus(IntEnum):
    """``sv_capture_status``: how complete a stored capture is."""

    COMPLETE = 1
    PARTIAL = 2
    FAILED = 3
    MISSING = 4
    QUARANTINED = 5

    @property
    def stored_name(self) -> str:
        """``complete``, ``partial``, ``failed``, ``missing`` or ``quarantined``."""
        return self.name.lower()

    def __str__(self) -> str:
        return self.stored_name

    @classmethod
    def parse(cls, value: Union["CaptureStatus", str, int]) -> "CaptureStatus":
        """Return the member for a CaptureStatus, its number or its name (case-insensitive)."""
        if isinstance(value, CaptureStatus):
            return value
        if isinstance(value, str):
            try:
                return cls[value.strip().upper()]
            except KeyError:
                raise ValueError(f"unknown capture status {value!r}") from None
        return cls(value)


class Backend(IntEnum):
    """``sv_backend``: how a capture is taken (declared for the capture API)."""

    AUTO = 1
    PROCFS = 2
    EU_STACK = 3
    PERF = 4
    GDB = 5
    SAMPLE = 6
    SPINDUMP = 7
    COMMAND = 8
    PY_SPY = 9


class Option(IntEnum):
    """``sv_option``: keys of the tunables given to ``Vault(...)``."""

    COMPRESSION_LEVEL = 1
    DURABILITY = 2
    BUSY_TIMEOUT_MS = 3
    MAX_ARTEFACT_BYTES = 4
    WINDOW_LOG_MAX = 5
    CAPTURE_WORKERS = 6
    CAPTURE_QUEUE_CAPACITY = 7
    CAPTURE_COOLDOWN_SECONDS = 8
    MAX_AGE_SECONDS = 9
    MAX_FOOTPRINT_BYTES = 10
    MIN_FREE_PERCENT = 11
    MAINTENANCE_INTERVAL_SECONDS = 12
    MAINTENANCE_FIRST_DELAY_SECONDS = 13
    ORPHAN_GRACE_SECONDS = 14
    OPEN_EXISTING = 15
    WRITE_QUEUE_CAPACITY = 41
    DUCKDB_SNAPSHOT_INTERVAL_SECONDS = 42
    IDLE_VACUUM_SECONDS = 43
    HOST_NAME = 90
    MACHINE_ID = 91


class ReportField(IntEnum):
    """``sv_report_field``: the numbers of a maintenance report."""

    PURGED_BY_AGE = 1
    PURGED_BY_SIZE = 2
    FILES_DELETED = 3
    BYTES_RECLAIMED = 4
    ORPHANS_DELETED = 5
    MARKED_MISSING = 6
    QUARANTINED = 7
    TEMP_FILES_SWEPT = 8
    PAGES_VACUUMED = 9
    FOOTPRINT_BEFORE = 10
    FOOTPRINT_AFTER = 11
    DURATION_MS = 12
    INTERRUPTED = 13
    DUCKDB_SNAPSHOTS = 41
    FULL_VACUUMS = 42


class MonitorCounter(IntEnum):
    """``sv_monitor_counter``: the counters of a ``Monitor`` (``Monitor.counters()``)."""

    TICKS = 1
    PROCESSES = 2
    KERNEL_THREADS = 3
    VANISHED = 4
    UNREADABLE = 5
    SAMPLER_CPU_US = 6
    OBSERVATIONS = 7
    FIRED = 8
    SUPPRESSED_COOLDOWN = 9
    SUPPRESSED_HOURLY_CAP = 10
    GAP_RESETS = 11
    PID_REUSE_RESETS = 12
    CAPTURES_STARTED = 13
    CAPTURES_REFUSED = 14
    CAPTURES_STORED = 15
    CAPTURES_FAILED = 16
    HISTORY_BYTES = 17
    HISTORY_PROCESSES = 18
    HISTORY_SAMPLES_EVICTED = 19
    HISTORY_PROCESSES_EVICTED = 20
    HISTORY_CPU_US = 21
    HISTORY_STACK_SNAPSHOTS = 22
    HISTORY_STACK_FAILURES = 23


class FilterField(IntEnum):
    """``sv_filter_field``: criteria of a query filter (used by ``Vault.query``)."""

    METRIC = 1
    STATUS = 2
    PID = 3
    SINCE = 4
    UNTIL = 5
    ORDER = 6
    LIMIT = 7
    MIN_VALUE = 8
    MAX_VALUE = 9
    PROCESS = 10
    PROCESS_GLOB = 11
    AFTER = 12


class Order(IntEnum):
    """``sv_order``: result order; ties broken by id in the same direction."""

    TIME_DESC = 1
    TIME_ASC = 2
    VALUE_DESC = 3
    VALUE_ASC = 4


class Format(IntEnum):
    """``sv_format``: output formats of exports and summaries."""

    JSON = 1
    NDJSON = 2
    CSV = 3
    TEXT = 4
    FOLDED = 5
    SPEEDSCOPE = 6
    PPROF = 7
    PARQUET = 8


class ExportFlag(IntEnum):
    """``sv_export_flag``: bits of the ``flags`` of exports and summaries."""

    NO_REDACT = 1
    OVERWRITE = 2


class Analytics(IntEnum):
    """``sv_analytics``: built-in analyses (same SQL in SQLite and DuckDB)."""

    PEAK_BY_PROCESS = 1
    CAPTURES_PER_HOUR = 2
    TOP_PROCESSES = 3
    P95_BY_PROCESS = 4
