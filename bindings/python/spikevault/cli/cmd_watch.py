"""``spikevault watch``: run the library's monitor (``spikevault.Monitor``) with rules from
flags, the library's defaults, or a TOML file; print one line per rule that fires and per
capture done (flushed at once); stop on Ctrl-C (SIGINT) or SIGTERM, or after ``--for``."""

from __future__ import annotations

import argparse
import signal
import threading
import time
from datetime import datetime
from typing import Any, Dict, List, Optional

from ..textsafe import visible
from .cmd_capture import TOOL_BACKENDS
from .common import CliError, Context, UsageError
from .parsing import (arg_duration, arg_nonneg_int, arg_percent, arg_positive_int, arg_size, format_duration)
from .render import format_value
from .rules import (DEFAULT_RULES, Rule, RulesError, WatchConfig, check_history, check_history_stacks, load_rules_file,
                    to_monitor_rules)

HELP = "watch processes and capture the ones that spike (rules from flags or a TOML file)"

EXAMPLE_TOML = '''rules file (TOML):
  cooldown = "10m"          # per process (default 10m)
  max_per_hour = 6          # captures per hour, all processes (default 6)
  interval = "1s"           # sampling period
  history = "60s"           # kept per matched process, stored with each capture (0 = off)
  history_memory = "16MiB"  # memory limit of all history
  [capture]
  backend = "auto"
  duration = "5s"
  [[rules]]
  metric = "cpu"            # cpu, memory, diskIO, network, threads, fds
  above = 90                # or below = ...; memory/diskIO take sizes: "2G", "100M"
  sustain = "30s"
  include = ["python*"]     # process name globs; also exclude = [...], uids = [1000]
  history_stacks = "5s"     # eu-stack snapshot every 5s kept in the history (default off)'''


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("watch", help=HELP, parents=parents,
                       description="Sample every process you may capture (all of them as root) and capture those "
                                   "that cross a rule's threshold for its sustain window; print each rule that fires "
                                   "and each capture, one line each. Without rule flags or --rules, the library's "
                                   "defaults apply (see --defaults). Ctrl-C stops.",
                       epilog="examples:\n  spikevault watch --cpu 90 --sustain 30s\n"
                              "  spikevault watch --memory 2G --threads 1000 --include 'java*'\n"
                              "  spikevault watch --cpu 50 --sustain 2s --for 1m --duration 2s\n"
                              "  spikevault watch                  (the defaults)\n"
                              "  spikevault watch --rules rules.toml --check\n\n"
                              + EXAMPLE_TOML,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("rules from flags (each flag adds one rule)")
    g.add_argument("--cpu", type=arg_percent, metavar="PCT", help="CPU at or above PCT%% of one core")
    g.add_argument("--memory", type=arg_size, metavar="SIZE", help="resident memory at or above SIZE, e.g. 2G")
    g.add_argument("--io", "--disk-io", dest="disk_io", type=arg_size, metavar="RATE",
                   help="disk read+write at or above RATE per second, e.g. 100M or 100MiB")
    g.add_argument("--threads", type=arg_positive_int, metavar="N", help="thread count at or above N")
    g.add_argument("--fds", type=arg_positive_int, metavar="N", help="open file descriptors at or above N")
    g.add_argument("--network", type=arg_nonneg_int, metavar="N", help="open sockets at or above N")
    g.add_argument("--sustain", type=arg_duration, metavar="DUR", help="how long a value must hold (e.g. 30s)")
    g.add_argument("--include", action="append", default=[], metavar="GLOB", help="only processes named like GLOB")
    g.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="never processes named like GLOB")
    g.add_argument("--uid", action="append", type=arg_nonneg_int, default=[], metavar="UID", help="only this user's processes")
    g.add_argument("--history-stacks", type=arg_duration, metavar="DUR",
                   help="also keep an eu-stack snapshot of each matched process every DUR (500ms to 60s) in the "
                        "history, stored with a capture as history.folded (default off)")
    g.add_argument("--defaults", action="store_true",
                   help="the library's defaults (also used when no rule is given): cpu 90%% for 30s, memory 2 GiB, "
                        "disk 100 MiB/s for 30s, threads 1000, fds 5000")
    p.add_argument("--rules", metavar="FILE", help="rules from a TOML file (instead of rule flags)")
    p.add_argument("--cooldown", type=arg_duration, metavar="DUR", help="per-process pause between captures (default 10m)")
    p.add_argument("--max-per-hour", type=arg_positive_int, metavar="N", help="cap on captures per hour (default 6)")
    p.add_argument("--interval", type=arg_duration, metavar="DUR", help="sampling period (default 1s)")
    p.add_argument("--backend", choices=TOOL_BACKENDS,
                   help="capture backend (default auto)")
    p.add_argument("--duration", type=arg_duration, metavar="DUR", help="capture duration (default 5s)")
    p.add_argument("--history", type=arg_duration, metavar="DUR",
                   help="keep DUR of history (CPU per thread, memory, I/O, fds) of every process the rules match and "
                        "store it with each capture as history.json (default 60s, 0 = off, at most 1h)")
    p.add_argument("--history-memory", type=arg_size, metavar="SIZE",
                   help="memory limit of all history, e.g. 16MiB (default; 64KiB to 1GiB)")
    p.add_argument("--for", dest="for_duration", type=arg_duration, metavar="DUR",
                   help="stop after DUR (default: until Ctrl-C)")
    p.add_argument("--check", action="store_true", help="validate and print the rules, then exit")
    p.set_defaults(run=run)


def config_from(args: argparse.Namespace) -> WatchConfig:
    flag_rules = []
    try:
        check_history_stacks(args.history_stacks, "--history-stacks")
    except RulesError as exc:
        raise UsageError(str(exc)) from None
    common = dict(sustain=args.sustain, include=args.include, exclude=args.exclude, uids=args.uid,
                  history_stacks=args.history_stacks)
    for metric, value in (("cpu", args.cpu), ("memory", args.memory), ("diskIO", args.disk_io),
                          ("threads", args.threads), ("fds", args.fds), ("network", args.network)):
        if value is not None:
            flag_rules.append(Rule(metric, float(value), **common))
    if args.defaults or (not flag_rules and not args.rules):
        flag_rules += [Rule(r.metric, r.threshold, sustain=args.sustain if args.sustain is not None else r.sustain,
                            include=args.include, exclude=args.exclude, uids=args.uid,
                            history_stacks=args.history_stacks) for r in DEFAULT_RULES]
    if args.rules:
        if (flag_rules or args.sustain is not None or args.include or args.exclude or args.uid
                or args.history_stacks is not None):
            raise UsageError("--rules FILE cannot be combined with rule flags (--cpu, --memory, ..., --sustain, "
                             "--include, --exclude, --uid, --history-stacks); put them in the file")
        try:
            config = load_rules_file(args.rules)
        except RulesError as exc:
            raise UsageError(str(exc)) from None
        except OSError as exc:
            raise CliError(str(exc)) from None
        overrides = {k: getattr(args, k) for k in ("cooldown", "max_per_hour", "interval", "backend", "duration",
                                                   "history", "history_memory")
                     if getattr(args, k) is not None}
        config = WatchConfig(**{**config.__dict__, **overrides})
        _check_config(config)
        return config
    config = WatchConfig(rules=flag_rules, cooldown=args.cooldown, max_per_hour=args.max_per_hour,
                       interval=args.interval, backend=args.backend or "auto",
                       duration=args.duration if args.duration is not None else 5.0,
                       history=args.history, history_memory=args.history_memory)
    _check_config(config)
    return config


def _check_config(config: WatchConfig) -> None:
    if config.interval is not None and config.interval <= 0:
        raise UsageError("--interval must be more than 0s")
    if config.duration <= 0:
        raise UsageError("--duration must be more than 0s")
    try:
        check_history(config.history, config.history_memory, "", ("--history", "--history-memory"))
    except RulesError as exc:
        raise UsageError(str(exc)) from None


class _Reporter:
    """The monitor's callbacks (library threads): one flushed line each, under a lock."""

    def __init__(self, ctx: Context, config: WatchConfig, stop: threading.Event) -> None:
        self.ctx, self.config, self.stop = ctx, config, stop
        self.lock = threading.Lock()
        self.names: Dict[int, str] = {}
        self.fired = self.captured = self.failed = 0

    def _emit(self, text: str) -> None:
        with self.lock:
            stamp = datetime.now().strftime("%H:%M:%S")
            # Names and messages come from processes: escaped, so a line cannot be forged.
            self.ctx.stdout.write(f"{stamp} {visible(text)}\n")
            self.ctx.stdout.flush()

    def _rule(self, index: int) -> str:
        if 0 <= index < len(self.config.rules):
            return f"rule {index + 1} ({self.config.rules[index].describe()})"
        return f"rule {index + 1}"

    def on_fired(self, firing: Any) -> None:
        with self.lock:
            self.fired += 1
            self.names[firing.pid] = firing.process_name
        metric = firing.metric.stored_name
        self._emit(f"fired     {self._rule(firing.rule_index)}: {firing.process_name} (pid {firing.pid}) "
                   f"{metric} {format_value(metric, firing.value)}")

    def on_capture(self, done: Any) -> None:
        who = f"{self.names.get(done.pid, '?')} (pid {done.pid})"
        if done.ok:
            with self.lock:
                self.captured += 1
            self._emit(f"captured  {who}: capture {done.capture_id} ({self.ctx.suggest('show', done.capture_id)})")
        else:
            with self.lock:
                self.failed += 1
            message = " ".join(str(done.error).split())
            self._emit(f"not captured  {who}: {message}")

    def on_error(self, exc: BaseException) -> None:
        # Printing failed (e.g. the reader of a pipe left): stop watching.
        self.stop.set()


def run(ctx: Context) -> int:
    from .. import Monitor

    args = ctx.args
    config = config_from(args)
    if args.for_duration is not None and args.for_duration <= 0:
        raise UsageError("--for must be more than 0s")
    if args.check or ctx.verbose:
        out = ctx.stdout if args.check else ctx.stderr
        for i, rule in enumerate(config.rules, 1):
            print(f"rule {i}: {rule.describe()}", file=out)
        print(f"capture: {config.backend} for {format_duration(config.duration)}; cooldown "
              f"{format_duration(config.cooldown) if config.cooldown is not None else 'default (10m)'}; "
              f"max {config.max_per_hour or 'default (6)'} per hour; sampling every "
              f"{format_duration(config.interval) if config.interval else '1s'}; history "
              f"{_history_text(config)}", file=out)
        if args.check:
            return 0
    monitor_rules = to_monitor_rules(config)
    # A long-running command: keep the library's background retention on.
    vault = ctx.open_vault(create=True, maintenance_interval_seconds=None)
    stop = threading.Event()
    reporter = _Reporter(ctx, config, stop)
    options: Dict[str, Any] = {}
    if config.interval is not None:
        options["interval"] = config.interval
    if config.max_per_hour is not None:
        options["max_per_hour"] = config.max_per_hour
    if config.history is not None:
        options["history"] = config.history
    if config.history_memory is not None:
        options["history_memory"] = config.history_memory
    monitor = Monitor(vault, monitor_rules, on_fired=reporter.on_fired, on_capture=reporter.on_capture,
                      on_error=reporter.on_error, **options)
    previous = _install_stop_handlers(stop)
    started = time.monotonic()
    counters: Dict[str, int] = {}
    try:
        monitor.start()
        n = len(config.rules)
        print(f"spikevault: watching with {n} rule{'s' if n != 1 else ''}, capturing into {ctx.vault_dir}"
              + (f" for {format_duration(args.for_duration)}" if args.for_duration else "")
              + "; Ctrl-C stops", file=ctx.stderr, flush=True)
        deadline = None if args.for_duration is None else started + args.for_duration
        while not stop.is_set():
            left = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
            if left <= 0:
                break
            stop.wait(left)
        monitor.stop()  # joins the monitor thread and waits for the captures it started
        counters = monitor.counters()
    finally:
        try:
            monitor.close()
        finally:
            _restore_handlers(previous)
    elapsed = format_duration(time.monotonic() - started)
    print(f"spikevault: stopped after {elapsed}: {counters.get('fired', reporter.fired)} fired, "
          f"{counters.get('captures_stored', reporter.captured)} captured, "
          f"{counters.get('captures_failed', 0) + counters.get('captures_refused', 0)} not captured, "
          f"{counters.get('suppressed_cooldown', 0) + counters.get('suppressed_hourly_cap', 0)} suppressed",
          file=ctx.stderr, flush=True)
    return 0


def _history_text(config: WatchConfig) -> str:
    if config.history == 0:
        return "off"
    seconds = format_duration(config.history) if config.history is not None else "60s"
    from .render import human_size

    memory = human_size(config.history_memory) if config.history_memory is not None else "16 MiB"
    return f"{seconds} per process (at most {memory})"


def _install_stop_handlers(stop: threading.Event) -> Optional[Dict[int, Any]]:
    """SIGINT and SIGTERM set ``stop`` (the main loop then stops the monitor cleanly)."""
    if threading.current_thread() is not threading.main_thread():
        return None  # signals are delivered to the main thread only; nothing to install
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, lambda signum, frame: stop.set())
    return previous


def _restore_handlers(previous: Optional[Dict[int, Any]]) -> None:
    for sig, handler in (previous or {}).items():
        signal.signal(sig, handler)
