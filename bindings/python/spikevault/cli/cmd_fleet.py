"""``spikevault fleet DIR...``: the analytics templates over many hosts' Parquet trees (made
by ``spikevault export --format parquet``), in DuckDB (the ``duckdb`` CLI, default) or in
ClickHouse's engine through chDB (``pip install chdb``). Both give the same rows
(docs/fleet.md). Opens no vault."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
from typing import Any, List

from .common import CliError, Context, UsageError
from .fleet_sql import TEMPLATES, normalise, render
from .parsing import parse_time

HELP = "run analytics across many hosts' Parquet exports (duckdb or clickhouse via chDB)"
# Characters a directory may not hold: they would end a SQL string or act as a glob.
_UNSAFE = re.compile(r"['\\*?\[\]{}\x00-\x1f]")


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("fleet", help=HELP, parents=parents,
                       description="Run an analytics template over the Parquet trees of many hosts "
                                   "(DIR/captures/host=*/date=*/*.parquet and DIR/stacks/...). Prints JSON rows.",
                       epilog="examples:\n  spikevault fleet /srv/fleet --template hottest-stacks\n"
                              "  spikevault fleet a/ b/ --engine clickhouse --template same-hour-spikes",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dirs", nargs="+", metavar="DIR", help="Parquet trees written by export --format parquet")
    p.add_argument("--engine", choices=("duckdb", "clickhouse"), default="duckdb",
                   help="duckdb (the duckdb CLI, default) or clickhouse (chDB, in-process)")
    p.add_argument("--template", choices=sorted(TEMPLATES), default="peak-by-process", metavar="NAME",
                   help="which analysis: " + ", ".join(sorted(TEMPLATES)) + " (default peak-by-process)")
    p.add_argument("--since", metavar="TIME", help="from this time (default: the beginning)")
    p.add_argument("--until", metavar="TIME", help="before this time (default: no end)")
    p.add_argument("--sql", action="store_true", help="print the SQL instead of running it")
    p.set_defaults(run=run)


def _stored(when: Any) -> str:
    from datetime import timezone
    return when.astimezone(timezone.utc).isoformat(sep=" ", timespec="milliseconds").replace("+00:00", "Z")


def _files(dirs: List[str], table: str) -> List[str]:
    out = []
    for d in dirs:
        root = os.path.join(d, table)
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames.sort()
            out += [os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".parquet")]
    return out


def sources(engine: str, dirs: List[str], table: str) -> str:
    """The engine's FROM source of one table: a glob over host=*/date=* of every DIR that has
    at least one file of it (an engine fails on a glob matching nothing). DIRs are checked
    free of quotes and glob characters by the caller."""
    globs = [os.path.join(d, table, "*", "*", "*.parquet") for d in dirs if _files([d], table)]
    if not globs:
        return ""
    if engine == "duckdb":
        listed = ", ".join(f"'{g}'" for g in globs)
        return f"read_parquet([{listed}], hive_partitioning = false, union_by_name = true)"
    return "(" + " UNION ALL ".join(f"SELECT * FROM file('{g}', Parquet)" for g in globs) + ")"


def query(engine: str, sql: str) -> List[dict]:
    if engine == "clickhouse":
        try:
            import chdb  # type: ignore[import-not-found]
        except ImportError:
            raise CliError("--engine clickhouse needs chDB: pip install chdb") from None
        try:
            text = chdb.query(sql, "JSONEachRow").bytes().decode("utf-8")
        except Exception as exc:  # chDB raises its own error types
            raise CliError(f"clickhouse (chDB) failed: {str(exc)[:600]}") from None
        return [json.loads(line) for line in text.split("\n") if line.strip()]  # a name may hold U+0085
    tool = os.environ.get("SPIKEVAULT_DUCKDB") or shutil.which("duckdb")
    if not tool:
        raise CliError("--engine duckdb needs the duckdb CLI: pip install duckdb-cli (or set SPIKEVAULT_DUCKDB)")
    proc = subprocess.run([tool, "-no-init", "-batch", "-json", ":memory:", "-c", sql], capture_output=True,
                          timeout=600)
    if proc.returncode != 0:
        raise CliError(f"duckdb failed: {proc.stderr.decode('utf-8', 'replace')[:600]}")
    text = proc.stdout.decode("utf-8").strip()
    return json.loads(text) if text else []


def fleet_rows(engine: str, dirs: List[str], template: str, since: str, until: str) -> List[dict]:
    """The normalised rows of ``template`` over ``dirs`` (also used by the tests and the benchmark)."""
    captures, stacks = sources(engine, dirs, "captures"), sources(engine, dirs, "stacks")
    if not captures:
        raise CliError(f"no Parquet captures under {', '.join(dirs)} (write them with: "
                       "spikevault export --format parquet -o DIR)")
    if template == "hottest-stacks" and not stacks:
        return []
    return normalise(template, query(engine, render(template, captures, stacks or captures, since, until)))


def run(ctx: Context) -> int:
    args = ctx.args
    for d in args.dirs:
        if _UNSAFE.search(d):
            raise UsageError(f"directory {d!r} holds a quote, backslash, glob or control character: rename it")
        if os.path.islink(d) or not os.path.isdir(d):
            raise CliError(f"{d} is not a directory (symlinks are refused)")
    since = _stored(parse_time(args.since)) if args.since else "0000-01-01 00:00:00.000Z"
    until = _stored(parse_time(args.until)) if args.until else "9999-12-31 23:59:59.999Z"
    if args.sql:
        ctx.stdout.write(render(args.template, sources(args.engine, args.dirs, "captures") or "captures",
                                sources(args.engine, args.dirs, "stacks") or "stacks", since, until).strip() + "\n")
        return 0
    rows = fleet_rows(args.engine, args.dirs, args.template, since, until)
    # ASCII JSON: names and frames came from processes, and raw C1 controls (U+009B is CSI)
    # or bidi overrides would reach the terminal; \uXXXX escapes reach none.
    ctx.stdout.write(json.dumps(rows, indent=1) + "\n")
    return 0
