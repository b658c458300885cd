#!/usr/bin/env python3
"""Start-up of the `spikevault` command as shipped (hand-written tables, colour and progress)
against the same command with `rich` imported for them, measured side by side in one run
(interleaved, median of N runs each): the figure behind docs/decisions.md "CLI rendering".

Usage: startup.py [N]   (default 30; needs `rich` importable for the comparison rows)
Env: SPIKEVAULT_LIBRARY (the library `list` loads), PYTHON (default: this interpreter).
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = os.environ.get("PYTHON", sys.executable)
RICH = "import rich.console, rich.table, rich.progress\n"
RUN = "import sys, runpy\nsys.argv = ['spikevault'] + sys.argv[1:]\nrunpy.run_module('spikevault', run_name='__main__')\n"


def has_rich() -> bool:
    return subprocess.run([PY, "-c", "import rich"], capture_output=True).returncode == 0


def timed(argv, env) -> float:
    t = time.perf_counter()
    r = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit(f"{argv} failed: {r.stderr.decode()[-500:]}")
    return (time.perf_counter() - t) * 1000


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "bindings", "python"), PAGER="cat", NO_COLOR="")
    vault = tempfile.mkdtemp(prefix="sv-bench-cli-")
    seed = ("import spikevault, sys\nwith spikevault.Vault(sys.argv[1] + '/v', durability=0) as v:\n"
            "    for i in range(20): v.save(process_name=f'w{i}', pid=100+i, metric='cpu', value=i, artefacts={'s': b'x'})\n")
    subprocess.run([PY, "-c", seed, vault], env=env, check=True)
    env["SPIKEVAULT_DIR"] = os.path.join(vault, "v")
    cases = {
        "python3 -c pass (the interpreter alone)": [PY, "-c", "pass"],
        "import spikevault.cli.render, colour, progress (the whole package)": [PY, "-c", "import spikevault.cli.render, spikevault.cli.colour, spikevault.cli.progress"],
        "spikevault --help (as shipped)": [PY, "-c", RUN, "--help"],
        "spikevault list, 20 captures (as shipped)": [PY, "-c", RUN, "list"],
    }
    if has_rich():
        cases["import rich.console, rich.table, rich.progress"] = [PY, "-c", RICH]
        cases["spikevault --help with rich imported"] = [PY, "-c", RICH + RUN, "--help"]
        cases["spikevault list, 20 captures, with rich imported"] = [PY, "-c", RICH + RUN, "list"]
    times = {k: [] for k in cases}
    for name, argv in cases.items():
        timed(argv, env)  # warm the page cache once
    for _ in range(n):
        for name, argv in cases.items():  # interleaved: noise hits every case alike
            times[name].append(timed(argv, env))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"CLI start-up, median of {n} interleaved runs ({PY}):")
    for k, v in med.items():
        print(f"  {v:8.1f} ms  {k}")
    if has_rich():
        for shipped, rich in (("spikevault --help (as shipped)", "spikevault --help with rich imported"),
                              ("spikevault list, 20 captures (as shipped)", "spikevault list, 20 captures, with rich imported")):
            print(f"  ratio {med[rich] / med[shipped]:.2f}x  {rich} / as shipped")
        base = med["python3 -c pass (the interpreter alone)"]
        ours = med["import spikevault.cli.render, colour, progress (the whole package)"] - base
        theirs = med["import rich.console, rich.table, rich.progress"] - base
        print(f"  import cost over the bare interpreter: spikevault (package and CLI modules) {ours:.1f} ms, "
              f"rich (console, table, progress) {theirs:.1f} ms")
    else:
        print("  rich is not importable: pip install rich (in a venv) to compare")
    return 0


if __name__ == "__main__":
    sys.exit(main())
