"""The man page (roff), bash and zsh completion of ``spikevault``, generated from its argparse
parser so they cannot drift from it: every verb, every option, every choice. scripts/gen_man.py
writes them into spikevault/cli/data/ (shipped in the wheel, installed by ``make install``);
``make check`` regenerates and diffs them.

Help texts that depend on the environment (the current default vault) are generated in a
neutral environment (``neutral_environment``) so the files are the same on every machine."""

from __future__ import annotations

import argparse
import os
import re
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

__all__ = ["verbs", "man_page", "bash_completion", "zsh_completion", "neutral_environment"]

ENVIRONMENT = [
    ("SPIKEVAULT_DIR", "the vault directory when --vault is not given."),
    ("XDG_STATE_HOME", "the vault is $XDG_STATE_HOME/spikevault when neither --vault nor SPIKEVAULT_DIR is set."),
    ("SPIKEVAULT_LIBRARY", "the path of libspikevault.so to load (else the copy bundled in the package, else "
                           "the system loader)."),
    ("PAGER", "the pager for long output on a terminal (split as words, never run through a shell); unset: "
              "less -FRSX; empty or cat: none."),
    ("NO_COLOR", "when set to a non-empty value, no colour (https://no-color.org); TERM=dumb also turns colour off."),
]
# Option metavars whose values are paths: completed as files (or directories).
FILE_METAVARS = {"FILE", "PATH", "OUT", "OUTPUT"}
DIR_METAVARS = {"DIR"}


@contextmanager
def neutral_environment() -> Iterator[None]:
    """HOME=~ and no SPIKEVAULT_DIR/XDG_STATE_HOME while the parser is built (its --vault help
    names the default vault)."""
    saved = {k: os.environ.get(k) for k in ("HOME", "SPIKEVAULT_DIR", "XDG_STATE_HOME")}
    os.environ["HOME"] = "~"
    os.environ.pop("SPIKEVAULT_DIR", None)
    os.environ.pop("XDG_STATE_HOME", None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise ValueError("the parser has no verbs")


def verbs(parser: argparse.ArgumentParser) -> List[Tuple[str, str, argparse.ArgumentParser]]:
    """(verb, one-line help, its parser), in the parser's order."""
    sub = _subparsers(parser)
    helps = {a.dest: a.help or "" for a in sub._choices_actions}
    return [(name, helps.get(name, ""), p) for name, p in sub.choices.items()]


def _shown(parser: argparse.ArgumentParser) -> List[argparse.Action]:
    return [a for a in parser._actions if a.help != argparse.SUPPRESS and not isinstance(a, argparse._SubParsersAction)]


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    formatter = parser._get_formatter()
    return " ".join(formatter._expand_help(action).split()) if action.help else ""


def _metavar(action: argparse.Action) -> Optional[str]:
    if action.nargs == 0:
        return None
    if action.choices is not None and action.metavar is None:
        return "{" + ",".join(str(c) for c in action.choices) + "}"
    if isinstance(action.metavar, tuple):
        return " ".join(action.metavar)
    return action.metavar or action.dest.upper()


def options(parser: argparse.ArgumentParser) -> List[str]:
    """Every option string a verb's parser accepts, help and suppressed globals included."""
    out: List[str] = []
    for a in parser._actions:
        out.extend(a.option_strings)
    return out


# -- roff --------------------------------------------------------------------------------------

def _roff(text: str) -> str:
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(("\\&" + line if line.startswith((".", "'")) else line) for line in text.split("\n"))


def _usage(parser: argparse.ArgumentParser) -> str:
    usage = parser.format_usage().strip()
    return " ".join(re.sub(r"^usage:\s*", "", usage).split())


def _options_roff(parser: argparse.ArgumentParser, actions: Sequence[argparse.Action]) -> List[str]:
    out: List[str] = []
    for a in actions:
        meta = _metavar(a)
        if a.option_strings:
            names = ", ".join(f"\\fB{_roff(o)}\\fR" + (f" \\fI{_roff(meta)}\\fR" if meta else "") for o in a.option_strings)
        else:
            names = f"\\fI{_roff(meta or a.dest)}\\fR"
        out += [".TP", names, _roff(_help(parser, a))]
    return out


def _block(text: Optional[str]) -> List[str]:
    if not text:
        return []
    return [".PP", ".nf", _roff(text.strip("\n")), ".fi"]


def man_page(parser: argparse.ArgumentParser) -> str:
    """The page names no version: only VERSION spells it (scripts/version.py checks that), and
    ``spikevault --version`` prints it."""
    from .main import DESCRIPTION, EPILOG

    lines = [f'.\\" Generated by scripts/gen_man.py from the spikevault argument parser: do not edit.',
             '.TH SPIKEVAULT 1 "" "SpikeVault" "User Commands"',
             ".SH NAME", "spikevault \\- review, export and capture profiles of processes that spiked",
             ".SH SYNOPSIS", f"\\fBspikevault\\fR [\\fIglobal options\\fR] \\fIVERB\\fR [\\fIoptions\\fR]",
             ".br", "\\fBspikevault\\fR \\fIVERB\\fR \\fB\\-\\-help\\fR",
             ".SH DESCRIPTION", _roff(" ".join(DESCRIPTION.split())),
             ".PP", "Without a verb, \\fBspikevault\\fR runs \\fBlist\\fR.",
             ".SH GLOBAL OPTIONS", "Accepted before and after the verb."]
    lines += _options_roff(parser, [a for a in _shown(parser) if a.option_strings])
    lines += [".SH VERBS"]
    for name, help_text, p in verbs(parser):
        lines += [".TP", f"\\fB{name}\\fR", _roff(help_text)]
    for name, help_text, p in verbs(parser):
        lines += [f'.SH "SPIKEVAULT {name.upper()}"', f"\\fB{_roff(_usage(p))}\\fR"]
        if p.description:
            lines += [".PP", _roff(" ".join(p.description.split()))]
        groups: Dict[str, List[argparse.Action]] = {}
        for group in p._action_groups:
            shown = [a for a in group._group_actions if a.help != argparse.SUPPRESS]
            if shown:
                groups.setdefault(group.title or "options", []).extend(shown)
        for title, actions in groups.items():
            lines += [f'.SS "{_roff(title)}"'] + _options_roff(p, actions)
        lines += _block(p.epilog)
    lines += [".SH EXAMPLES"] + _block(EPILOG.split("\n\nexit status")[0].replace("examples:\n", ""))
    lines += [".SH EXIT STATUS", "0 success, 1 failure, 2 usage error (the option is named, with a fix). "
              "\\fBrecord\\fR exits with its command's status (128+N when signal N ended it).",
              ".SH ENVIRONMENT"]
    for name, text in ENVIRONMENT:
        lines += [".TP", f"\\fB{name}\\fR", _roff(text)]
    lines += [".SH FILES", ".TP", "\\fI~/.local/state/spikevault\\fR",
              "the default vault (a directory of mode 0700: vault.sqlite3 and artefacts/).",
              ".SH SEE ALSO", "\\fBtop\\fR(1), \\fBperf\\fR(1), \\fBcoredumpctl\\fR(1); the JSON schemas: "
              "docs/json.md in the SpikeVault sources."]
    return "\n".join(lines) + "\n"


# -- bash --------------------------------------------------------------------------------------

def _q(words: Sequence[str]) -> str:
    return "'" + " ".join(words).replace("'", "'\\''") + "'"


def _value_kinds(parser: argparse.ArgumentParser) -> Tuple[Dict[str, List[str]], List[str], List[str], List[str]]:
    """Options with choices (and their values), file options, directory options, other
    options that take a value."""
    choices: Dict[str, List[str]] = {}
    files: List[str] = []
    dirs: List[str] = []
    valued: List[str] = []
    for a in parser._actions:
        if not a.option_strings or a.nargs == 0:
            continue
        if a.choices is not None:
            for o in a.option_strings:
                choices[o] = [str(c) for c in a.choices]
        elif (a.metavar or "") in DIR_METAVARS:
            dirs.extend(a.option_strings)
        elif (a.metavar or "") in FILE_METAVARS or a.dest in ("output", "rules"):
            files.extend(a.option_strings)
        else:
            valued.extend(a.option_strings)
    return choices, files, dirs, valued


def bash_completion(parser: argparse.ArgumentParser) -> str:
    names = [n for n, _, _ in verbs(parser)]
    global_opts = options(parser)
    g_choices, g_files, g_dirs, g_valued = _value_kinds(parser)
    out = ["# bash completion for spikevault. Generated by scripts/gen_man.py from the argument parser: do not edit.",
           "# Needs only bash (no bash-completion package): complete -F _spikevault spikevault.",
           "_spikevault() {",
           '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="" verb="" i w dashdash=""',
           '    [ "$COMP_CWORD" -gt 0 ] && prev="${COMP_WORDS[COMP_CWORD-1]}"',
           f"    local verbs={_q(names)}",
           f"    local globals={_q(global_opts)}",
           f"    local valued={_q(g_valued + g_files + g_dirs + list(g_choices))}",
           "    for ((i = 1; i < COMP_CWORD; i++)); do",
           '        w="${COMP_WORDS[i]}"',
           '        if [ "$w" = "--" ]; then dashdash=$i; break; fi',
           '        if [ -z "$verb" ]; then',
           '            case " $valued " in *" $w "*) ((i++)); continue;; esac',
           '            case "$w" in -*) ;; *) verb="$w";; esac',
           "        fi",
           "    done",
           '    if [ -n "$dashdash" ]; then  # the command after --: a program, then files',
           '        if [ $((COMP_CWORD - dashdash)) -eq 1 ]; then COMPREPLY=($(compgen -c -- "$cur"));',
           '        else COMPREPLY=($(compgen -f -- "$cur")); fi',
           "        return 0",
           "    fi",
           "    local opts=\"$globals\"",
           '    case "$verb" in']
    for name, _, p in verbs(parser):
        out.append(f"        {name}) opts={_q(options(p))};;")
    out += ["    esac",
            '    case "$verb:$prev" in']
    for name, _, p in [("", "", parser)] + verbs(parser):
        choices, files, dirs, valued = _value_kinds(p)
        pattern = f"{name}:" if name else "*:"
        for o, values in choices.items():
            out.append(f'        {pattern}{o}) COMPREPLY=($(compgen -W {_q(values)} -- "$cur")); return 0;;')
        for o in files:
            out.append(f'        {pattern}{o}) COMPREPLY=($(compgen -f -- "$cur")); return 0;;')
        for o in dirs:
            out.append(f'        {pattern}{o}) COMPREPLY=($(compgen -d -- "$cur")); return 0;;')
        for o in valued:
            out.append(f"        {pattern}{o}) return 0;;  # a value: nothing to offer")
    out += ["    esac",
            '    if [[ "$cur" == -* ]]; then',
            '        COMPREPLY=($(compgen -W "$opts" -- "$cur"))',
            '    elif [ -z "$verb" ]; then',
            '        COMPREPLY=($(compgen -W "$verbs" -- "$cur"))',
            "    fi",
            "    return 0",
            "}",
            "complete -F _spikevault spikevault",
            ""]
    return "\n".join(out)


# -- zsh ---------------------------------------------------------------------------------------

def _zsh_text(text: str) -> str:
    return " ".join(text.split()).replace("\\", "").replace("'", "").replace("[", "(").replace("]", ")").replace(":", " -")


def _zsh_specs(parser: argparse.ArgumentParser) -> List[str]:
    specs = []
    for a in parser._actions:
        if not a.option_strings or isinstance(a, argparse._HelpAction):
            continue
        text = _zsh_text(_help(parser, a)) if a.help != argparse.SUPPRESS else ""
        if a.nargs == 0:
            value = ""
        elif a.choices is not None:
            value = f":{a.dest}:({' '.join(str(c) for c in a.choices)})"
        elif (a.metavar or "") in DIR_METAVARS:
            value = f":{a.metavar}:_files -/"
        elif (a.metavar or "") in FILE_METAVARS or a.dest in ("output", "rules"):
            value = f":{a.metavar or 'FILE'}:_files"
        else:
            value = f":{(a.metavar or a.dest).lower()}: "
        repeat = "*" if isinstance(a, (argparse._CountAction, argparse._AppendAction)) else ""
        for o in a.option_strings:
            specs.append(f"'{repeat}{o}[{text}]{value}'")
    specs.append("'(-h --help)'{-h,--help}'[show help]'")
    return specs


def zsh_completion(parser: argparse.ArgumentParser) -> str:
    out = ["#compdef spikevault",
           "# zsh completion for spikevault. Generated by scripts/gen_man.py from the argument parser: do not edit.",
           "_spikevault() {",
           "    local curcontext=\"$curcontext\" state line",
           "    local -a verbs",
           "    verbs=("]
    for name, help_text, _ in verbs(parser):
        out.append(f"        '{name}:{_zsh_text(help_text)}'")
    out += ["    )",
            "    _arguments -C \\"]
    out += [f"        {s} \\" for s in _zsh_specs(parser)]  # the global options
    out += ["        '1: :->verb' '*:: :->args'",
            "    case $state in",
            "        verb) _describe 'verb' verbs ;;",
            "        args)",
            "            case $line[1] in"]
    for name, _, p in verbs(parser):
        out.append(f"                {name}) _arguments \\")
        out += [f"                    {s} \\" for s in _zsh_specs(p)]
        # After `--` (record, capture --backend command) a command line: zsh's own completion of one.
        trailing = "'*:: :_normal'" if p.get_default("accepts_trailing_argv") else "'*: :_files'"
        out.append(f"                    {trailing} ;;")
    out += ["            esac ;;",
            "    esac",
            "}",
            '_spikevault "$@"',
            ""]
    return "\n".join(out)
