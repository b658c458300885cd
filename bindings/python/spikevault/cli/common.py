"""What every verb shares: errors with exit codes, the vault location, the run context."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any, Dict, Iterator, List, Optional

from .colour import Palette, use_colour

__all__ = ["CliError", "UsageError", "default_vault_dir", "Context", "EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE",
           "write_atomically", "check_output_path", "library_output", "private_tempdir", "copy_to_stdout",
           "add_filter_arguments", "filters_from"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A failure reported as one line on stderr, exit status 1."""

    exit_code = EXIT_FAILURE


class UsageError(CliError):
    """Bad command-line use found after parsing (exit status 2)."""

    exit_code = EXIT_USAGE


def default_vault_dir(environ: Optional[Dict[str, str]] = None, platform: Optional[str] = None) -> str:
    """``$SPIKEVAULT_DIR``, else ``$XDG_STATE_HOME/spikevault`` (if absolute, per the XDG
    spec), else ``~/.local/state/spikevault``; on macOS ``~/Library/Application
    Support/SpikeVault`` instead of the last (docs/decisions.md)."""
    env = os.environ if environ is None else environ
    if env.get("SPIKEVAULT_DIR"):
        return env["SPIKEVAULT_DIR"]
    xdg = env.get("XDG_STATE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "spikevault")
    home = env.get("HOME") or os.path.expanduser("~")
    if (platform or sys.platform) == "darwin":
        return os.path.join(home, "Library", "Application Support", "SpikeVault")
    return os.path.join(home, ".local", "state", "spikevault")


@dataclass
class Context:
    args: argparse.Namespace
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    _vaults: List[Any] = field(default_factory=list)
    terminal: Optional[IO[str]] = None  # the real stdout while a pager reads ctx.stdout

    @property
    def verbose(self) -> int:
        return getattr(self.args, "verbose", 0) or 0

    @property
    def vault_dir(self) -> str:
        return os.path.abspath(os.path.expanduser(getattr(self.args, "vault", None) or default_vault_dir()))

    @property
    def palette(self) -> Palette:
        return Palette(use_colour(self.terminal or self.stdout))

    @property
    def terminal_width(self) -> Optional[int]:
        try:
            if (self.terminal or self.stdout).isatty():
                return shutil.get_terminal_size((100, 24)).columns
        except (AttributeError, ValueError):
            pass
        return None

    def suggest(self, verb: str, *words: object) -> str:
        """A command to print as advice, keeping the options this one was run with (``--vault``),
        so that it works when pasted: ``spikevault --vault /v show 12``."""
        import shlex

        parts = ["spikevault"]
        if getattr(self.args, "vault", None):
            parts += ["--vault", self.vault_dir]
        parts.append(verb)
        parts += [str(w) for w in words]
        return " ".join(shlex.quote(p) for p in parts)

    def note(self, message: str, level: int = 1) -> None:
        """A diagnostic on stderr, shown with -v (level 1) or -vv (level 2)."""
        if self.verbose >= level:
            print(f"spikevault: {message}", file=self.stderr)

    def open_vault(self, create: bool = False, **options: Any) -> Any:
        """Open the vault. Reading verbs (``create=False``) never create one as a side effect."""
        from .. import Vault

        path = self.vault_dir
        if not create:
            try:
                os.lstat(path)
            except FileNotFoundError:
                raise CliError(f"no vault at {path}: nothing captured there yet "
                               "(pass --vault DIR or set SPIKEVAULT_DIR to the vault you mean)") from None
            except PermissionError:
                raise CliError(f"cannot read the vault {path}: permission denied "
                               "(run as its owner or fix the directory modes)") from None
            if not os.path.isdir(path):
                raise CliError(f"--vault {path} is not a directory (pass the vault directory)")
            if not os.access(path, os.R_OK | os.X_OK):
                raise CliError(f"cannot read the vault {path}: permission denied (run as its owner or fix its mode)")
        else:
            parent = os.path.dirname(path)
            try:
                os.makedirs(parent, mode=0o700, exist_ok=True)  # e.g. a first ~/.local/state
            except OSError as exc:
                raise CliError(f"cannot create {parent} for the vault: {exc.strerror or exc} (pass --vault DIR)") from None
        if not create:
            options["create"] = False  # the library refuses to create one either
        options.setdefault("maintenance_interval_seconds", 0)  # a short-lived command: no scheduler thread
        self.note(f"opening vault {path}")
        vault = Vault(path, **options)
        self._vaults.append(vault)
        return vault

    def close(self) -> None:
        while self._vaults:
            self._vaults.pop().close()


def write_atomically(path: str, data: bytes, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` through a temp file and a rename: complete or absent."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise CliError(f"cannot write {path}: the directory {directory} does not exist")
    if not overwrite and os.path.lexists(path):
        raise CliError(_exists_message(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if not overwrite:
            os.link(tmp, path)  # fails if path appeared meanwhile
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except FileExistsError:
        raise CliError(f"{path} already exists (remove it, choose another -o, or pass --force)") from None
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _exists_message(path: str) -> str:
    return f"{path} already exists (remove it, choose another -o, or pass --force)"


def check_output_path(path: str, overwrite: bool) -> None:
    """Refuse early, with the fix named, what the library would refuse: a missing directory,
    an existing file without ``--force``, a directory."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise CliError(f"cannot write {path}: the directory {directory} does not exist")
    if os.path.isdir(path):
        raise CliError(f"cannot write {path}: it is a directory (give a file name)")
    if not overwrite and os.path.lexists(path):
        raise CliError(_exists_message(path))


@contextmanager
def library_output(path: str) -> Iterator[None]:
    """Around a library call that writes ``path``: its already-exists and missing-directory
    errors (a race after ``check_output_path``) say what to do."""
    from .. import AlreadyExistsError

    try:
        yield
    except AlreadyExistsError:
        raise CliError(_exists_message(path)) from None


@contextmanager
def private_tempdir() -> Iterator[str]:
    """A 0700 scratch directory, removed afterwards (for library files bound for stdout)."""
    import tempfile

    directory = tempfile.mkdtemp(prefix="spikevault-")
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def exported_stacks(vault: Any, record: Any, kind: str, redact: bool) -> list:
    """The stacks of a capture's folded artefact `kind` as the library exports them (redacted
    or not), parsed; a CliError when the artefact holds none."""
    from .stacks import parse_folded

    with private_tempdir() as d:
        dest = os.path.join(d, "stacks.folded")
        vault.export_stacks(record.id, dest, "folded", kind=kind, redact=redact)
        with open(dest, "rb") as f:
            stacks = parse_folded(f.read())
    if not stacks:
        raise CliError(f"the {kind} artefact of capture {record.id} holds no stacks in folded format "
                       "('frame;frame;... COUNT' lines)")
    return stacks


def stdout_fd(ctx: "Context") -> Optional[int]:
    """stdout's descriptor, for the library to write to; None for a stream without one (a
    StringIO in tests, a closed stream)."""
    try:
        return ctx.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return None


def copy_to_stdout(ctx: "Context", path: str) -> None:
    """Stream a file's bytes to stdout (binary-safe when stdout has a buffer)."""
    ctx.stdout.flush()
    buf = getattr(ctx.stdout, "buffer", None)
    with open(path, "rb") as f:
        if buf is not None:
            shutil.copyfileobj(f, buf)
            buf.flush()
        else:
            ctx.stdout.write(f.read().decode("utf-8", "replace"))
            ctx.stdout.flush()


def add_filter_arguments(p: argparse.ArgumentParser, default_limit: Optional[int] = None) -> None:
    from .parsing import arg_metric, arg_nonneg_float, arg_pid, arg_positive_int, arg_time

    g = p.add_argument_group("filters")
    g.add_argument("--metric", type=arg_metric, metavar="NAME",
                   help="only this trigger metric: cpu, memory, diskIO, network, threads, fds")
    g.add_argument("--process", metavar="NAME",
                   help="process name: case-insensitive substring, or a glob with * ? [ ] (whole name, any case)")
    g.add_argument("--pid", type=arg_pid, help="only this process id")
    g.add_argument("--since", type=arg_time, metavar="TIME",
                   help="captured at or after TIME: 2h (ago), 3d, 2026-11-27T10:00 (local), today")
    g.add_argument("--until", type=arg_time, metavar="TIME", help="captured before TIME (same forms)")
    g.add_argument("--min-value", type=arg_nonneg_float, metavar="X", help="trigger value at least X")
    g.add_argument("-n", "--limit", type=arg_positive_int, default=default_limit, metavar="N",
                   help="only the newest N matches" + (f" (default {default_limit})" if default_limit else " (default: all)"))
    g.add_argument("-r", "--reverse", action="store_true", help="newest first (default: oldest first, newest at the bottom)")


def filters_from(args: argparse.Namespace) -> Any:
    from .selection import Filters

    if args.since and args.until and args.since > args.until:
        raise UsageError("--since is later than --until (swap them)")
    return Filters(metric=args.metric, process=args.process, pid=args.pid, since=args.since, until=args.until,
                   min_value=args.min_value, limit=args.limit)
