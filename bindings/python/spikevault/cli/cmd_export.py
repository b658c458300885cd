"""``spikevault export``: the metadata of the selected captures as JSON, NDJSON or CSV
(bundle and DuckDB wait for the library's review API, issue 5)."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
from typing import Any, List

from .common import CliError, Context, UsageError, WaitingForLibrary, add_filter_arguments, filters_from, write_atomically
from .records import CSV_COLUMNS, Redactor, csv_row, record_dict
from .selection import _select_records

HELP = "export the selected captures' metadata (json, ndjson, csv; bundle, duckdb)"
FORMATS = ("json", "ndjson", "csv", "bundle", "duckdb")


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("export", help=HELP, parents=parents,
                       description="Export the metadata of the captures matching the filters. The home directory "
                                   "becomes ~ and the user name <user> unless --no-redact is given.",
                       epilog="examples:\n  spikevault export --format csv --since 24h -o spikes.csv\n"
                              "  spikevault export --format ndjson --metric memory | jq .processName\n"
                              "  spikevault export --format bundle --since 2h -o support.tar",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--format", choices=FORMATS, default="json", help="output format (default json)")
    p.add_argument("-o", "--output", metavar="PATH", default="-",
                   help="output file (default stdout; required for bundle and duckdb)")
    p.add_argument("--no-redact", action="store_true", help="export home directory and user name as stored")
    p.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    add_filter_arguments(p)
    p.set_defaults(run=run)


def render(records: List[Any], fmt: str, redact: Any) -> bytes:
    dicts = [record_dict(r, redact) for r in records]
    if fmt == "json":
        return (json.dumps(dicts, indent=2) + "\n").encode()
    if fmt == "ndjson":
        return "".join(json.dumps(d, separators=(",", ":")) + "\n" for d in dicts).encode()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # RFC 4180
    writer.writerow(CSV_COLUMNS)
    for d in dicts:
        writer.writerow(csv_row(d))
    return buf.getvalue().encode()


def run(ctx: Context) -> int:
    args = ctx.args
    filters = filters_from(args)
    to_stdout = args.output == "-"
    if args.format in ("bundle", "duckdb"):
        if to_stdout:
            raise UsageError(f"--format {args.format} writes a file: pass -o PATH")
        if os.path.lexists(args.output) and not args.force:
            raise CliError(f"{args.output} already exists (remove it, choose another -o, or pass --force)")
        raise WaitingForLibrary(f"export --format {args.format}", "review/export (issue 5)")
    if not to_stdout and os.path.lexists(args.output) and not args.force:
        raise CliError(f"{args.output} already exists (remove it, choose another -o, or pass --force)")
    vault = ctx.open_vault()
    records = _select_records(vault, filters)
    records = records if args.reverse else list(reversed(records))
    data = render(records, args.format, None if args.no_redact else Redactor())
    if to_stdout:
        ctx.stdout.flush()
        buf = getattr(ctx.stdout, "buffer", None)
        if buf is not None:
            buf.write(data)
            buf.flush()
        else:
            ctx.stdout.write(data.decode())
    else:
        write_atomically(args.output, data, overwrite=args.force)
        ctx.note(f"wrote {len(records)} record(s) to {args.output}")
    return 0
