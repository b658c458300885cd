"""Picking captures as coredumpctl picks dumps: ``12`` (an id), ``latest`` / ``-1`` (the
newest), ``-2`` (the one before), a process MATCH (case-insensitive substring, or a glob with
``* ? [``; the newest match), ``--pid PID`` (the newest capture of that pid; with a MATCH or
``-N``, both must hold), and ``--all`` for every match, newest first. Selectors are parsed
before the library is called, so a bad one is a usage error (exit 2)."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any, List, Optional

from .common import CliError, Context, UsageError
from .parsing import arg_pid
from .selection import GLOB_CHARS, case_insensitive_glob

__all__ = ["Selector", "parse_selector", "add_capture_argument", "pick_one", "pick_all", "FORMS"]

FORMS = "an id, latest (or -1, -2 for older), a process name or glob, or --pid PID"
MAX_ID = 2**63 - 1
MAX_BACK = 1_000_000


@dataclass(frozen=True)
class Selector:
    id: Optional[int] = None      # an exact capture id
    back: Optional[int] = None    # 1 = the newest, 2 = the one before, ...
    match: Optional[str] = None   # process name substring or glob

    def describe(self) -> str:
        if self.id is not None:
            return f"id {self.id}"
        if self.match is not None:
            return f"a process matching {self.match!r}"
        return "latest" if self.back == 1 else f"-{self.back}"


def parse_selector(text: str) -> Selector:
    """``"12"`` → id 12, ``"latest"``/``"-1"`` → back 1, ``"-3"`` → back 3, else a MATCH."""
    s = text.strip()
    if not s:
        raise ValueError(f"an empty capture (use {FORMS})")
    if s.lower() in ("latest", "last", "newest"):
        return Selector(back=1)
    if re.fullmatch(r"-\d+", s):
        n = int(s[1:])
        if n < 1 or n > MAX_BACK:
            raise ValueError(f"{text!r}: -N counts back from the newest capture, -1 to -{MAX_BACK}")
        return Selector(back=n)
    if re.fullmatch(r"\+?\d+", s):
        n = int(s)
        if n < 1:
            raise ValueError(f"{text!r} is not a capture id (ids start at 1; -1 means the newest)")
        if n > MAX_ID:
            raise ValueError(f"{text!r} is not a capture id (too large: ids go up to {MAX_ID})")
        return Selector(id=n)
    if s.startswith("-"):
        raise ValueError(f"{text!r} is not a capture (use {FORMS})")
    return Selector(match=s)


def _arg_selector(text: str) -> Selector:
    try:
        return parse_selector(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_arg_selector.__name__ = "capture"


def add_capture_argument(p: argparse.ArgumentParser, dest: str = "capture", all_ok: bool = False,
                         pid_ok: bool = True, required: bool = False, metavar: str = "CAPTURE") -> None:
    """The positional CAPTURE (default: latest) and, unless told otherwise, ``--pid``/``--all``."""
    p.add_argument(dest, type=_arg_selector, metavar=metavar, nargs=None if required else "?",
                   help=f"which capture: {FORMS}" + ("" if required else " (default: latest)"))
    if pid_ok:
        p.add_argument("--pid", dest="pick_pid", type=arg_pid, metavar="PID",
                       help="the newest capture of process PID (with CAPTURE: both must hold)")
    if all_ok:
        p.add_argument("--all", dest="pick_all", action="store_true",
                       help="every matching capture, newest first (default: the newest match only)")


def _criteria(sel: Selector, pid: Optional[int]) -> dict:
    kwargs: dict = {"order": "time-desc"}
    if pid is not None:
        kwargs["pid"] = pid
    if sel.match is not None:
        if any(c in sel.match for c in GLOB_CHARS):
            kwargs["process_glob"] = case_insensitive_glob(sel.match)
        else:
            kwargs["process"] = sel.match
    return kwargs


def _query(vault: Any, **kwargs: Any) -> List[Any]:
    from .. import InvalidArgumentError

    try:
        return list(vault.query(**kwargs))
    except InvalidArgumentError as exc:  # e.g. an unmatched [ in a glob
        raise UsageError(f"bad capture pattern: {exc}") from None


def _nothing(ctx: Context, sel: Selector, pid: Optional[int]) -> CliError:
    what = sel.describe() if (sel.match is not None or sel.back not in (None, 1) or pid is None) else ""
    parts = [w for w in (what if what != "latest" else "", f"pid {pid}" if pid is not None else "") if w]
    where = ctx.vault_dir
    if not parts:
        return CliError(f"no captures in {where} yet (see '{ctx.suggest('list')}')")
    return CliError(f"no capture of {' and '.join(parts)} in {where} (see '{ctx.suggest('list')}')")


def pick_all(ctx: Context, vault: Any, sel: Optional[Selector], pid: Optional[int] = None,
             every: bool = False) -> List[Any]:
    """The records ``sel`` names, newest first: one, or every match with ``every``."""
    sel = sel or Selector(back=1)
    if sel.id is not None:
        ctx.args.id = sel.id  # a NotFoundError is then explained as "no capture with id N"
        record = vault.get(sel.id)
        if pid is not None and record.pid != pid:
            raise CliError(f"capture {sel.id} is of pid {record.pid}, not --pid {pid}")
        return [record]
    criteria = _criteria(sel, pid)
    if every and sel.back in (None, 1):
        found = _query(vault, **criteria)
    else:
        back = sel.back or 1
        found = _query(vault, limit=back, **criteria)
        found = found[back - 1:back]
    if not found:
        raise _nothing(ctx, sel, pid)
    return found


def pick_one(ctx: Context, vault: Any, sel: Optional[Selector], pid: Optional[int] = None) -> Any:
    record = pick_all(ctx, vault, sel, pid)[0]
    ctx.args.id = record.id  # for messages that name the capture
    return record
