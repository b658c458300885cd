"""``spikevault purge``: one retention pass now (``Vault.maintain()``), or an estimate."""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

from .common import Context, UsageError
from .parsing import arg_duration, arg_size, format_duration
from .render import human_size
from .selection import SCAN_ALL

HELP = "delete captures older than an age or beyond a size budget, and print what was done"


def add_parser(sub: Any, parents: List[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("purge", help=HELP, parents=parents,
                       description="Run one retention pass now: evict captures older than --older-than and, "
                                   "oldest first, while the vault is over --max-size (the newest capture is never "
                                   "evicted by size); sweep orphan and temp files. Without flags the library's "
                                   "defaults apply (72h, 50M).",
                       epilog="examples:\n  spikevault purge\n  spikevault purge --older-than 24h --max-size 20M\n"
                              "  spikevault purge --older-than 1h --dry-run",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--older-than", type=arg_duration, metavar="AGE", help="age limit, e.g. 72h, 3d (default 72h)")
    p.add_argument("--max-size", type=arg_size, metavar="SIZE", help="footprint budget, e.g. 50M, 1G (default 50M)")
    p.add_argument("--dry-run", action="store_true", help="estimate what would be purged; delete nothing")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.set_defaults(run=run)


DEFAULT_AGE, DEFAULT_SIZE = 72 * 3600, 50_000_000


def run(ctx: Context) -> int:
    args = ctx.args
    if args.older_than is not None and args.older_than < 1:
        raise UsageError("--older-than must be at least 1s")
    if args.max_size is not None and args.max_size < 1:
        raise UsageError("--max-size must be at least 1 byte")
    age = math.ceil(args.older_than) if args.older_than is not None else None
    size = args.max_size
    vault = ctx.open_vault(max_age_seconds=age, max_footprint_bytes=size)
    if args.dry_run:
        report = estimate(vault, age or DEFAULT_AGE, size or DEFAULT_SIZE)
        if args.json:
            json.dump(report, ctx.stdout, indent=2)
            ctx.stdout.write("\n")
            return 0
        print(f"Dry run: nothing deleted. Estimate for --older-than {format_duration(report['maxAgeSeconds'])} "
              f"--max-size {human_size(report['maxFootprintBytes'])}:", file=ctx.stdout)
        print(f"  would purge by age:  {len(report['byAge'])} capture(s) {_ids(report['byAge'])}", file=ctx.stdout)
        print(f"  would purge by size: {len(report['bySize'])} capture(s) {_ids(report['bySize'])}", file=ctx.stdout)
        print(f"  artefacts freed:     about {human_size(report['artefactBytesFreed'])}", file=ctx.stdout)
        print(f"  footprint:           {human_size(report['footprintBefore'])} now, about "
              f"{human_size(report['footprintAfterEstimate'])} after", file=ctx.stdout)
        print(f"  note: {report['caveat']}", file=ctx.stdout)
        return 0
    result = vault.maintain()
    d = asdict(result)
    if args.json:
        json.dump(d, ctx.stdout, indent=2)
        ctx.stdout.write("\n")
        return 0
    print(f"Purged {result.purged_by_age + result.purged_by_size} capture(s): {result.purged_by_age} by age, "
          f"{result.purged_by_size} by size" + (" (interrupted)" if result.interrupted else ""), file=ctx.stdout)
    rows = [("files deleted", str(result.files_deleted)), ("space reclaimed", human_size(result.bytes_reclaimed)),
            ("orphan files deleted", str(result.orphans_deleted)), ("rows marked missing", str(result.marked_missing)),
            ("rows quarantined", str(result.quarantined)), ("temp files swept", str(result.temp_files_swept)),
            ("pages vacuumed", str(result.pages_vacuumed)),
            ("footprint", f"{human_size(result.footprint_before)} -> {human_size(result.footprint_after)}"),
            ("took", f"{result.duration_ms} ms")]
    for name, value in rows:
        print(f"  {name + ':':<22}{value}", file=ctx.stdout)
    return 0


def _ids(ids: List[int]) -> str:
    if not ids:
        return ""
    shown = ", ".join(str(i) for i in ids[:10])
    return f"(ids {shown}{', …' if len(ids) > 10 else ''})"


def estimate(vault: Any, max_age: int, max_bytes: int) -> Dict[str, Any]:
    """What ``maintain()`` would evict, computed from ``recent()`` and ``footprint()``.

    Same rules (age first; then oldest first while over budget, never the newest; quarantined
    rows never), but it counts artefacts' compressed sizes, not allocated blocks, and it does
    not model database/WAL shrinkage, the free-space floor, orphans or temp files."""
    now = datetime.now(timezone.utc)
    records = [r for r in vault.recent(SCAN_ALL) if r.status.stored_name != "quarantined"]  # newest first
    cutoff = now - timedelta(seconds=max_age)
    by_age = [r for r in records if r.captured_at <= cutoff]
    kept = [r for r in records if r.captured_at > cutoff]
    before = vault.footprint()
    after = before - sum(r.stored_bytes for r in by_age)
    by_size = []
    for r in reversed(kept[1:]):  # oldest first, never the newest
        if after <= max_bytes:
            break
        by_size.append(r)
        after -= r.stored_bytes
    freed = sum(r.stored_bytes for r in by_age + by_size)
    return {
        "dryRun": True, "maxAgeSeconds": max_age, "maxFootprintBytes": max_bytes,
        "byAge": [r.id for r in by_age], "bySize": [r.id for r in by_size],
        "artefactBytesFreed": freed, "footprintBefore": before, "footprintAfterEstimate": max(0, before - freed),
        "caveat": "an estimate from stored artefact sizes; the real pass measures allocated blocks and also "
                  "reclaims database pages, orphan and temp files, and enforces the free-space floor",
    }
