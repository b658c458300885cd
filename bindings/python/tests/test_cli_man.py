"""The man page and shell completions are generated from the parser (scripts/gen_man.py):
the committed files equal a fresh generation, name every verb and option, `man -l` renders
the page, and bash really completes with them (`complete -p`, `compgen` through the function)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from spikevault.cli import manpage
from spikevault.cli.main import VERBS, build_parser
from test_cli import cli_env, run_cli

REPO = Path(__file__).resolve().parent.parent.parent.parent
DATA = Path(__file__).resolve().parent.parent / "spikevault" / "cli" / "data"


def parser():
    with manpage.neutral_environment():
        return build_parser()


def complete(line: str) -> List[str]:
    """What bash offers for ``line`` (the word under the cursor is the last one; a trailing
    space starts a new, empty word), through the generated completion function."""
    script = (f"source {DATA / 'spikevault.bash'}\n"
              'read -ra W <<< "$LINE"\n'
              '[[ "$LINE" == *" " ]] && W+=("")\n'
              'COMP_WORDS=("${W[@]}"); COMP_CWORD=$((${#W[@]} - 1)); COMPREPLY=()\n'
              "_spikevault\n"
              'printf "%s\\n" "${COMPREPLY[@]}"\n')
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], env=dict(os.environ, LINE=line),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return [w for w in r.stdout.splitlines() if w]


def test_committed_files_equal_a_fresh_generation() -> None:
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "gen_man.py"), "--check"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_help_lists_every_verb_and_the_verb_table_is_the_parser_s(lib) -> None:
    names = [n for n, _, _ in manpage.verbs(parser())]
    assert sorted(names) == sorted(VERBS)
    r = run_cli(["--help"])
    assert r.returncode == 0
    text = r.stdout.decode()
    for verb in names:
        assert f"\n    {verb}" in text, f"{verb} missing from spikevault --help"


def test_man_page_and_completions_name_every_verb_and_option() -> None:
    page = (DATA / "spikevault.1").read_text()
    zsh = (DATA / "_spikevault").read_text()
    for verb, _, p in manpage.verbs(parser()):
        assert f'.SH "SPIKEVAULT {verb.upper()}"' in page
        assert f"'{verb}:" in zsh
        offered = complete(f"spikevault {verb} -")
        for option in manpage.options(p):
            assert f"\\fB{option.replace('-', chr(92) + '-')}\\fR" in page or option in ("-h", "--help"), (verb, option)
            assert option in offered, (verb, option, offered)
            assert f"'{option}[" in zsh or f"'*{option}[" in zsh or option in ("-h", "--help"), (verb, option)


def test_bash_completes_verbs_options_choices_and_commands() -> None:
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", f"source {DATA / 'spikevault.bash'}; complete -p spikevault"],
                       capture_output=True, text=True, timeout=30)
    assert r.stdout.strip() == "complete -F _spikevault spikevault", r.stdout + r.stderr
    assert complete("spikevault sh") == ["show"]
    assert set(complete("spikevault ")) == set(VERBS)
    assert complete("spikevault --vault /tmp/v st") == ["stats"]  # an option's value is no verb
    assert complete("spikevault top --so") == ["--sort"]
    assert complete("spikevault top --sort ") == ["cpu", "rss", "io", "fds", "threads", "pid"]
    assert complete("spikevault export --format nd") == ["ndjson"]
    assert complete("spikevault watch --cpu ") == []  # a number: nothing to offer
    assert "--no-pager" in complete("spikevault --no")
    assert "bash" in complete("spikevault record -- bas")  # a program after --


def test_man_renders_the_page() -> None:
    if shutil.which("man") is None:
        pytest.skip("man (man-db) is not installed; scripts/deps.sh installs it")
    env = dict(os.environ, MANWIDTH="100", MANPAGER="cat", PAGER="cat", LANG="C.UTF-8")
    r = subprocess.run(["man", "--warnings", "-l", str(DATA / "spikevault.1")], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", r.stderr  # no roff warnings
    out = r.stdout
    assert out.startswith("SPIKEVAULT(1)")
    for verb in VERBS:
        assert f"SPIKEVAULT {verb.upper()}" in out
    assert "--sort {cpu,rss,io,fds,threads,pid}" in out and "EXIT STATUS" in out and "SPIKEVAULT_DIR" in out
    assert "\\-" not in out and "\\f" not in out  # every roff escape was understood


def test_zsh_completion_parses() -> None:
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed (the completion is generated and checked for names only)")
    r = subprocess.run(["zsh", "-n", str(DATA / "_spikevault")], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def test_make_install_puts_them_where_man_and_bash_completion_look(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    if not (REPO / "build" / "lib" / "libspikevault.so.0").exists():
        pytest.skip("the library is not built (make lib)")
    r = subprocess.run(["make", "-s", "-o", "lib", "install", f"DESTDIR={tmp_path}", "PREFIX=/usr"], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    share = tmp_path / "usr" / "share"
    assert (share / "man" / "man1" / "spikevault.1").read_bytes() == (DATA / "spikevault.1").read_bytes()
    assert (share / "bash-completion" / "completions" / "spikevault").read_bytes() == (DATA / "spikevault.bash").read_bytes()
    assert (share / "zsh" / "site-functions" / "_spikevault").read_bytes() == (DATA / "_spikevault").read_bytes()
