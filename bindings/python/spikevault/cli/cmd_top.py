"""``spikevault top``: the machine's processes as the monitor's sampler sees them (CPU as top
shows it, RSS, I/O, threads, fds), sorted by a key and refreshed, marking processes that meet
the default rules and those captured recently, with the recent captures beside. On a terminal
it is a full-screen view with keys (sort, move, capture the selected process now, quit);
otherwise, or with ``--batch``/``--json``, it prints one snapshot (``--iterations N``: N)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from typing import Any, List, Optional

from .cmd_capture import TOOL_BACKENDS
from .common import CliError, Context, UsageError
from .parsing import arg_duration, arg_positive_int, format_duration
from .topdata import (SORT_KEYS, captures_lines, header_line, name_matcher, snapshot_dict, table_lines,
                      take_snapshot)

HELP = "a live view of the processes (like top), with the recent captures beside"
SORT_LETTERS = {"c": "cpu", "m": "rss", "i": "io", "t": "threads", "f": "fds", "p": "pid"}
KEYS_LINE = "keys: c/m/i/t/f/p sort by cpu/rss/io/threads/fds/pid  ↑↓ select  Enter capture  q quit"
METRIC_OF_SORT = {"cpu": "cpu", "rss": "memory", "io": "diskIO", "threads": "threads", "fds": "fds", "pid": "cpu"}
PANEL = 54  # columns of the captures panel when it fits beside the table


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("top", help=HELP, parents=parents,
                       description="Show every process the sampler sees, sorted by --sort, refreshed every "
                                   "--interval, marking with ! those meeting a default rule's threshold now (cpu 90%, "
                                   "memory 2 GiB, disk 100 MiB/s, threads 1000, fds 5000) and with ● those captured "
                                   "in the last hour, the vault's recent captures beside. On a terminal: a full "
                                   "screen; keys " + KEYS_LINE[6:] + ". Through a pipe, or with "
                                   "--batch or --json: one snapshot (or --iterations N) for scripts.",
                       epilog="examples:\n  spikevault top\n  spikevault top --sort rss --process 'python*'\n"
                              "  spikevault top --batch -n 10 --iterations 3\n"
                              "  spikevault top --json | jq '.rows[0]'",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-s", "--sort", choices=tuple(SORT_KEYS), default="cpu", help="sort key (default cpu)")
    p.add_argument("--process", metavar="NAME",
                   help="only processes named like NAME: case-insensitive substring, or a glob with * ? [ ]")
    p.add_argument("-n", "--limit", type=arg_positive_int, metavar="N",
                   help="at most N processes (default: the screen's height; all in a snapshot)")
    p.add_argument("-d", "--interval", type=arg_duration, default=1.0, metavar="DUR",
                   help="refresh period, also the window CPU and I/O are measured over (default 1s)")
    p.add_argument("--iterations", type=arg_positive_int, metavar="N",
                   help="stop after N refreshes (default: 1 in a snapshot, until q on a terminal)")
    p.add_argument("-b", "--batch", action="store_true", help="print snapshots even on a terminal (as top -b)")
    p.add_argument("--json", action="store_true", help="one JSON object per snapshot, one per line")
    p.add_argument("--backend", choices=TOOL_BACKENDS, default="auto",
                   help="capture backend for the capture key (default auto)")
    p.add_argument("--duration", type=arg_duration, default=5.0, metavar="DUR",
                   help="capture duration for the capture key (default 5s)")
    p.set_defaults(run=run)


class _Source:
    """The sampler and the vault's recent captures (read-only: top never creates a vault)."""

    def __init__(self, ctx: Context) -> None:
        from .. import ProcessTable

        self.ctx = ctx
        self.table = ProcessTable()
        self.vault: Any = None
        self._missing = False

    def recent(self) -> List[Any]:
        if self.vault is None and not self._missing:
            try:
                self.vault = self.ctx.open_vault()
            except CliError:
                self._missing = True  # no vault yet: no captures to show
        if self.vault is None:
            return []
        return self.vault.recent(50)

    def capture_vault(self) -> Any:
        if self.vault is None:
            self.vault = self.ctx.open_vault(create=True)
            self._missing = False
        return self.vault

    def close(self) -> None:
        self.table.close()


def _check(args: argparse.Namespace) -> None:
    if args.interval < 0.1:
        raise UsageError(f"--interval {format_duration(args.interval)} is shorter than 100ms (the sampler's CPU "
                         "figures need a window; pass --interval 100ms or more)")
    if args.interval > 3600:
        raise UsageError("--interval must be at most 1h")
    if args.duration <= 0 or args.duration > 3600:
        raise UsageError("--duration must be more than 0s and at most 1h")


def _stdin_tty() -> Optional[int]:
    try:
        return sys.stdin.fileno() if sys.stdin.isatty() else None
    except (AttributeError, ValueError, OSError):
        return None


def run(ctx: Context) -> int:
    args = ctx.args
    _check(args)
    try:
        interactive = not args.batch and not args.json and ctx.stdout.isatty() and _stdin_tty() is not None
    except (AttributeError, ValueError):
        interactive = False
    source = _Source(ctx)
    try:
        if interactive:
            return _interactive(ctx, source)
        return _snapshots(ctx, source)
    finally:
        source.close()


def _snapshots(ctx: Context, source: _Source) -> int:
    args = ctx.args
    matcher = name_matcher(args.process)
    source.table.refresh()  # the first pass only starts the CPU and I/O windows
    for i in range(args.iterations or 1):
        time.sleep(args.interval)  # the measuring window, as top -d
        snap = take_snapshot(source.table.refresh(), args.sort, matcher, source.recent())
        if args.json:
            ctx.stdout.write(json.dumps(snapshot_dict(snap, args.limit)) + "\n")
            ctx.stdout.flush()
            continue
        palette = ctx.palette
        width = ctx.terminal_width
        if i:
            ctx.stdout.write("\n")
        shown = len(snap.rows) if args.limit is None else min(args.limit, len(snap.rows))
        ctx.stdout.write(header_line(snap, args.interval, shown) + "\n")
        for line in table_lines(snap, palette, args.limit, width):
            ctx.stdout.write(line + "\n")
        ctx.stdout.write("\nrecent captures:\n")
        for line in captures_lines(snap, palette, width):
            ctx.stdout.write(line + "\n")
        ctx.stdout.flush()
    return 0


class _Capture:
    """The capture key's job: one capture at a time, its outcome on the status line."""

    def __init__(self) -> None:
        self.future: Any = None
        self.label = ""
        self.message = ""

    def start(self, source: _Source, row: Any, sort: str, args: argparse.Namespace) -> None:
        from ..textsafe import visible

        if self.future is not None and not self.future.done():
            self.message = f"still {self.label}"
            return
        metric = METRIC_OF_SORT[sort]
        # The trigger value in the library's units (memory MiB, disk I/O MiB/s), as the monitor stores them.
        value = {"cpu": row.cpu, "memory": row.rss_mib, "diskIO": row.disk_io, "threads": row.threads,
                 "fds": row.fds}.get(metric) or 0.0
        try:
            self.future = source.capture_vault().capture_async(row.pid, metric=metric, value=float(value),
                                                               duration=args.duration, backend=args.backend)
        except Exception as exc:  # noqa: BLE001 - shown on the status line, top goes on
            self.future = None
            self.message = f"cannot capture {row.pid} ({visible(row.name)}): {visible(exc)}"
            return
        self.label = f"capturing {row.pid} ({visible(row.name)}) with {args.backend} for {format_duration(args.duration)}"
        self.message = self.label + " …"

    def poll(self) -> str:
        from ..textsafe import visible

        if self.future is not None and self.future.done():
            try:
                record = self.future.result()
                self.message = f"capture {record.id} stored ({visible(record.process_name)}, pid {record.pid})"
            except Exception as exc:  # noqa: BLE001
                self.message = f"capture failed: {visible(exc)}"
            self.future = None
        return self.message

    def cancel(self) -> None:
        if self.future is not None and not self.future.done():
            self.future.cancel()


def _interactive(ctx: Context, source: _Source) -> int:
    from .topscreen import Screen

    args = ctx.args
    matcher = name_matcher(args.process)
    sort = args.sort
    selected_pid: Optional[int] = None
    index = 0
    capture = _Capture()
    source.table.refresh()  # the first pass only starts the CPU and I/O windows
    rows: Optional[List[Any]] = None
    frames = 0
    fd = _stdin_tty()
    assert fd is not None
    deadline = time.monotonic()  # the first frame after one interval of measuring
    snap = None
    try:
        with Screen(ctx.stdout, fd) as screen:
            screen.draw(["spikevault top: measuring for " + format_duration(args.interval) + " … (q quits)"])
            deadline += args.interval
            while True:
                now = time.monotonic()
                if now >= deadline:
                    rows = source.table.refresh()
                    frames += 1
                    deadline = now + args.interval
                if rows is not None:
                    snap = take_snapshot(rows, sort, matcher, source.recent())
                    if selected_pid is not None:
                        for i, r in enumerate(snap.rows):
                            if r.pid == selected_pid:
                                index = i
                                break
                    index = max(0, min(index, len(snap.rows) - 1))
                    selected_pid = snap.rows[index].pid if snap.rows else None
                    screen.draw(_frame(ctx, snap, index, capture.poll()))
                if args.iterations and frames >= args.iterations:
                    break
                quit_now = False
                for key in screen.keys(max(0.0, deadline - time.monotonic())):
                    if key in ("q", "Q"):
                        quit_now = True
                        break
                    if key in SORT_LETTERS:
                        sort = SORT_LETTERS[key]
                    elif key in ("up", "k"):
                        index, selected_pid = max(0, index - 1), None
                    elif key in ("down", "j"):
                        index, selected_pid = index + 1, None
                    elif key == "pgup":
                        index, selected_pid = max(0, index - 10), None
                    elif key == "pgdn":
                        index, selected_pid = index + 10, None
                    elif key in ("enter", "C") and snap is not None and snap.rows:
                        capture.start(source, snap.rows[min(index, len(snap.rows) - 1)], sort, args)
                if quit_now:
                    break
    except KeyboardInterrupt:
        pass  # Ctrl-C quits, as q does; the screen was restored on the way out
    finally:
        capture.cancel()
    return 0


def _frame(ctx: Context, snap: Any, index: int, status: str) -> List[str]:
    size = shutil.get_terminal_size((100, 24))
    width, height = size.columns, size.lines
    palette = ctx.palette
    beside = width >= 120
    table_width = width - PANEL - 2 if beside else width
    panel = captures_lines(snap, palette, PANEL if beside else width)
    room = height - 3 - (0 if beside else min(len(panel), 6) + 2)
    limit = max(1, room - 1)
    first = max(0, index - limit + 1)  # scroll so the selection stays on screen
    visible_rows = snap.rows[first:first + limit]
    from .topdata import Snapshot
    part = Snapshot(taken_at=snap.taken_at, rows=visible_rows, total=snap.total, sort=snap.sort, marks=snap.marks,
                    captured=snap.captured, recent=snap.recent)
    table = table_lines(part, palette, None, table_width, selected=index - first)
    head = _fit(header_line(snap, ctx.args.interval, len(snap.rows)), width)
    lines = [palette.paint(head, "bold"), _fit(status or KEYS_LINE, width), ""]
    if beside:
        from .render import display_width
        title = [palette.paint("recent captures", "bold")] + panel
        for i in range(max(len(table), len(title))):
            left = table[i] if i < len(table) else ""
            pad = " " * max(0, table_width - display_width(left))
            lines.append(left + pad + "  " + (title[i] if i < len(title) else ""))
    else:
        lines += table + ["", palette.paint("recent captures", "bold")] + panel[:6]
    return lines[:height]


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(1, width - 1)] + "…"
