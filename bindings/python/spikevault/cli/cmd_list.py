"""``spikevault list``: the captures matching the filters, as a table or JSON."""

from __future__ import annotations

import argparse
import itertools
import json
import os
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, List, Optional

from .common import Context, add_filter_arguments, filters_from, stdout_fd
from .pager import paged
from .records import record_dict
from .render import Column, format_value, human_size, relative_time, render_table
from .selection import export_criteria

HELP = "list captures (the default verb)"
EXAMPLES = """examples:
  spikevault list --since 2h --metric cpu
  spikevault list --process 'python*' -n 20 -r
  spikevault list --json | jq '.[].id'"""

STATUS_STYLE = {"complete": "green", "partial": "yellow", "failed": "red", "missing": "red", "quarantined": "magenta"}


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("list", help=HELP, description="List captures, oldest first (like coredumpctl list).",
                       epilog=EXAMPLES, parents=parents, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_filter_arguments(p)
    p.add_argument("--json", action="store_true", help="a JSON array of records on stdout")
    p.set_defaults(run=run)


def ordered(records: List[Any], reverse: bool) -> List[Any]:
    """Selections come newest first; shown oldest first unless -r (coredumpctl's order)."""
    return list(records) if reverse else list(reversed(records))


BLOCK = 1000  # rows rendered at a time: output starts with the first page, memory stays bounded


def _row(r: Any, now: datetime) -> tuple:
    status = r.status.stored_name
    return ([str(r.id), relative_time(r.captured_at, now), r.process_name, str(r.pid), r.metric.stored_name,
             format_value(r.metric.stored_name, r.value), f"{r.duration:.1f}s", human_size(r.stored_bytes),
             status, ",".join(a.kind for a in r.artefacts) or "-"],
            ["bold", None, None, None, "cyan", None, None, None, STATUS_STYLE.get(status), "dim"])


def table_lines(records: Iterable[Any], ctx: Context, now: Optional[datetime] = None) -> Iterator[str]:
    """The table, header first, rendered a block of rows at a time as the records come
    (columns keep the widths of the blocks before and widen when a later cell needs it)."""
    now = now or datetime.now(timezone.utc)
    widths: List[int] = []
    first = True
    for block in _blocks(records, BLOCK):
        rows, styles = zip(*(_row(r, now) for r in block))
        yield from render_table(COLUMNS, rows, ctx.palette, styles, max_width=ctx.terminal_width,
                                widths_so_far=widths, header=first)
        first = False


COLUMNS = [Column("ID", "right"), Column("TIME"), Column("PROCESS", shrinkable=True, min_width=7),
           Column("PID", "right"), Column("METRIC"), Column("VALUE", "right"), Column("DURATION", "right"),
           Column("SIZE", "right"), Column("STATUS"), Column("ARTEFACTS", shrinkable=True, min_width=5)]


def _blocks(items: Iterable[Any], size: int) -> Iterator[List[Any]]:
    block: List[Any] = []
    for item in items:
        block.append(item)
        if len(block) >= size:
            yield block
            block = []
    if block:
        yield block


def _json_lines(records: Iterable[Any]) -> Iterator[str]:
    """``json.dump(list, indent=2)``'s text, one record at a time."""
    empty = True
    for r in records:
        text = json.dumps(record_dict(r), indent=2).replace("\n", "\n  ")
        yield ("[\n  " if empty else ",\n  ") + text
        empty = False
    yield "[]" if empty else "\n]"


def _pipe_fd(ctx: Context) -> Optional[int]:
    """stdout's descriptor when the table needs no colour, width limit or pager (not a terminal),
    else None (the CLI renders it: terminals are where those apply)."""
    fd = stdout_fd(ctx)
    if fd is None or ctx.terminal is not None or os.isatty(fd) or ctx.palette.enabled or ctx.terminal_width is not None:
        return None
    return fd


def run(ctx: Context) -> int:
    args = ctx.args
    filters = filters_from(args)
    vault = ctx.open_vault()
    # The display order straight from the library (oldest first unless -r; -n N the newest
    # N either way), so rows stream from the cursor to the output as they come.
    criteria = export_criteria(vault, filters, newest_first=args.reverse)
    fd = None if args.json else _pipe_fd(ctx)
    if fd is not None:  # a pipe or a file: the library writes the same table, row by row
        ctx.stdout.flush()
        if not vault.write_list(fd, now=datetime.now(timezone.utc), **criteria):
            print("No captures." if filters.is_empty else "No captures match.", file=ctx.stderr)
        return 0
    records = vault.query(**criteria)
    if args.json:
        for chunk in _json_lines(records):
            ctx.stdout.write(chunk)
        ctx.stdout.write("\n")
        return 0
    first = next(records, None)
    if first is None:
        print("No captures." if filters.is_empty else "No captures match.", file=ctx.stderr)
        return 0
    with paged(ctx):
        for line in table_lines(itertools.chain([first], records), ctx):
            print(line, file=ctx.stdout)
    return 0
