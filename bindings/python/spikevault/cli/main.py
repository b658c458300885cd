"""The ``spikevault`` command: argument parsing, the default verb, errors and exit codes
(0 success, 1 failure, 2 usage error; an error is one line on stderr)."""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from typing import IO, Dict, List, NoReturn, Optional, Sequence

import importlib

from .common import EXIT_FAILURE, EXIT_USAGE, CliError, Context, default_vault_dir

__all__ = ["main", "build_parser"]

VERBS = ("list", "show", "dump", "path", "flamegraph", "diff", "export", "stats", "purge", "capture", "record",
         "rerun", "watch", "top", "fleet", "serve", "delete")
# The module of each verb, imported only when it runs (or for --help and a mistyped verb):
# startup pays for what the verb uses and nothing else (measure: python3 -X importtime).
MODULE_NAMES = ("cmd_list", "cmd_show", "cmd_dump", "cmd_flamegraph", "cmd_diff", "cmd_export", "cmd_stats",
                "cmd_purge", "cmd_capture", "cmd_record", "cmd_rerun", "cmd_watch", "cmd_top", "cmd_fleet", "cmd_serve",
                "cmd_delete")
VERB_MODULE = {"list": "cmd_list", "show": "cmd_show", "dump": "cmd_dump", "path": "cmd_dump",
               "flamegraph": "cmd_flamegraph", "diff": "cmd_diff", "export": "cmd_export", "stats": "cmd_stats",
               "purge": "cmd_purge", "capture": "cmd_capture", "record": "cmd_record", "rerun": "cmd_rerun",
               "watch": "cmd_watch", "top": "cmd_top", "fleet": "cmd_fleet",
               "serve": "cmd_serve", "delete": "cmd_delete"}


def _module(name: str):
    return importlib.import_module(f"{__package__}.{name}")


DESCRIPTION = """Review, export and clean up the profiling captures of processes that spiked,
and capture or watch processes, from a terminal. The vault is --vault DIR, else
$SPIKEVAULT_DIR, else $XDG_STATE_HOME/spikevault, else ~/.local/state/spikevault."""

EPILOG = """examples:
  spikevault                                    list every capture (oldest first)
  spikevault list --since 2h --metric cpu -r    the last two hours' CPU spikes, newest first
  spikevault show 12                            summary of capture 12
  spikevault show latest                        the newest capture (also -1; -2 the one before)
  spikevault show python3                       the newest capture of a process named like python3
  spikevault flamegraph 12 -o hot.svg           an interactive flame graph
  spikevault dump 12 --kind oncpu.folded > hot.folded
  spikevault capture 4242 --duration 10s        capture a process now
  spikevault record -- python3 app.py           run a command and capture it for its lifetime
  spikevault diff -2 -1 -o diff.svg             what changed between the last two captures
  spikevault purge --older-than 24h --dry-run   what a purge would delete
  spikevault delete 12                          delete capture 12 (asks first; --yes in scripts)
  spikevault export --format csv -o spikes.csv  metadata for a spreadsheet
  spikevault export --format bundle --since 2h -o support.tar   artefacts to share
  spikevault stats --template p95 --since 24h   95th percentile per process
  spikevault watch --cpu 90 --sustain 30s       capture processes that spike (Ctrl-C stops)
  spikevault top --sort rss                     a live view of the processes (q quits)
  spikevault serve                              a local web page of the captures (Ctrl-C stops)

exit status: 0 success, 1 failure, 2 usage error.
run 'spikevault VERB --help' for a verb's options."""


_CHOICE = re.compile(r"argument (\S+): invalid choice: '([^']*)' \(choose from (.*)\)$")


def _did_you_mean(word: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.7)
    return f"; did you mean '{close[0]}'?" if close else ""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the option and the fix (a "did you
    mean" for a mistyped verb, option or choice, and the verb's --help)."""

    def error(self, message: str) -> NoReturn:
        m = _CHOICE.match(message)
        if m:
            name, word, choices = m.group(1), m.group(2), re.findall(r"'([^']*)'", m.group(3))
            if name == "VERB":
                message = f"unknown verb '{word}'{_did_you_mean(word, choices)} (verbs: {', '.join(choices)})"
            else:
                message = f"{name}: invalid choice '{word}'{_did_you_mean(word, choices)} (choose from {', '.join(choices)})"
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    def verb_parser(self, verb: Optional[str]) -> Optional[argparse.ArgumentParser]:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction) and verb in action.choices:
                return action.choices[verb]
        return None

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        ns, extras = self.parse_known_args(args, namespace)
        if extras:
            target = self.verb_parser(getattr(ns, "verb", None)) or self
            options = [o for a in target._actions for o in a.option_strings]
            word = extras[0]
            if word.startswith("-"):
                name = word.split("=", 1)[0]
                target.error(f"unknown option {name}{_did_you_mean(name, options)}")
            target.error(f"unexpected argument '{word}'" + (f" (and {len(extras) - 1} more)" if len(extras) > 1 else ""))
        return ns


class _Version(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kw: object) -> None:
        super().__init__(option_strings, dest=dest, nargs=0, default=argparse.SUPPRESS,
                         help="print the package and library versions and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: object, values: object, option: object = None) -> None:
        from .. import LibraryLoadError, __version__, library_version
        from .._library import library_path

        try:
            text = f"spikevault {__version__} (libspikevault {library_version()}, {library_path()})"
            code = 0
        except LibraryLoadError as exc:
            text = f"spikevault {__version__} (libspikevault: not loadable: {str(exc).splitlines()[0]})"
            code = EXIT_FAILURE
        print(text)
        parser.exit(code)


def _globals(suppress: bool) -> argparse.ArgumentParser:
    """Global options, accepted before and after the verb."""
    default = argparse.SUPPRESS if suppress else None
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("global options")
    g.add_argument("--vault", metavar="DIR", default=default,
                   help=f"the vault directory (now: {default_vault_dir()})" if not suppress else argparse.SUPPRESS)
    g.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS if suppress else 0,
                   help="more detail on stderr (-vv: tracebacks)" if not suppress else argparse.SUPPRESS)
    g.add_argument("--no-pager", action="store_true", default=argparse.SUPPRESS if suppress else False,
                   help="never page long output (default: $PAGER, else less -FRSX, on a terminal)"
                   if not suppress else argparse.SUPPRESS)
    return p


def build_parser(verb: Optional[str] = None) -> argparse.ArgumentParser:
    """The whole parser; with `verb`, only that verb's module is imported and the other verbs
    are placeholders (enough to parse a command line that names `verb`)."""
    parser = _Parser(prog="spikevault", description=DESCRIPTION, epilog=EPILOG, parents=[_globals(False)],
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    parents = [_globals(True)]
    if verb in VERB_MODULE:
        _module(VERB_MODULE[verb]).add_parser(sub, parents)
        for other in VERBS:
            if other not in sub.choices:
                sub.add_parser(other, add_help=False)
        return parser
    for name in MODULE_NAMES:
        _module(name).add_parser(sub, parents)
    return parser


def _first_word(argv: List[str]) -> int:
    """Index of the first word after the global options (``--vault DIR``, ``-v``, ``--no-pager``),
    ``len(argv)`` when there is none."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--vault":
            i += 2
        elif a.startswith("--vault=") or a in ("-v", "--verbose", "--no-pager") or (a.startswith("-v") and set(a[1:]) == {"v"}):
            i += 1
        else:
            return i
    return len(argv)


def _verb_of(argv: List[str]) -> Optional[str]:
    """The verb of a command line (after `_with_default_verb`), or None when it asks for the
    top-level help or version, or names no verb."""
    i = _first_word(argv)
    return argv[i] if i < len(argv) and argv[i] in VERBS else None


def _with_default_verb(argv: List[str]) -> List[str]:
    """Insert ``list`` where the verb would be when none is given (``spikevault -n 5``)."""
    i = _first_word(argv)
    if i >= len(argv):
        return argv + ["list"]
    a = argv[i]
    if a in VERBS or a in ("-h", "--help", "--version") or not a.startswith("-"):
        return argv  # a word that is no verb is refused with a "did you mean"
    return argv[:i] + ["list"] + argv[i:]


def _value_options(parser: argparse.ArgumentParser) -> Dict[str, bool]:
    """Every option that takes one value, in every verb (``--duration`` → True)."""
    out: Dict[str, bool] = {}
    stack = [parser]
    while stack:
        p = stack.pop()
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack.extend(action.choices.values())
            elif action.option_strings and action.nargs is None and not isinstance(
                    action, (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._CountAction)):
                out.update((o, True) for o in action.option_strings)
    return out


def _all_options(parser: argparse.ArgumentParser) -> set:
    out: set = set()
    stack = [parser]
    while stack:
        p = stack.pop()
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack.extend(action.choices.values())
            out.update(action.option_strings)
    return out


def _join_dash_values(argv: List[str], parser: argparse.ArgumentParser) -> List[str]:
    """``--duration -1s`` → ``--duration=-1s``: argparse would take ``-1s`` for an option and say
    "expected one argument"; joined, the value reaches its parser, which names what is wrong."""
    takes = _value_options(parser)
    known = _all_options(parser)
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if a in takes and nxt is not None and nxt.startswith("-") and nxt.split("=")[0] not in known and len(nxt) > 1 \
                and not nxt.startswith("--"):
            out.append(f"{a}={nxt}" if a.startswith("--") else f"{a}{nxt}")
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def _one_line(message: str) -> str:
    """One line, with what a process or a file name put in it escaped (``visible``)."""
    from ..textsafe import visible
    return visible(" ".join(str(message).split())) or "unknown error"


def main(argv: Optional[Sequence[str]] = None, stdout: Optional[IO[str]] = None, stderr: Optional[IO[str]] = None) -> int:
    from .. import LibraryLoadError, SpikeVaultError
    from .._library import ENV_VAR

    args_list = _with_default_verb(list(sys.argv[1:] if argv is None else argv))
    trailing: List[str] = []
    if "--" in args_list:  # `capture PID --backend command -- tool {pid}`: the tool's argv
        cut = args_list.index("--")
        args_list, trailing = args_list[:cut], args_list[cut + 1:]
    parser = build_parser(_verb_of(args_list))
    args_list = _join_dash_values(args_list, parser)
    try:
        args = parser.parse_args(args_list)
        if trailing and not getattr(args, "accepts_trailing_argv", False):
            parser.error(f"unexpected arguments after --: {' '.join(trailing)}")
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
    if trailing:
        args.command = trailing
    ctx = Context(args, stdout or sys.stdout, stderr or sys.stderr)
    verb = args.verb
    try:
        try:
            return int(args.run(ctx) or 0)
        finally:
            ctx.close()
    except CliError as exc:
        print(f"spikevault {verb}: {_one_line(str(exc))}", file=ctx.stderr)
        return exc.exit_code
    except LibraryLoadError as exc:
        # One line, and every place tried in it: the reader needs all of them to fix it.
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip() and not ln.startswith("Set ")]
        text = "; ".join(lines).replace("Tried, in order:;", "tried, in order:") or "libspikevault cannot be loaded"
        print(f"spikevault {verb}: {_one_line(text)}; set {ENV_VAR} to libspikevault.so's path", file=ctx.stderr)
        return EXIT_FAILURE
    except SpikeVaultError as exc:
        if ctx.verbose >= 2:
            import traceback

            traceback.print_exc(file=ctx.stderr)
        print(f"spikevault {verb}: {_one_line(_explain(exc, ctx))}", file=ctx.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:
        # `spikevault list | head`: the reader left; say nothing, as other Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"spikevault {verb}: interrupted", file=ctx.stderr)
        return 130
    except OSError as exc:
        if ctx.verbose >= 2:
            import traceback

            traceback.print_exc(file=ctx.stderr)
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"spikevault {verb}:{where} {exc.strerror or exc}", file=ctx.stderr)
        return EXIT_FAILURE


def _explain(exc: Exception, ctx: Context) -> str:
    """The library's message, plus what to do for the common cases."""
    from .. import NotFoundError, PermissionDeniedError, UnsafePathError

    text = str(exc)
    args = ctx.args
    if isinstance(exc, NotFoundError) and getattr(args, "id", None) is not None and "no capture" in text.lower():
        return f"no capture with id {args.id} in {ctx.vault_dir} (see '{ctx.suggest('list')}')"
    if isinstance(exc, (PermissionDeniedError, UnsafePathError)) and args.verb != "capture":
        return f"cannot use the vault {ctx.vault_dir}: {text}"
    return text


def entry_point() -> None:
    """The console script."""
    sys.exit(main())
