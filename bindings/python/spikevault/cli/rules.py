"""Watch rules from flags or a TOML file, validated into plain dataclasses, then turned into
the library's ``spikevault.Rule`` (``to_monitor_rules``). Thresholds here are in the CLI's
units: CPU in % of one core, memory in bytes, disk I/O in bytes per second, network (open
sockets), threads and fds as counts; the library takes memory in MiB and disk I/O in MiB/s."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from .parsing import parse_duration, parse_metric, parse_size

__all__ = ["Rule", "WatchConfig", "RulesError", "load_rules_file", "DEFAULT_RULES", "to_monitor_rules"]

MIB = 1024 * 1024


class RulesError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    metric: str                 # stored metric name
    threshold: float
    below: bool = False         # True: fires when the value stays under the threshold
    sustain: Optional[float] = None  # seconds; None = the monitor's default
    include: List[str] = field(default_factory=list)  # process name globs
    exclude: List[str] = field(default_factory=list)
    uids: List[int] = field(default_factory=list)
    history_stacks: Optional[float] = None  # seconds between eu-stack snapshots kept in the history

    def describe(self) -> str:
        from .render import human_size

        def size(n: float) -> str:  # binary units when the value is whole MiB (the library's unit)
            if n and n % MIB == 0:
                return f"{n / MIB / 1024:g} GiB" if n % (1024 * MIB) == 0 else f"{n / MIB:g} MiB"
            return human_size(int(n))

        unit = {"cpu": f"{self.threshold:g}%", "memory": size(self.threshold),
                "diskIO": size(self.threshold) + "/s"}.get(self.metric, f"{self.threshold:g}")
        text = f"{self.metric} {'<' if self.below else '>='} {unit}"
        if self.sustain:
            from .parsing import format_duration

            text += f" for {format_duration(self.sustain)}"
        for name, values in (("include", self.include), ("exclude", self.exclude), ("uid", self.uids)):
            if values:
                text += f" {name} {','.join(str(v) for v in values)}"
        if self.history_stacks:
            from .parsing import format_duration

            text += f" stacks every {format_duration(self.history_stacks)}"
        return text


@dataclass(frozen=True)
class WatchConfig:
    rules: List[Rule]
    cooldown: Optional[float] = None       # seconds per process; None = monitor default (10 min)
    max_per_hour: Optional[int] = None     # global cap; None = monitor default (6)
    interval: Optional[float] = None       # sampler period; None = 1 s
    backend: str = "auto"
    duration: float = 5.0
    history: Optional[float] = None        # seconds of history per matched process; None = 60 s, 0 = off
    history_memory: Optional[int] = None   # bytes for all history; None = the library's 16 MiB


# Bounds of the monitor's history (the library's, checked here for a clear message).
HISTORY_MAX_SECONDS = 3600.0
HISTORY_MEMORY_MIN = 64 * 1024
HISTORY_MEMORY_MAX = 1024 * MIB


def check_history_stacks(seconds: Optional[float], where: str) -> None:
    if seconds is not None and seconds != 0 and not 0.5 <= seconds <= 60:
        raise RulesError(f"{where} must be 0 (off) or 500ms to 60s, got {seconds:g}s")


def check_history(seconds: Optional[float], memory: Optional[int], where: str,
                  names: Tuple[str, str] = ("history", "history_memory")) -> None:
    """Raises ``RulesError`` for history settings the monitor would refuse."""
    if seconds is not None and not 0 <= seconds <= HISTORY_MAX_SECONDS:
        raise RulesError(f"{where}{names[0]} must be 0 (off) to 1h (3600s), got {seconds:g}s")
    if memory is not None and not HISTORY_MEMORY_MIN <= memory <= HISTORY_MEMORY_MAX:
        raise RulesError(f"{where}{names[1]} must be 64KiB to 1GiB, got {memory} bytes")


# The library's defaults (``spikevault.default_rules()``): CPU >= 90 % for 30 s, memory >=
# 2048 MiB, disk I/O >= 100 MiB/s for 30 s, threads >= 1,000, fds >= 5,000.
DEFAULT_RULES = [
    Rule("cpu", 90.0, sustain=30.0), Rule("memory", 2048.0 * MIB), Rule("diskIO", 100.0 * MIB, sustain=30.0),
    Rule("threads", 1000.0), Rule("fds", 5000.0),
]


def to_monitor_rules(config: "WatchConfig") -> List[Any]:
    """The library's ``spikevault.Rule``s for a config (units converted, capture settings and
    the per-process cooldown applied to every rule)."""
    from .. import Rule as MonitorRule

    out = []
    for r in config.rules:
        threshold = r.threshold / MIB if r.metric in ("memory", "diskIO") else r.threshold
        extra: Dict[str, Any] = {}
        if config.cooldown is not None:
            extra["cooldown"] = config.cooldown
        if r.history_stacks:
            extra["history_stacks"] = r.history_stacks
        out.append(MonitorRule(r.metric, threshold, sustain=r.sustain or 0.0, below=r.below,
                               include=tuple(r.include), exclude=tuple(r.exclude), uids=tuple(r.uids),
                               backend=config.backend, duration=config.duration, **extra))
    return out


def threshold_value(metric: str, value: Any, where: str) -> float:
    """A number, or for memory/diskIO a size string like ``"2G"`` (per second for diskIO)."""
    if isinstance(value, bool):
        raise RulesError(f"{where}: threshold must be a number")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and metric in ("memory", "diskIO"):
        text = value[:-2] if value.endswith("/s") else value
        try:
            number = float(parse_size(text))
        except ValueError as exc:
            raise RulesError(f"{where}: {exc}") from None
    elif isinstance(value, str):
        try:
            number = float(value.rstrip("%"))
        except ValueError:
            raise RulesError(f"{where}: {value!r} is not a number") from None
    else:
        raise RulesError(f"{where}: threshold must be a number")
    if not number >= 0 or number == float("inf"):
        raise RulesError(f"{where}: threshold must be a finite number, 0 or more")
    return number


_RULE_KEYS = {"metric", "above", "below", "sustain", "include", "exclude", "uids", "history_stacks"}
_TOP_KEYS = {"cooldown", "max_per_hour", "interval", "capture", "rules", "history", "history_memory"}
_CAPTURE_KEYS = {"backend", "duration"}


def _quantity(value: Any, where: str, parse: Any, expected: str, fractions: bool) -> Any:
    """A number as it is, or text read by `parse` ("30s", "16MiB"); anything else is refused."""
    if isinstance(value, str):
        try:
            return parse(value)
        except ValueError as exc:
            raise RulesError(f"{where}: {exc}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float) if fractions else int):
        raise RulesError(f"{where}: expected {expected}")
    return value


def _duration(value: Any, where: str) -> float:
    seconds = float(_quantity(value, where, parse_duration, 'a duration like "30s"', fractions=True))
    if seconds < 0:
        raise RulesError(f"{where}: must not be negative")
    return seconds


def _strings(value: Any, where: str) -> List[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise RulesError(f"{where}: expected a list of strings")


def parse_rules_document(doc: Dict[str, Any], name: str) -> WatchConfig:
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise RulesError(f"{name}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(_TOP_KEYS))})")
    raw_rules = doc.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RulesError(f"{name}: no rules: add [[rules]] tables with metric and above (or below)")
    rules = []
    for i, raw in enumerate(raw_rules, 1):
        where = f"{name}: rule {i}"
        if not isinstance(raw, dict):
            raise RulesError(f"{where}: must be a table")
        unknown = set(raw) - _RULE_KEYS
        if unknown:
            raise RulesError(f"{where}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(_RULE_KEYS))})")
        if "metric" not in raw:
            raise RulesError(f"{where}: missing metric (cpu, memory, diskIO, network, threads, fds)")
        try:
            metric = parse_metric(str(raw["metric"]))
        except ValueError as exc:
            raise RulesError(f"{where}: {exc}") from None
        if ("above" in raw) == ("below" in raw):
            raise RulesError(f"{where}: give exactly one of above or below")
        below = "below" in raw
        threshold = threshold_value(metric, raw["below" if below else "above"], where)
        uids = raw.get("uids", [])
        if not isinstance(uids, list) or not all(isinstance(u, int) and not isinstance(u, bool) and u >= 0 for u in uids):
            raise RulesError(f"{where}: uids must be a list of user ids")
        stacks = _duration(raw["history_stacks"], f"{where} history_stacks") if "history_stacks" in raw else None
        check_history_stacks(stacks, f"{where} history_stacks")
        rules.append(Rule(metric, threshold, below=below, history_stacks=stacks,
                          sustain=_duration(raw["sustain"], f"{where} sustain") if "sustain" in raw else None,
                          include=_strings(raw.get("include", []), f"{where} include"),
                          exclude=_strings(raw.get("exclude", []), f"{where} exclude"), uids=uids))
    capture = doc.get("capture", {})
    if not isinstance(capture, dict):
        raise RulesError(f"{name}: [capture] must be a table")
    unknown = set(capture) - _CAPTURE_KEYS
    if unknown:
        raise RulesError(f"{name}: [capture]: unknown key {sorted(unknown)[0]!r} (known: backend, duration)")
    from .cmd_capture import TOOL_BACKENDS

    backend = capture.get("backend", "auto")
    if backend not in TOOL_BACKENDS:
        raise RulesError(f"{name}: [capture] backend {backend!r} (use one of: {', '.join(TOOL_BACKENDS)})")
    history = _duration(doc["history"], f"{name}: history") if "history" in doc else None
    history_memory = (_quantity(doc["history_memory"], f"{name}: history_memory", parse_size, 'a size like "16MiB"',
                                fractions=False) if "history_memory" in doc else None)
    check_history(history, history_memory, f"{name}: ")
    mph = doc.get("max_per_hour")
    if mph is not None and (not isinstance(mph, int) or isinstance(mph, bool) or mph < 1):
        raise RulesError(f"{name}: max_per_hour must be a whole number, 1 or more")
    return WatchConfig(
        rules=rules,
        cooldown=_duration(doc["cooldown"], f"{name}: cooldown") if "cooldown" in doc else None,
        max_per_hour=mph,
        interval=_duration(doc["interval"], f"{name}: interval") if "interval" in doc else None,
        backend=backend,
        duration=_duration(capture["duration"], f"{name}: [capture] duration") if "duration" in capture else 5.0,
        history=history,
        history_memory=history_memory,
    )


def _toml_loader() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    try:
        import tomli  # type: ignore[import-not-found]

        return tomli
    except ImportError:
        raise RulesError("reading a TOML rules file needs Python 3.11+ or the tomli package "
                         "(python3 -m pip install tomli)") from None


def load_rules_file(path: str) -> WatchConfig:
    toml = _toml_loader()
    try:
        with open(path, "rb") as f:
            doc = toml.load(f)
    except OSError as exc:
        raise OSError(f"cannot read the rules file {path}: {exc.strerror or exc}") from None
    except toml.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not valid TOML: {exc}") from None
    return parse_rules_document(doc, path)
