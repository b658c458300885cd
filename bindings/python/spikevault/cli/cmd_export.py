"""``spikevault export``: the selected captures through the library's exporters: records as
JSON, NDJSON or CSV, a support bundle (.tar with the artefacts; a progress bar on a terminal),
or a DuckDB snapshot. Redacted by the library unless ``--no-redact``. The records' bytes are the
library's own (docs/json.md): the CLI streams them through, it does not re-encode them."""

from __future__ import annotations

import argparse
import os
from typing import Any, List

from .common import Context, UsageError, add_filter_arguments, check_output_path, copy_to_stdout, filters_from, \
    library_output, private_tempdir, stdout_fd
from ..textsafe import visible
from .progress import ProgressBar
from .selection import export_criteria

HELP = ("export the selected captures (json, ndjson, csv, a bundle with artefacts, a duckdb snapshot, "
        "partitioned parquet)")
FORMATS = ("json", "ndjson", "csv", "bundle", "duckdb", "parquet")


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("export", help=HELP, parents=parents,
                       description="Export the captures matching the filters, in the order 'list' shows them. "
                                   "json, ndjson and csv hold the metadata; bundle is a .tar with metadata.json and "
                                   "the artefacts (still zstd-compressed); duckdb is a DuckDB database of the whole "
                                   "vault (no filters; needs the duckdb CLI). The home directory, the user name and "
                                   "secrets in command lines are masked unless --no-redact is given.",
                       epilog="examples:\n  spikevault export --format csv --since 24h -o spikes.csv\n"
                              "  spikevault export --format ndjson --metric memory | jq .processName\n"
                              "  spikevault export --format bundle --since 2h -o support.tar\n"
                              "  spikevault export --format duckdb -o spikes.duckdb\n"
                              "  spikevault export --format parquet -o /srv/fleet   # incremental; see docs/fleet.md",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--format", choices=FORMATS, default="json", help="output format (default json)")
    p.add_argument("-o", "--output", metavar="PATH", default="-",
                   help="output file (default stdout; required for bundle and duckdb)")
    p.add_argument("--no-redact", action="store_true",
                   help="export paths, user name and command-line secrets as stored (default: masked)")
    p.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    add_filter_arguments(p)
    p.set_defaults(run=run)


def run(ctx: Context) -> int:
    args = ctx.args
    filters = filters_from(args)
    to_stdout = args.output == "-"
    redact = not args.no_redact
    if args.format in ("bundle", "duckdb") and to_stdout:
        raise UsageError(f"--format {args.format} writes a file: pass -o PATH")
    if args.format == "parquet":
        return _parquet(ctx, filters)
    if args.format == "duckdb" and (not filters.is_empty or filters.limit is not None or args.reverse):
        raise UsageError("--format duckdb snapshots the whole vault: drop the filters "
                         "(query the snapshot, or use another format to export a selection)")
    if not to_stdout:
        check_output_path(args.output, args.force)
    vault = ctx.open_vault()
    if args.format == "duckdb":
        with library_output(args.output):
            n = vault.export_duckdb(args.output, redact=redact, overwrite=args.force)
        ctx.note(f"wrote a DuckDB snapshot of {n} capture(s) to {args.output}")
        return 0
    criteria = export_criteria(vault, filters, newest_first=args.reverse)
    if args.format == "bundle":
        with ProgressBar(ctx.stderr, f"Bundling to {os.path.basename(args.output)}") as bar, \
                library_output(args.output):
            n = vault.export_bundle(args.output, redact=redact, overwrite=args.force, progress=bar.update, **criteria)
        ctx.note(f"wrote {n} capture(s) with their artefacts to {args.output}")
        for why, entries in (("missing", n.missing), ("corrupt", n.corrupt), ("withheld", n.withheld)):
            for e in entries:  # always shown: the bundle is not what the user may think it is
                ctx.note(visible(f"left out capture {e['captureId']} {e['kind']} ({why}): {e['reason']}"), level=0)
        if n.withheld:
            ctx.note("withheld artefacts are binary and cannot be redacted; --no-redact includes them", level=0)
        return 0
    if to_stdout:
        fd = stdout_fd(ctx)
        if fd is not None:  # the library streams the rows straight to the pipe or file
            ctx.stdout.flush()
            vault.write_records(fd, args.format, redact=redact, **criteria)
            return 0
        with private_tempdir() as scratch:  # a stdout without a descriptor (a StringIO)
            dest = os.path.join(scratch, f"export.{args.format}")
            vault.export_records(dest, args.format, redact=redact, **criteria)
            copy_to_stdout(ctx, dest)
        return 0
    with library_output(args.output):
        n = vault.export_records(args.output, args.format, redact=redact, overwrite=args.force, **criteria)
    ctx.note(f"wrote {n} record(s) to {args.output}")
    return 0


def _parquet(ctx: Context, filters: Any) -> int:
    """Hive-partitioned Parquet into a directory, only what is new since the last export there."""
    args = ctx.args
    if args.output == "-":
        raise UsageError("--format parquet writes a directory tree: pass -o DIR")
    if not filters.is_empty or filters.limit is not None or args.reverse or args.force:
        raise UsageError("--format parquet exports every capture not yet in DIR: drop the filters and --force "
                         "(query the tree with 'spikevault fleet DIR')")
    vault = ctx.open_vault()
    n = vault.export_parquet(args.output, redact=not args.no_redact)
    ctx.note(f"wrote {n} new capture(s) to {args.output}" if n else f"nothing new to export to {args.output}")
    return 0
