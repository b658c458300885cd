"""``spikevault watch``: run the monitor with rules from flags or a TOML file (the engine
waits for issue 6; rules are parsed and validated now, and ``--check`` prints them)."""

from __future__ import annotations

import argparse
from typing import Any, List

from .common import CliError, Context, UsageError, WaitingForLibrary
from .parsing import (arg_duration, arg_nonneg_int, arg_percent, arg_positive_int, arg_size, format_duration)
from .rules import DEFAULT_RULES, Rule, RulesError, WatchConfig, load_rules_file

HELP = "watch processes and capture the ones that spike (rules from flags or a TOML file)"

EXAMPLE_TOML = '''rules file (TOML):
  cooldown = "10m"          # per process (default 10m)
  max_per_hour = 6          # captures per hour, all processes (default 6)
  interval = "1s"           # sampling period
  [capture]
  backend = "auto"
  duration = "5s"
  [[rules]]
  metric = "cpu"            # cpu, memory, diskIO, network, threads, fds
  above = 90                # or below = ...; memory/diskIO take sizes: "2G", "100M"
  sustain = "30s"
  include = ["python*"]     # process name globs; also exclude = [...], uids = [1000]'''


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("watch", help=HELP, parents=parents,
                       description="Sample every visible process and capture those that cross a rule's threshold "
                                   "for its sustain window; print each rule that fires and each capture. Ctrl-C stops.",
                       epilog="examples:\n  spikevault watch --cpu 90 --sustain 30s\n"
                              "  spikevault watch --memory 2G --threads 1000 --include 'java*'\n"
                              "  spikevault watch --defaults\n  spikevault watch --rules rules.toml --check\n\n"
                              + EXAMPLE_TOML,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("rules from flags (each flag adds one rule)")
    g.add_argument("--cpu", type=arg_percent, metavar="PCT", help="CPU at or above PCT%% of one core")
    g.add_argument("--memory", type=arg_size, metavar="SIZE", help="resident memory at or above SIZE, e.g. 2G")
    g.add_argument("--disk-io", type=arg_size, metavar="RATE", help="disk read+write at or above RATE per second, e.g. 100M")
    g.add_argument("--threads", type=arg_positive_int, metavar="N", help="thread count at or above N")
    g.add_argument("--fds", type=arg_positive_int, metavar="N", help="open file descriptors at or above N")
    g.add_argument("--network", type=arg_nonneg_int, metavar="N", help="network metric at or above N (see the README)")
    g.add_argument("--sustain", type=arg_duration, metavar="DUR", help="how long a value must hold (e.g. 30s)")
    g.add_argument("--include", action="append", default=[], metavar="GLOB", help="only processes named like GLOB")
    g.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="never processes named like GLOB")
    g.add_argument("--uid", action="append", type=arg_nonneg_int, default=[], metavar="UID", help="only this user's processes")
    g.add_argument("--defaults", action="store_true",
                   help="the starting set: cpu 90%% for 30s, memory 2G, disk 100M/s for 30s, threads 1000, fds 5000")
    p.add_argument("--rules", metavar="FILE", help="rules from a TOML file (instead of rule flags)")
    p.add_argument("--cooldown", type=arg_duration, metavar="DUR", help="per-process pause between captures (default 10m)")
    p.add_argument("--max-per-hour", type=arg_positive_int, metavar="N", help="cap on captures per hour (default 6)")
    p.add_argument("--interval", type=arg_duration, metavar="DUR", help="sampling period (default 1s)")
    p.add_argument("--backend", choices=("auto", "procfs", "eu-stack", "perf", "gdb", "sample", "spindump"),
                   help="capture backend (default auto)")
    p.add_argument("--duration", type=arg_duration, metavar="DUR", help="capture duration (default 5s)")
    p.add_argument("--check", action="store_true", help="validate and print the rules, then exit")
    p.set_defaults(run=run)


def config_from(args: argparse.Namespace) -> WatchConfig:
    flag_rules = []
    common = dict(sustain=args.sustain, include=args.include, exclude=args.exclude, uids=args.uid)
    for metric, value in (("cpu", args.cpu), ("memory", args.memory), ("diskIO", args.disk_io),
                          ("threads", args.threads), ("fds", args.fds), ("network", args.network)):
        if value is not None:
            flag_rules.append(Rule(metric, float(value), **common))
    if args.defaults:
        flag_rules += [Rule(r.metric, r.threshold, sustain=args.sustain if args.sustain is not None else r.sustain,
                            include=args.include, exclude=args.exclude, uids=args.uid) for r in DEFAULT_RULES]
    if args.rules:
        if flag_rules or args.sustain is not None or args.include or args.exclude or args.uid:
            raise UsageError("--rules FILE cannot be combined with rule flags (--cpu, --memory, ..., --sustain, "
                             "--include, --exclude, --uid); put them in the file")
        try:
            config = load_rules_file(args.rules)
        except RulesError as exc:
            raise UsageError(str(exc)) from None
        except OSError as exc:
            raise CliError(str(exc)) from None
        overrides = {k: getattr(args, k) for k in ("cooldown", "max_per_hour", "interval", "backend", "duration")
                     if getattr(args, k) is not None}
        return WatchConfig(**{**config.__dict__, **overrides})
    if not flag_rules:
        raise UsageError("no rules: give --cpu, --memory, --disk-io, --threads, --fds or --network, "
                         "--defaults, or --rules FILE")
    if args.interval is not None and args.interval <= 0:
        raise UsageError("--interval must be more than 0s")
    return WatchConfig(rules=flag_rules, cooldown=args.cooldown, max_per_hour=args.max_per_hour,
                       interval=args.interval, backend=args.backend or "auto",
                       duration=args.duration if args.duration is not None else 5.0)


def run(ctx: Context) -> int:
    config = config_from(ctx.args)
    if ctx.args.check or ctx.verbose:
        out = ctx.stdout if ctx.args.check else ctx.stderr
        for i, rule in enumerate(config.rules, 1):
            print(f"rule {i}: {rule.describe()}", file=out)
        print(f"capture: {config.backend} for {format_duration(config.duration)}; cooldown "
              f"{format_duration(config.cooldown) if config.cooldown is not None else 'default (10m)'}; "
              f"max {config.max_per_hour or 'default (6)'} per hour; sampling every "
              f"{format_duration(config.interval) if config.interval else '1s'}", file=out)
        if ctx.args.check:
            return 0
    raise WaitingForLibrary("watch", "monitor (issue 6)")
