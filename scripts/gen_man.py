#!/usr/bin/env python3
"""Writes the man page and the shell completions of `spikevault` from its argument parser
(spikevault/cli/manpage.py) into bindings/python/spikevault/cli/data/:
spikevault.1, spikevault.bash, _spikevault (zsh).

Usage: gen_man.py [--check]   (--check: regenerate into memory and fail if a committed file differs)
"""
import difflib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
DATA = os.path.join(ROOT, "bindings", "python", "spikevault", "cli", "data")


def generate():
    from spikevault.cli import manpage
    from spikevault.cli.main import build_parser

    with manpage.neutral_environment():
        parser = build_parser()
    return {"spikevault.1": manpage.man_page(parser), "spikevault.bash": manpage.bash_completion(parser),
            "_spikevault": manpage.zsh_completion(parser)}


def main(argv):
    check = argv[1:] == ["--check"]
    if argv[1:] not in ([], ["--check"]):
        sys.exit(__doc__)
    os.environ["COLUMNS"] = "80"  # argparse wraps usage lines by the terminal's width
    stale = []
    for name, text in generate().items():
        path = os.path.join(DATA, name)
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
        if check:
            if old != text:
                stale.append(name)
                sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True), path, "regenerated"))
            continue
        os.makedirs(DATA, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    if stale:
        print(f"gen_man: {', '.join(stale)} stale: run 'python3 scripts/gen_man.py' and commit the result")
        return 1
    print("gen_man: man page and completions " + ("match the parser" if check else f"written to {DATA}"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
