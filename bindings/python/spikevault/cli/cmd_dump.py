"""``spikevault dump ID`` (an artefact, decompressed) and ``spikevault path ID`` (its file)."""

from __future__ import annotations

import argparse
import os
from typing import Any, List

from .common import CliError, Context, UsageError, copy_to_stdout, private_tempdir, write_atomically
from .pick import add_capture_argument, pick_all, pick_one


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("dump", help="write an artefact, decompressed, to stdout or a file", parents=parents,
                       description="Write a capture's artefact, decompressed and verified. Binary data is not "
                                   "written to a terminal (as coredumpctl dump): use -o FILE or a pipe.",
                       epilog="examples:\n  spikevault dump 12 --kind oncpu.folded | flamegraph.pl > out.svg\n"
                              "  spikevault dump 12 --kind procfs.json -o procfs.json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_capture_argument(p)
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (must not exist) instead of stdout")
    p.add_argument("--kind", metavar="K", help="artefact kind, e.g. oncpu.folded, procfs.json (default: the first)")
    p.add_argument("--format", choices=("raw", "pprof"), default="raw",
                   help="raw (default: the artefact as stored) or pprof (a *.folded artefact as gzip profile.proto, "
                        "redacted unless --no-redact)")
    p.add_argument("--no-redact", action="store_true", help="with --format pprof: frames and names as captured")
    p.add_argument("--redact", action="store_true",
                   help="mask secrets in arguments, credentials, tokens, the home directory and user name "
                        "in the contents (for sharing; binary artefacts are refused)")
    p.set_defaults(run=run_dump)

    q = sub.add_parser("path", help="print the absolute path of an artefact's (compressed) file", parents=parents,
                       description="Print the absolute path of a capture's artefact file (zstd-compressed), "
                                   "e.g. to reveal it in a file manager.",
                       epilog="example:\n  zstdcat \"$(spikevault path 12 --kind oncpu.folded)\" | head",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_capture_argument(q, all_ok=True)
    q.add_argument("--kind", metavar="K", help="artefact kind (default: the first)")
    q.set_defaults(run=run_path)


def _check_kind(record: Any, kind: Any) -> None:
    if not record.artefacts:
        raise CliError(f"capture {record.id} has no artefacts")
    if kind is not None and kind not in [a.kind for a in record.artefacts]:
        raise CliError(f"capture {record.id} has no {kind!r} artefact (it has: "
                       f"{', '.join(a.kind for a in record.artefacts)}); pass one of those to --kind")


def _looks_binary(data: bytes) -> bool:
    if b"\x00" in data[:65536]:
        return True
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(data[:65536]) - 4  # a character cut at the 64 KiB edge is still text
    return False


def run_dump(ctx: Context) -> int:
    args = ctx.args
    if args.format == "pprof":
        return _dump_pprof(ctx)
    if args.no_redact:
        raise UsageError("--no-redact is for --format pprof (raw dumps are unredacted unless --redact)")
    vault = ctx.open_vault()
    record = pick_one(ctx, vault, args.capture, args.pick_pid)
    _check_kind(record, args.kind)
    args.id = record.id
    if args.output and args.output != "-":
        if os.path.lexists(args.output):
            raise CliError(f"{args.output} already exists (remove it or choose another -o)")
        if args.redact:
            write_atomically(args.output, vault.read_artefact(args.id, args.kind, redact=True), overwrite=False)
        else:
            vault.export_artefact(args.id, args.output, args.kind)
        ctx.note(f"wrote {args.output}")
        return 0
    data = vault.read_artefact(args.id, args.kind, redact=args.redact)
    out = getattr(ctx.stdout, "buffer", None)
    if ctx.stdout.isatty() and _looks_binary(data):
        raise CliError("refusing to write binary data to a terminal: use -o FILE or a pipe")
    ctx.stdout.flush()
    if out is not None:
        out.write(data)
        out.flush()
    else:
        ctx.stdout.write(data.decode("utf-8", "replace"))
    return 0


def _dump_pprof(ctx: Context) -> int:
    """A folded artefact as pprof, written by the library (docs/fleet.md, "pprof")."""
    args = ctx.args
    if args.redact and args.no_redact:
        raise UsageError("--redact and --no-redact exclude each other")
    vault = ctx.open_vault()
    record = pick_one(ctx, vault, args.capture, args.pick_pid)
    _check_kind(record, args.kind)
    kind = args.kind or next((a.kind for a in record.artefacts if a.kind == "oncpu.folded"),
                             next((a.kind for a in record.artefacts if a.kind.endswith(".folded")), None))
    if kind is None or not kind.endswith(".folded"):
        raise CliError(f"pprof is written from a folded-stack artefact (*.folded); capture {record.id} "
                       f"{'has none' if kind is None else 'has ' + repr(kind)} (it has: "
                       f"{', '.join(a.kind for a in record.artefacts)})")
    to_file = bool(args.output and args.output != "-")
    if to_file and os.path.lexists(args.output):
        raise CliError(f"{args.output} already exists (remove it or choose another -o)")
    if not to_file and ctx.stdout.isatty():
        raise CliError("refusing to write binary data to a terminal: use -o FILE or a pipe")
    with private_tempdir() as scratch:
        dest = args.output if to_file else os.path.join(scratch, "stacks.pprof")
        vault.export_stacks(record.id, dest, "pprof", kind=kind, redact=not args.no_redact)
        if to_file:
            ctx.note(f"wrote {args.output}")
        else:
            copy_to_stdout(ctx, dest)
    return 0


def run_path(ctx: Context) -> int:
    args = ctx.args
    vault = ctx.open_vault()
    for record in pick_all(ctx, vault, args.capture, args.pick_pid, every=args.pick_all):
        _check_kind(record, args.kind)
        print(vault.artefact_path(record.id, args.kind), file=ctx.stdout)
    return 0
