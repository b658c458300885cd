"""Long output on a terminal goes through a pager, as git and journalctl do: ``$PAGER`` (split
as words, never through a shell), else ``less -FRSX`` (quit if one screen, colour, no line
wrap, no screen clearing). Never when stdout is not a terminal, never with ``--no-pager``
or ``PAGER=cat``/empty. Colour and width decisions stay those of the terminal."""

from __future__ import annotations

import io
import os
import shlex
import shutil
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional

from .common import Context

__all__ = ["pager_argv", "paged"]


def pager_argv(environ: Optional[Dict[str, str]] = None) -> Optional[List[str]]:
    """The pager's argv, or None for no pager."""
    env = os.environ if environ is None else environ
    if "PAGER" in env:
        words = shlex.split(env["PAGER"]) if env["PAGER"].strip() else []
        if not words or words == ["cat"]:
            return None
        return words if shutil.which(words[0]) else None
    return ["less", "-FRSX"] if shutil.which("less") else None


def _stream_is_tty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


@contextmanager
def paged(ctx: Context) -> Iterator[None]:
    """Within the block, ``ctx.stdout`` feeds the pager (when one applies)."""
    argv = None if getattr(ctx.args, "no_pager", False) or not _stream_is_tty(ctx.stdout) else pager_argv()
    if argv is None:
        yield
        return
    env = dict(os.environ)
    env.setdefault("LESS", "FRSX")  # a bare PAGER=less still shows colour and quits on one screen
    ctx.stdout.flush()
    import subprocess  # here: `list` into a pipe never pages, and the import costs 5 ms of startup

    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, env=env)
    original = ctx.stdout
    ctx.terminal = original
    ctx.stdout = io.TextIOWrapper(proc.stdin, encoding="utf-8", errors="replace", write_through=False)  # type: ignore[arg-type]
    try:
        yield
        ctx.stdout.flush()
    except BrokenPipeError:
        pass  # the reader quit the pager early: not an error
    finally:
        try:
            ctx.stdout.close()
        except BrokenPipeError:
            pass
        ctx.stdout = original
        while True:
            try:
                proc.wait()
                break
            except KeyboardInterrupt:  # Ctrl-C in less belongs to less
                continue
