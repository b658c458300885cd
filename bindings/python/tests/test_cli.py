"""The ``spikevault`` command driven as a user drives it: through pipes (output that
parses, exit codes, one-line errors) and in a real pseudo-terminal (colour, countdown,
refusing binary). The vaults are real, seeded through the Python API or by real captures."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import pytest

import spikevault
from spikevault.cli.cmd_stats import json_row
from spikevault.cli.flamesvg import IMAGE_WIDTH, XPAD

from conftest import cpu_percent

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
SCHEMA = PACKAGE_ROOT.parent.parent.parent / "shared" / "data" / "speedscope-file-format-schema.json"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SVG_NS = "{http://www.w3.org/2000/svg}"

FOLDED = b"main;parse;lex 30\nmain;parse 10\nmain;run;spin 50\nmain;run;io 10\n"
BINARY = b"\x7fELF\x00\x01\x02" + bytes(range(256)) * 4
HOME = os.path.expanduser("~")


def cli_env(vault: Optional[Path] = None, **extra: Optional[str]) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "SPIKEVAULT_DIR", "COLUMNS")}
    env["PYTHONPATH"] = str(PACKAGE_ROOT)
    env["PAGER"] = "cat"  # no pager unless a test asks for one (test_cli_pager.py)
    if vault is not None:
        env["SPIKEVAULT_DIR"] = str(vault)
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def run_cli(args: Sequence[str], vault: Optional[Path] = None, env: Optional[Dict[str, str]] = None,
            stdin: Optional[bytes] = None, timeout: float = 30) -> subprocess.CompletedProcess:
    """``python -m spikevault ARGS`` with stdout and stderr on pipes (bytes)."""
    return subprocess.run([sys.executable, "-m", "spikevault", *args], env=env or cli_env(vault), input=stdin,
                          capture_output=True, timeout=timeout)


def run_pty(args: Sequence[str], env: Dict[str, str], timeout: float = 30, cols: int = 150) -> Tuple[int, str]:
    """Run the command with stdin, stdout and stderr on a real pseudo-terminal; return its
    exit code and everything it wrote (raw, escape sequences included)."""
    import fcntl
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    env = dict(env, TERM="xterm-256color")
    proc = subprocess.Popen([sys.executable, "-m", "spikevault", *args], stdin=slave, stdout=slave, stderr=slave,
                            env=env, start_new_session=True, close_fds=True)
    os.close(slave)
    chunks: List[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the other side closed
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        else:
            proc.kill()
            raise AssertionError(f"timed out; output so far: {b''.join(chunks)!r}")
        code = proc.wait(timeout=10)
    finally:
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def one_line_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    err = result.stderr.decode()
    assert err.count("\n") == 1 and err.endswith("\n"), f"not one line: {err!r}"
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    return err


# -- a seeded vault, shared by the read-only tests -------------------------------------------------

@pytest.fixture(scope="module")
def seeded(lib, tmp_path_factory: pytest.TempPathFactory) -> Tuple[Path, Dict[str, int]]:
    path = tmp_path_factory.mktemp("cli") / "vault"
    now = datetime.now(timezone.utc)
    ids = {}
    with spikevault.Vault(path, durability=0) as v:
        ids["worker_cpu"] = v.save(process_name="worker", pid=101, metric="cpu", value=97.5, duration=5,
                                   captured_at=now - timedelta(minutes=3, seconds=10),
                                   artefacts={"oncpu.folded": FOLDED, "procfs.json": b'{"samples": []}'})
        ids["server_mem"] = v.save(process_name="Python3 server", pid=202, metric="memory", value=2048,
                                   captured_at=now - timedelta(hours=3), artefacts={"procfs.json": b"{}"})
        ids["home_tool"] = v.save(process_name=f"{HOME}/bin/tool", pid=303, metric="cpu", value=50,
                                  captured_at=now - timedelta(days=2), artefacts={"oncpu.folded": f"x;{HOME}/lib/y.so 1\n".encode()},
                                  notes={"cwd": f"{HOME}/src", "who": os.path.basename(HOME)})
        ids["worker_disk"] = v.save(process_name="worker", pid=101, metric="diskIO", value=1.5e8,
                                    captured_at=now - timedelta(minutes=30), artefacts={"core.bin": BINARY})
    return path, ids


def listed_ids(result: subprocess.CompletedProcess) -> List[int]:
    assert result.returncode == 0, result.stderr
    return [r["id"] for r in json.loads(result.stdout)]


# -- global options -------------------------------------------------------------------------------

def test_version_help_and_entry_points(lib, tmp_path: Path) -> None:
    r = run_cli(["--version"])
    assert r.returncode == 0
    assert re.fullmatch(rb"spikevault \d+\.\d+\.\d+ \(libspikevault \d+\.\d+\.\d+, .+\)\n", r.stdout), r.stdout
    h = run_cli(["--help"])
    assert h.returncode == 0 and b"examples:" in h.stdout and b"exit status" in h.stdout
    for verb in ("list", "show", "dump", "path", "flamegraph", "export", "stats", "purge", "capture", "watch"):
        assert verb.encode() in h.stdout
        vh = run_cli([verb, "--help"])
        assert vh.returncode == 0 and b"usage: spikevault " + verb.encode() in vh.stdout
    # The console-script function is the same main.
    code = "import sys; from spikevault.cli.main import entry_point; sys.argv=['spikevault','--version']; entry_point()"
    e = subprocess.run([sys.executable, "-c", code], env=cli_env(), capture_output=True)
    assert e.returncode == 0 and e.stdout == r.stdout


def test_default_vault_location(lib, tmp_path: Path) -> None:
    from spikevault.cli.common import default_vault_dir

    assert default_vault_dir({"SPIKEVAULT_DIR": "/a", "XDG_STATE_HOME": "/b", "HOME": "/h"}) == "/a"
    assert default_vault_dir({"XDG_STATE_HOME": "/b", "HOME": "/h"}) == "/b/spikevault"
    assert default_vault_dir({"XDG_STATE_HOME": "relative", "HOME": "/h"}) == "/h/.local/state/spikevault"
    assert default_vault_dir({"HOME": "/h"}, platform="linux") == "/h/.local/state/spikevault"
    # macOS (docs/decisions.md): Application Support, unless one of the variables says otherwise.
    assert default_vault_dir({"HOME": "/h"}, platform="darwin") == "/h/Library/Application Support/SpikeVault"
    assert default_vault_dir({"SPIKEVAULT_DIR": "/a", "HOME": "/h"}, platform="darwin") == "/a"
    # End to end: XDG_STATE_HOME is used when SPIKEVAULT_DIR is unset; --vault wins over both.
    (tmp_path / "xdg").mkdir()
    with spikevault.Vault(tmp_path / "xdg" / "spikevault") as v:
        v.save(process_name="xdg-proc", pid=1, metric="cpu", value=1)
    env = cli_env(None, XDG_STATE_HOME=str(tmp_path / "xdg"), HOME=str(tmp_path / "home"))
    r = run_cli(["--json"], env=env)
    assert [x["processName"] for x in json.loads(r.stdout)] == ["xdg-proc"]
    r = run_cli(["--vault", str(tmp_path / "none"), "list"], env=env)
    assert r.returncode == 1
    one_line_error(r, str(tmp_path / "none"), "--vault")
    assert not (tmp_path / "none").exists()  # reading never creates a vault


def test_library_not_found_is_one_line(seeded) -> None:
    path, _ = seeded
    r = run_cli(["list"], env=cli_env(path, SPIKEVAULT_LIBRARY="/nonexistent/libspikevault.so"))
    assert r.returncode == 1
    one_line_error(r, "libspikevault was not found", "SPIKEVAULT_LIBRARY")
    v = run_cli(["--version"], env=cli_env(path, SPIKEVAULT_LIBRARY="/nonexistent/libspikevault.so"))
    assert v.returncode == 1 and v.stdout.startswith(b"spikevault 0.") and b"not loadable" in v.stdout


def test_verbose_names_vault(seeded) -> None:
    path, _ = seeded
    r = run_cli(["-v", "list", "--json"], path)
    assert r.returncode == 0 and f"opening vault {path}".encode() in r.stderr


# -- list ---------------------------------------------------------------------------------------------

def test_list_table_on_a_pipe(seeded) -> None:
    path, ids = seeded
    r = run_cli([], path)  # list is the default verb
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "\x1b[" not in out  # no colour on a pipe
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "TIME", "PROCESS", "PID", "METRIC", "VALUE", "DURATION", "SIZE", "STATUS",
                                "ARTEFACTS"]
    assert [int(line.split()[0]) for line in lines[1:]] == [ids["home_tool"], ids["server_mem"], ids["worker_disk"],
                                                            ids["worker_cpu"]]  # oldest first
    assert "3 min ago" in lines[4] and "97.5%" in lines[4] and "oncpu.folded,procfs.json" in lines[4]
    assert "2 days ago" in lines[1] and "3 h ago" in lines[2] and "30 min ago" in lines[3]
    assert re.search(r"\d+(\.\d)? (B|kB)\b", lines[4])
    status_col = lines[0].index("STATUS")
    assert all(line[status_col:status_col + 8] == "complete" for line in lines[1:])  # aligned columns
    r2 = run_cli(["--vault", str(path), "-r", "-n", "2"], env=cli_env())
    assert [int(x.split()[0]) for x in r2.stdout.decode().splitlines()[1:]] == [ids["worker_cpu"], ids["worker_disk"]]


def test_list_colour_only_on_a_terminal_and_never_with_no_color(seeded) -> None:
    path, _ = seeded
    code, out = run_pty(["list"], cli_env(path))
    assert code == 0
    assert "\x1b[1m" in out and "\x1b[32mcomplete" in out, out
    assert "3 min ago" in ANSI.sub("", out)
    code, out = run_pty(["list"], cli_env(path, NO_COLOR="1"))
    assert code == 0 and "\x1b[" not in out and "3 min ago" in out


def test_list_narrow_terminal_truncates_to_fit(seeded) -> None:
    path, _ = seeded
    code, out = run_pty(["list"], cli_env(path, NO_COLOR="1"), cols=80)
    assert code == 0
    assert all(len(line) <= 80 for line in out.replace("\r", "").splitlines()), out


def test_list_filters_json(seeded) -> None:
    path, ids = seeded
    now = datetime.now(timezone.utc)

    def q(*args: str) -> List[int]:
        return listed_ids(run_cli(["list", "--json", *args], path))

    assert q() == [ids["home_tool"], ids["server_mem"], ids["worker_disk"], ids["worker_cpu"]]
    assert q("-r") == [ids["worker_cpu"], ids["worker_disk"], ids["server_mem"], ids["home_tool"]]
    assert q("--metric", "cpu") == [ids["home_tool"], ids["worker_cpu"]]
    assert q("--metric", "disk_io") == [ids["worker_disk"]]
    assert q("--process", "WORK") == [ids["worker_disk"], ids["worker_cpu"]]
    assert q("--process", "python*") == [ids["server_mem"]]
    assert q("--process", "*tool") == [ids["home_tool"]]
    assert q("--pid", "202") == [ids["server_mem"]]
    assert q("--since", "2h") == [ids["worker_disk"], ids["worker_cpu"]]
    assert q("--until", "1h") == [ids["home_tool"], ids["server_mem"]]
    iso = (now - timedelta(hours=1)).astimezone().strftime("%Y-%m-%dT%H:%M")
    assert q("--since", iso) == [ids["worker_disk"], ids["worker_cpu"]]
    assert q("--since", "1d", "--until", "1h") == [ids["server_mem"]]
    assert q("--min-value", "97.5") == [ids["server_mem"], ids["worker_disk"], ids["worker_cpu"]]
    assert q("--min-value", "1000", "--metric", "memory") == [ids["server_mem"]]
    assert q("-n", "2") == [ids["worker_disk"], ids["worker_cpu"]]
    assert q("--limit", "1", "--metric", "cpu") == [ids["worker_cpu"]]
    assert q("--process", "nomatch") == []
    record = json.loads(run_cli(["list", "--json", "--pid", "202"], path).stdout)[0]
    assert record["processName"] == "Python3 server" and record["triggerMetric"] == "memory"
    assert record["triggerValue"] == 2048 and record["capturedAt"].endswith("Z") and record["status"] == "complete"
    assert record["artefacts"][0]["kind"] == "procfs.json"
    empty = run_cli(["list", "--process", "nomatch"], path)
    assert empty.returncode == 0 and empty.stdout == b"" and b"No captures match" in empty.stderr


def test_list_usage_errors(seeded) -> None:
    path, _ = seeded
    for args, needle in [(["--since", "5x"], "--since"), (["--metric", "gpu"], "unknown metric"),
                         (["-n", "0"], "--limit"), (["--pid", "abc"], "--pid"), (["--min-value", "-1"], "--min-value"),
                         (["--until", "tuesday"], "--until"), (["--bogus"], "unknown option --bogus"),
                         (["--jsno"], "did you mean '--json'")]:
        r = run_cli(["list", *args], path)
        assert r.returncode == 2, (args, r.stderr)
        one_line_error(r, needle)
    r = run_cli(["list", "--since", "1h", "--until", "2h"], path)
    assert r.returncode == 2
    one_line_error(r, "--since is later than --until")
    r = run_cli(["frobnicate"], path)  # not a verb: refused with exit 2
    assert r.returncode == 2
    one_line_error(run_cli(["lsit"], path), "unknown verb 'lsit'", "did you mean 'list'")


# -- show / dump / path ----------------------------------------------------------------------------

def test_show_text_and_json(seeded) -> None:
    """The library's summary (docs/review.md), redacted by default."""
    path, ids = seeded
    r = run_cli(["show", str(ids["worker_cpu"])], path)
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode()
    assert text.startswith(f"SpikeVault capture {ids['worker_cpu']}: worker (pid 101)\n")
    assert "Trigger:    cpu = 97.50" in text and " UTC / " in text and "Top stacks (oncpu.folded, 100 samples)" in text
    assert "50.0%  50  spin <- run <- main" in text and text.endswith("are masked)\n")
    j = json.loads(run_cli(["show", str(ids["worker_cpu"]), "--json"], path).stdout)
    assert j["topStacks"][0] == {"frames": ["main", "run", "spin"], "samples": 50, "percent": 50}
    assert [s["samples"] for s in j["topStacks"]] == [50, 30, 10, 10] and j["totalSamples"] == 100
    assert j["capturedAtLocal"] and j["storedBytes"] > 0 and j["rawBytes"] == len(FOLDED) + 15 and j["redacted"]
    # Redaction on by default (process name, notes, stack frames), off with --no-redact.
    red = run_cli(["show", str(ids["home_tool"])], path).stdout.decode()
    assert "~/bin/tool (pid 303)" in red and "~/lib/y.so <- x" in red and HOME not in red
    red_json = json.loads(run_cli(["show", str(ids["home_tool"]), "--json"], path).stdout)
    assert red_json["processName"] == "~/bin/tool" and red_json["topStacks"][0]["frames"] == ["x", "~/lib/y.so"]
    raw = json.loads(run_cli(["show", str(ids["home_tool"]), "--json", "--no-redact"], path).stdout)
    assert raw["processName"] == f"{HOME}/bin/tool" and raw["redacted"] is False
    assert raw["topStacks"][0]["frames"] == ["x", f"{HOME}/lib/y.so"]
    r = run_cli(["show", str(ids["worker_cpu"]), "--top", "3"], path)  # the library's summary has no --top
    assert r.returncode == 2


def test_unknown_id_and_bad_id(seeded) -> None:
    path, _ = seeded
    for verb in ("show", "dump", "path", "flamegraph"):
        r = run_cli([verb, "999"], path)
        assert r.returncode == 1, (verb, r.stderr)
        one_line_error(r, "no capture with id 999", "spikevault list")
        r = run_cli([verb, "0"], path)
        assert r.returncode == 2
        one_line_error(r, "not a capture id", "ids start at 1")
        r = run_cli([verb, "99999999999999999999999"], path)
        assert r.returncode == 2
        one_line_error(r, "CAPTURE", "too large")
        r = run_cli([verb, "abc"], path)  # a process MATCH that matches nothing
        assert r.returncode == 1
        one_line_error(r, "no capture of a process matching 'abc'")


def test_dump_and_path(seeded, tmp_path: Path) -> None:
    path, ids = seeded
    r = run_cli(["dump", str(ids["worker_cpu"]), "--kind", "oncpu.folded"], path)
    assert r.returncode == 0 and r.stdout == FOLDED
    r = run_cli(["dump", str(ids["worker_disk"])], path)  # binary is fine on a pipe
    assert r.returncode == 0 and r.stdout == BINARY
    out = tmp_path / "core.bin"
    r = run_cli(["dump", str(ids["worker_disk"]), "-o", str(out)], path)
    assert r.returncode == 0 and out.read_bytes() == BINARY
    r = run_cli(["dump", str(ids["worker_disk"]), "-o", str(out)], path)
    assert r.returncode == 1
    one_line_error(r, "already exists")
    r = run_cli(["dump", str(ids["worker_cpu"]), "--kind", "perf.data"], path)
    assert r.returncode == 1
    one_line_error(r, "no 'perf.data' artefact", "oncpu.folded")
    p = run_cli(["path", str(ids["worker_cpu"]), "--kind", "procfs.json"], path)
    shown = Path(p.stdout.decode().strip())
    assert p.returncode == 0 and shown.is_absolute() and shown.is_file() and shown.name.endswith(".zst")
    assert shown.parent == path.resolve() / "artefacts"


def test_dump_refuses_binary_on_a_terminal(seeded) -> None:
    path, ids = seeded
    code, out = run_pty(["dump", str(ids["worker_disk"])], cli_env(path))
    assert code == 1 and "refusing to write binary data to a terminal" in out and "ELF" not in out
    code, out = run_pty(["dump", str(ids["worker_cpu"]), "--kind", "oncpu.folded"], cli_env(path))
    assert code == 0 and "main;run;spin 50" in out  # text is fine


# -- flamegraph --------------------------------------------------------------------------------------

def _frames(svg: bytes) -> List[Tuple[str, float, float, float]]:
    root = ET.fromstring(svg)
    frames = root.find(f".//{SVG_NS}g[@id='frames']")
    assert frames is not None
    out = []
    for g in frames.findall(f"{SVG_NS}g"):
        rects, titles = g.findall(f"{SVG_NS}rect"), g.findall(f"{SVG_NS}title")
        assert len(rects) == 1 and len(titles) == 1
        r = rects[0]
        out.append((titles[0].text or "", float(r.get("x")), float(r.get("width")), float(r.get("y"))))
    return out


def test_flamegraph_svg_structure_and_png(seeded, tmp_path: Path) -> None:
    path, ids = seeded
    out = tmp_path / "fg.svg"
    r = run_cli(["flamegraph", str(ids["worker_cpu"]), "-o", str(out)], path)
    assert r.returncode == 0, r.stderr
    svg = out.read_bytes()
    frames = _frames(svg)
    names = {t.rsplit(" (", 1)[0]: (t, x, w, y) for t, x, w, y in frames}
    # One rect per distinct frame of the merged tree: all, main, parse, lex, run, spin, io.
    assert sorted(names) == sorted(["all", "main", "parse", "lex", "run", "spin", "io"])
    assert len(frames) == 7
    full = IMAGE_WIDTH - 2 * XPAD
    counts = {"all": 100, "main": 100, "parse": 40, "lex": 30, "run": 60, "spin": 50, "io": 10}
    for name, count in counts.items():
        title, x, w, y = names[name]
        assert w == pytest.approx(full * count / 100, abs=0.01), name
        assert f"({count} samples, {count:.2f}%)" in title
    assert names["all"][3] > names["main"][3] > names["parse"][3] > names["lex"][3]  # root at the bottom
    assert names["parse"][1] < names["run"][1]  # children sorted by name
    assert names["lex"][1] == pytest.approx(names["parse"][1]) and names["spin"][1] > names["io"][1]
    text = svg.decode()
    for needle in ("function zoom(", "function search(", "function unzoom(", "Reset Zoom", 'id="search"',
                   "addEventListener(\"click\"", "addEventListener(\"mouseover\""):
        assert needle in text
    assert "http://" not in text.replace("http://www.w3.org", "")  # nothing fetched from the network
    rsvg = shutil.which("rsvg-convert")
    if rsvg is None:
        pytest.skip("rsvg-convert is not installed (scripts/deps.sh installs librsvg2-bin): PNG rendering untested")
    png = tmp_path / "fg.png"
    subprocess.run([rsvg, "-o", str(png), str(out)], check=True, timeout=30)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
    width, height = struct.unpack(">II", data[16:24])
    assert width == IMAGE_WIDTH and height > 100


def test_flamegraph_stdout_kind_and_speedscope(seeded, tmp_path: Path) -> None:
    path, ids = seeded
    r = run_cli(["flamegraph", str(ids["home_tool"]), "--title", "T<&>"], path)
    assert r.returncode == 0 and r.stdout.startswith(b"<?xml")
    assert len(_frames(r.stdout)) == 3 and b"T&lt;&amp;&gt;" in r.stdout
    # Frames and the title are redacted by default (as the library's exports), not with --no-redact.
    assert b"~/lib/y.so" in r.stdout and HOME.encode() not in r.stdout
    r = run_cli(["flamegraph", str(ids["home_tool"])], path)
    assert b"~/bin/tool (pid 303) oncpu.folded" in r.stdout and HOME.encode() not in r.stdout
    raw = run_cli(["flamegraph", str(ids["home_tool"]), "--no-redact"], path)
    assert raw.returncode == 0 and f"{HOME}/lib/y.so".encode() in raw.stdout
    out = tmp_path / "p.speedscope.json"
    r = run_cli(["flamegraph", str(ids["worker_cpu"]), "--format", "speedscope", "-o", str(out)], path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    prof = doc["profiles"][0]
    assert prof["type"] == "sampled" and len(prof["samples"]) == len(prof["weights"]) == 4
    assert sum(prof["weights"]) == 100 == prof["endValue"]
    names = [f["name"] for f in doc["shared"]["frames"]]
    assert len(names) == len(set(names))
    stacks = {";".join(names[i] for i in sample): w for sample, w in zip(prof["samples"], prof["weights"])}
    assert stacks == {"main;parse;lex": 30, "main;parse": 10, "main;run;spin": 50, "main;run;io": 10}
    # The library's writer: stdout works too, redacted unless --no-redact; an existing file is replaced.
    r = run_cli(["flamegraph", str(ids["home_tool"]), "--format", "speedscope"], path)
    assert r.returncode == 0 and "~/lib/y.so" in [f["name"] for f in json.loads(r.stdout)["shared"]["frames"]]
    r = run_cli(["flamegraph", str(ids["home_tool"]), "--format", "speedscope", "--no-redact", "-o", str(out)], path)
    assert r.returncode == 0 and f"{HOME}/lib/y.so" in out.read_text()
    r = run_cli(["flamegraph", str(ids["home_tool"]), "--format", "speedscope", "--title", "x"], path)
    assert r.returncode == 2
    one_line_error(r, "--title is for --format svg")
    if not SCHEMA.exists():
        pytest.skip(f"speedscope schema not found at {SCHEMA}: schema validation not run")
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema not installed: schema validation not run")
    validator = jsonschema.Draft6Validator(json.loads(SCHEMA.read_text()))
    errors = list(validator.iter_errors(doc))
    assert not errors, errors[0].message


def test_flamegraph_without_stacks(seeded) -> None:
    path, ids = seeded
    r = run_cli(["flamegraph", str(ids["server_mem"]), "-o", "/dev/null"], path)
    assert r.returncode == 1
    one_line_error(r, "has no stack artefact", "procfs.json", "--backend")
    r = run_cli(["flamegraph", str(ids["worker_cpu"]), "--kind", "offcpu.folded"], path)
    assert r.returncode == 1
    one_line_error(r, "no 'offcpu.folded' artefact")
    r = run_cli(["flamegraph", str(ids["worker_cpu"]), "--kind", "procfs.json"], path)
    assert r.returncode == 1
    one_line_error(r, "no stacks in folded format")
    r = run_cli(["flamegraph", str(ids["worker_cpu"]), "--format", "png"], path)
    assert r.returncode == 2
    r = run_cli(["flamegraph", str(ids["worker_cpu"]), "-o", "/nonexistent-dir/x.svg"], path)
    assert r.returncode == 1
    one_line_error(r, "/nonexistent-dir", "does not exist")


# -- export / stats / watch ------------------------------------------------------------------------

def test_export_formats_and_redaction(seeded, tmp_path: Path) -> None:
    path, ids = seeded
    j = json.loads(run_cli(["export"], path).stdout)
    assert [x["id"] for x in j] == [ids["home_tool"], ids["server_mem"], ids["worker_disk"], ids["worker_cpu"]]
    assert j[0]["processName"] == "~/bin/tool" and j[0]["notes"]["cwd"] == "~/src"
    user = os.path.basename(HOME)
    if user:
        assert j[0]["notes"]["who"] in ("<user>", user)  # redacted when HOME's name is the user name
    raw = json.loads(run_cli(["export", "--no-redact"], path).stdout)
    assert raw[0]["processName"] == f"{HOME}/bin/tool"
    nd = run_cli(["export", "--format", "ndjson", "--metric", "cpu", "-r"], path)
    assert [json.loads(line)["id"] for line in nd.stdout.decode().splitlines()] == [ids["worker_cpu"], ids["home_tool"]]
    out = tmp_path / "x.csv"
    r = run_cli(["export", "--format", "csv", "-o", str(out), "--since", "1d"], path)
    assert r.returncode == 0, r.stderr
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(x["id"]) for x in rows] == [ids["server_mem"], ids["worker_disk"], ids["worker_cpu"]]
    assert rows[2]["artefactKinds"] == "oncpu.folded;procfs.json" and float(rows[1]["triggerValue"]) == 1.5e8
    assert out.read_bytes().count(b"\r\n") == 4  # RFC 4180 line ends
    r = run_cli(["export", "--format", "csv", "-o", str(out)], path)
    assert r.returncode == 1
    one_line_error(r, "already exists", "--force")
    assert run_cli(["export", "--format", "json", "-o", str(out), "--force"], path).returncode == 0
    assert isinstance(json.loads(out.read_text()), list)


def test_export_selection_order_and_file_errors(seeded, tmp_path: Path) -> None:
    path, ids = seeded
    # -n N is the newest N either way: oldest first as `list` shows them, newest first with -r.
    newest2 = [x["id"] for x in json.loads(run_cli(["export", "-n", "2"], path).stdout)]
    assert newest2 == [ids["worker_disk"], ids["worker_cpu"]] == listed_ids(run_cli(["list", "--json", "-n", "2"], path))
    assert [x["id"] for x in json.loads(run_cli(["export", "-n", "2", "-r"], path).stdout)] == newest2[::-1]
    assert [x["id"] for x in json.loads(run_cli(["export", "-n", "9"], path).stdout)] == \
        [ids["home_tool"], ids["server_mem"], ids["worker_disk"], ids["worker_cpu"]]
    assert [x["id"] for x in json.loads(run_cli(["export", "--process", "PYTHON*"], path).stdout)] == [ids["server_mem"]]
    assert json.loads(run_cli(["export", "--process", "nomatch"], path).stdout) == []
    # The library's columns: capturedAt in the stored time form (capturedAtUTC, kept for old
    # readers, is the same text), as `list --json` and `show --json` give it.
    rec = json.loads(run_cli(["export", "--pid", "202"], path).stdout)[0]
    assert rec["capturedAt"] == rec["capturedAtUTC"] and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z", rec["capturedAt"])
    listed = [x for x in json.loads(run_cli(["list", "--json", "-n", "9"], path).stdout) if x["id"] == rec["id"]]
    shown = json.loads(run_cli(["show", str(rec["id"]), "--json"], path).stdout)
    assert listed[0]["capturedAt"] == shown["capturedAt"] == rec["capturedAt"]
    # Output path errors: one line, exit 1, nothing written.
    r = run_cli(["export", "-o", str(tmp_path / "missing" / "x.json")], path)
    assert r.returncode == 1
    one_line_error(r, str(tmp_path / "missing"), "does not exist")
    existing = tmp_path / "e.ndjson"
    existing.write_text("keep")
    for fmt in ("ndjson", "bundle", "duckdb"):
        r = run_cli(["export", "--format", fmt, "-o", str(existing)], path)
        assert r.returncode == 1, (fmt, r.stderr)
        one_line_error(r, "already exists", "--force")
        assert existing.read_text() == "keep"
    r = run_cli(["export", "--format", "ndjson", "-o", str(existing), "--force"], path)
    assert r.returncode == 0 and len(existing.read_text().splitlines()) == 4
    r = run_cli(["export", "-o", str(tmp_path)], path)
    assert r.returncode == 1
    one_line_error(r, "is a directory")
    # Usage errors: exit 2, one line.
    for args, needle in [(["--format", "bundle"], "-o PATH"), (["--format", "duckdb"], "-o PATH"),
                         (["--format", "duckdb", "--metric", "cpu", "-o", str(tmp_path / "d")], "drop the filters"),
                         (["--process", "[abc"], "unmatched"), (["--format", "xml"], "--format"),
                         (["--since", "5x"], "--since")]:
        r = run_cli(["export", *args], path)
        assert r.returncode == 2, (args, r.stderr)
        one_line_error(r, needle)


def test_export_bundle(seeded, tmp_path: Path) -> None:
    import tarfile

    path, ids = seeded
    out = tmp_path / "b.tar"
    r = run_cli(["export", "--format", "bundle", "--metric", "cpu", "-o", str(out)], path)
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""  # no progress bar off a terminal
    with tarfile.open(out) as tar:
        names = tar.getnames()
        meta = json.load(tar.extractfile("metadata.json"))
    assert meta["format"] == "spikevault-bundle" and meta["redacted"] is True
    assert [x["id"] for x in meta["records"]] == [ids["home_tool"], ids["worker_cpu"]]
    assert meta["records"][0]["processName"] == "~/bin/tool" and HOME not in json.dumps(meta)
    assert len([n for n in names if n.startswith("artefacts/")]) == 3 and names[-1] == "metadata.json"
    r = run_cli(["export", "--format", "bundle", "--pid", "303", "--no-redact", "--force", "-o", str(out)], path)
    assert r.returncode == 0, r.stderr
    with tarfile.open(out) as tar:
        meta = json.load(tar.extractfile("metadata.json"))
    assert meta["redacted"] is False and meta["records"][0]["processName"] == f"{HOME}/bin/tool"


def test_export_bundle_progress_bar_on_a_terminal(lib, tmp_path: Path) -> None:
    path = tmp_path / "v"
    _make_vault(path, [5, 4, 3, 2, 1], size=400_000)  # 2 MB of incompressible artefacts: many updates
    out = tmp_path / "big.tar"
    # Random bytes are binary: only an unredacted bundle carries them.
    code, text = run_pty(["export", "--format", "bundle", "--no-redact", "-o", str(out)], cli_env(path))
    assert code == 0, text
    bars = re.findall(r"Bundling to big\.tar \[([#-]{30})\]\s+(\d+)%  [\d.]+ (?:B|KiB|MiB) / [\d.]+ MiB", text)
    assert len(bars) >= 1, text  # at most 10 redraws a second (test_cli_details.py counts them)
    percents = [int(p) for _, p in bars]
    assert percents == sorted(percents) and percents[-1] == 100 and bars[-1][0] == "#" * 30
    assert text.endswith("\r\x1b[2K")  # the bar erases its line when done
    assert out.stat().st_size > 2_000_000


def _normalised(rows: List[dict]) -> List[str]:
    return sorted(json.dumps({k: float(v) if isinstance(v, (int, float)) else v for k, v in r.items()}, sort_keys=True)
                  for r in rows)


def test_stats_sqlite(seeded) -> None:
    path, ids = seeded
    with spikevault.Vault(path) as v:
        expected = {t: v.analytics(name) for t, name in [("peak", "peak-by-process"), ("hourly", "captures-per-hour"),
                                                         ("top", "top-processes"), ("p95", "p95-by-process")]}
    for template, rows in expected.items():
        r = run_cli(["stats", "--template", template, "--json"], path)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == [json_row(x) for x in rows]  # times as every verb writes them
    r = run_cli(["stats"], path)  # peak by default, as a table
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[0].split() == ["PROCESS", "METRIC", "PEAK", "PEAK", "AT", "CAPTURES"] and len(lines) == 5
    assert re.search(r"^worker\s+cpu\s+97\.5%\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+1$", r.stdout.decode(), re.M)
    hourly = json.loads(run_cli(["stats", "--template", "hourly", "--metric", "cpu", "--json"], path).stdout)
    assert {x["triggerMetric"] for x in hourly} == {"cpu"} and sum(x["captures"] for x in hourly) == 2
    recent = json.loads(run_cli(["stats", "--since", "1h", "--json"], path).stdout)
    assert sorted((x["processName"], x["triggerMetric"]) for x in recent) == [("worker", "cpu"), ("worker", "diskIO")]
    assert len(json.loads(run_cli(["stats", "--template", "top", "-n", "1", "--json"], path).stdout)) == 1
    empty = run_cli(["stats", "--since", "2026-01-01", "--until", "2026-01-02"], path)
    assert empty.returncode == 0 and empty.stdout == b"" and b"No captures" in empty.stderr
    for args, needle in [(["--template", "median"], "--template"), (["--engine", "postgres"], "--engine"),
                         (["--since", "5x"], "--since"), (["--since", "1h", "--until", "2h"], "later than"),
                         (["--template", "top", "--metric", "cpu"], "--metric")]:
        r = run_cli(["stats", *args], path)
        assert r.returncode == 2, (args, r.stderr)
        one_line_error(r, needle)


def test_stats_and_export_duckdb(seeded, tmp_path: Path) -> None:
    path, _ = seeded
    # The duckdb CLI missing (a PATH without it): one line naming the fix, exit 1, nothing left behind.
    (tmp_path / "empty-bin").mkdir()
    env = cli_env(path, PATH=str(tmp_path / "empty-bin"), SPIKEVAULT_DUCKDB=None)
    r = run_cli(["stats", "--engine", "duckdb"], env=env)
    assert r.returncode == 1
    one_line_error(r, "spikevault stats:", "duckdb", "pip install duckdb-cli")
    r = run_cli(["export", "--format", "duckdb", "-o", str(tmp_path / "s.duckdb")], env=env)
    assert r.returncode == 1
    one_line_error(r, "spikevault export:", "pip install duckdb-cli")
    assert not (tmp_path / "s.duckdb").exists()
    duckdb = os.environ.get("SPIKEVAULT_DUCKDB") or shutil.which("duckdb")
    if duckdb is None:
        pytest.skip("the duckdb CLI is not installed (scripts/deps.sh installs duckdb-cli): DuckDB engine untested")
    for template in ("peak", "hourly", "top", "p95"):
        rows = {}
        for engine in ("sqlite", "duckdb"):
            r = run_cli(["stats", "--template", template, "--engine", engine, "--json", "--since", "7d"], path)
            assert r.returncode == 0, r.stderr
            rows[engine] = json.loads(r.stdout)
        assert rows["duckdb"] and _normalised(rows["duckdb"]) == _normalised(rows["sqlite"]), template
    r = run_cli(["stats", "--template", "top", "--engine", "duckdb"], path)
    assert r.returncode == 0 and r.stdout.decode().splitlines()[0].split() == ["PROCESS", "CAPTURES", "PEAK", "RANK"]
    snapshot = tmp_path / "s.duckdb"
    r = run_cli(["export", "--format", "duckdb", "-o", str(snapshot)], path)
    assert r.returncode == 0, r.stderr
    q = subprocess.run([duckdb, "-readonly", "-json", str(snapshot), "-c",
                        "select count(*) as n from profile_capture; select processName from profile_capture where pid = 303"],
                       capture_output=True, timeout=60)
    assert q.returncode == 0, q.stderr
    text = q.stdout.decode()
    assert '"n":4' in text.replace(" ", "") and "~/bin/tool" in text and HOME not in text  # redacted by default


# -- watch (the library's monitor) -------------------------------------------------------------------

def test_watch_rules_from_flags_and_toml(seeded, tmp_path: Path) -> None:
    path, _ = seeded
    r = run_cli(["watch", "--cpu", "90", "--sustain", "30s", "--memory", "2G", "--include", "java*",
                 "--cooldown", "5m", "--max-per-hour", "4", "--check"], path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == [
        "rule 1: cpu >= 90% for 30s include java*", "rule 2: memory >= 1.9 GiB for 30s include java*",
        "capture: auto for 5s; cooldown 5m; max 4 per hour; sampling every 1s; history 60s per process (at most 16 MiB)"]
    r = run_cli(["watch", "--defaults", "--check"], path)
    assert r.returncode == 0 and len(r.stdout.decode().splitlines()) == 6
    # No rule flag: the library's defaults (spikevault.default_rules()).
    r = run_cli(["watch", "--check"], path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines()[:5] == [
        "rule 1: cpu >= 90% for 30s", "rule 2: memory >= 2 GiB", "rule 3: diskIO >= 100 MiB/s for 30s",
        "rule 4: threads >= 1000", "rule 5: fds >= 5000"]
    r = run_cli(["watch", "--io", "100MiB", "--sustain", "3s", "--check"], path)
    assert r.stdout.decode().splitlines()[0] == "rule 1: diskIO >= 100 MiB/s for 3s"
    rules = tmp_path / "rules.toml"
    rules.write_text('cooldown = "10m"\n[capture]\nbackend = "eu-stack"\nduration = "2s"\n'
                     '[[rules]]\nmetric = "cpu"\nabove = 80\nsustain = "10s"\n'
                     '[[rules]]\nmetric = "fds"\nabove = 5000\nuids = [1000]\n')
    r = run_cli(["watch", "--rules", str(rules), "--check"], path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines()[:2] == ["rule 1: cpu >= 80% for 10s", "rule 2: fds >= 5000 uid 1000"]
    assert "eu-stack for 2s; cooldown 10m" in r.stdout.decode()
    cases = [
        (["--cpu", "lots"], 2, "--cpu"), (["--memory", "2X"], 2, "--memory"), (["--sustain", "5x", "--cpu", "1"], 2, "--sustain"),
        (["--rules", str(rules), "--cpu", "90"], 2, "cannot be combined"), (["--for", "0s"], 2, "--for"),
        (["--cpu", "5", "--duration", "0s"], 2, "--duration"), (["--io", "fast"], 2, "--io"),
        (["--rules", str(tmp_path / "missing.toml")], 1, "cannot read the rules file"),
    ]
    bad = tmp_path / "bad.toml"
    bad.write_text("[[rules]\nmetric=")
    cases.append((["--rules", str(bad)], 2, "not valid TOML"))
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[[rules]]\nmetric = "cpu"\nabove = 90\nsustian = "3s"\n')
    cases.append((["--rules", str(wrong)], 2, "unknown key 'sustian'"))
    for args, code, needle in cases:
        r = run_cli(["watch", *args, "--check"], path)
        assert r.returncode == code, (args, r.stderr)
        one_line_error(r, needle)


@pytest.fixture
def burner() -> Iterator[subprocess.Popen]:
    """A CPU burner with its own process name (comm 'svburn'), so a watch rule can match it alone."""
    code = "import ctypes\nctypes.CDLL(None).prctl(15, b'svburn', 0, 0, 0)\nwhile True: pass"
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_watch_fires_and_captures_a_cpu_burner(lib, tmp_path: Path, burner: subprocess.Popen) -> None:
    path = tmp_path / "v"
    # The threshold follows what the burner actually gets (50 % of a core when it gets nearly
    # a core, else half of what it gets):
    # on a loaded 2-core machine a busy process gets well under a core.
    got = cpu_percent(burner.pid)
    cpu = 50 if got >= 90 else max(5, min(50, int(got / 2)))
    started = time.monotonic()
    r = run_cli(["watch", "--cpu", str(cpu), "--sustain", "2s", "--for", "12s", "--include", "svburn",
                 "--backend", "procfs", "--duration", "1s", "--history", "30s"], path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - started > 11  # ran for its --for
    out, err = r.stdout.decode(), r.stderr.decode()
    lines = out.splitlines()
    fired = [line for line in lines if " fired " in line]
    captured = [line for line in lines if " captured " in line]
    assert len(fired) == 1 and len(captured) == 1, out  # the 10-minute cooldown: once
    assert re.fullmatch(rf"\d\d:\d\d:\d\d fired +rule 1 \(cpu >= {cpu}% for 2s include svburn\): svburn \(pid {burner.pid}\) cpu "
                        r"\d+(\.\d)?%", fired[0]), fired[0]
    m = re.fullmatch(rf"\d\d:\d\d:\d\d captured +svburn \(pid {burner.pid}\): capture (\d+) \(spikevault show \d+\)",
                     captured[0])
    assert m, captured[0]
    assert lines.index(fired[0]) < lines.index(captured[0])
    assert "watching with 1 rule" in err and "stopped after" in err and "1 fired, 1 captured" in err, err
    records = json.loads(run_cli(["list", "--json"], path).stdout)
    assert [x["id"] for x in records] == [int(m.group(1))]
    rec = records[0]
    assert rec["pid"] == burner.pid and rec["triggerMetric"] == "cpu" and rec["triggerValue"] >= cpu, (rec, got)
    assert rec["notes"]["monitor"]["threshold"] == cpu and rec["notes"]["monitor"]["sustainSeconds"] == 2
    # The history from before the trigger is stored with the capture (the 2 s sustain and more).
    import spikevault

    with spikevault.Vault(str(path)) as vault:
        history = json.loads(vault.read_artefact(rec["id"], kind="history.json"))
    assert history["pid"] == burner.pid and history["processName"] == "svburn"
    assert min(s["t"] for s in history["samples"]) <= -2, history["samples"]


def test_watch_history_flags_and_toml_keys(seeded, tmp_path: Path) -> None:
    path, _ = seeded
    r = run_cli(["watch", "--cpu", "90", "--history", "2m", "--history-memory", "1MiB", "--check"], path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines()[-1].endswith("; history 2m per process (at most 1.0 MiB)")
    r = run_cli(["watch", "--cpu", "90", "--history", "0", "--check"], path)
    assert r.stdout.decode().splitlines()[-1].endswith("; history off")
    rules = tmp_path / "history.toml"
    rules.write_text('history = "90s"\nhistory_memory = "4MiB"\n[[rules]]\nmetric = "cpu"\nabove = 80\n')
    r = run_cli(["watch", "--rules", str(rules), "--check"], path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines()[-1].endswith("; history 1m30s per process (at most 4.0 MiB)"), r.stdout
    r = run_cli(["watch", "--rules", str(rules), "--history", "0", "--check"], path)  # the flag overrides the file
    assert r.stdout.decode().splitlines()[-1].endswith("; history off")
    cases = [
        (["--cpu", "1", "--history", "-5s"], "--history"), (["--cpu", "1", "--history", "2h"], "--history must be 0 (off) to 1h"),
        (["--cpu", "1", "--history", "soon"], "--history"), (["--cpu", "1", "--history-memory", "1K"], "64KiB to 1GiB"),
        (["--cpu", "1", "--history-memory", "2GiB"], "64KiB to 1GiB"),
    ]
    for body, needle in (('history = "2h"', "history must be"), ('history = true', "history"),
                         ('history_memory = "10"', "history_memory"), ('history_memory = [1]', "history_memory")):
        bad = tmp_path / f"bad{len(cases)}.toml"
        bad.write_text(body + '\n[[rules]]\nmetric = "cpu"\nabove = 80\n')
        cases.append((["--rules", str(bad)], needle))
    r = run_cli(["watch", "--cpu", "90", "--history-stacks", "5s", "--check"], path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines()[0] == "rule 1: cpu >= 90% stacks every 5s"
    stacks = tmp_path / "stacks.toml"
    stacks.write_text('[[rules]]\nmetric = "cpu"\nabove = 80\nhistory_stacks = "2s"\n')
    r = run_cli(["watch", "--rules", str(stacks), "--check"], path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines()[0] == "rule 1: cpu >= 80% stacks every 2s"
    cases += [(["--cpu", "1", "--history-stacks", "100ms"], "--history-stacks must be 0 (off) or 500ms to 60s"),
              (["--cpu", "1", "--history-stacks", "2m"], "--history-stacks"),
              (["--rules", str(stacks), "--history-stacks", "1s"], "cannot be combined")]
    bad_stacks = tmp_path / "bad-stacks.toml"
    bad_stacks.write_text('[[rules]]\nmetric = "cpu"\nabove = 80\nhistory_stacks = "0.1s"\n')
    cases.append((["--rules", str(bad_stacks)], "rule 1 history_stacks must be"))
    for args, needle in cases:
        r = run_cli(["watch", *args, "--check"], path)
        assert r.returncode == 2, (args, r.stderr)
        one_line_error(r, needle)


def test_watch_stops_cleanly_on_sigint(lib, tmp_path: Path) -> None:
    path = tmp_path / "v"
    proc = subprocess.Popen([sys.executable, "-m", "spikevault", "watch", "--threads", "1000000"], env=cli_env(path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        header = b""
        deadline = time.monotonic() + 20
        while b"\n" not in header and time.monotonic() < deadline:  # running: the monitor has started
            ready, _, _ = select.select([proc.stderr], [], [], 0.5)
            if ready:
                header += os.read(proc.stderr.fileno(), 4096)
        assert b"watching with 1 rule" in header and b"Ctrl-C stops" in header, header
        time.sleep(1.5)  # a tick or two
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = header + err
    assert proc.returncode == 0, err
    assert out == b"" and b"stopped after" in err and b"0 fired" in err
    assert b"Traceback" not in err and b"interrupted" not in err
    assert err.decode().count("\n") == 2  # the header and the summary, one line each


# -- purge -----------------------------------------------------------------------------------------

def _make_vault(path: Path, ages_minutes: Sequence[int], size: int = 20000) -> List[int]:
    now = datetime.now(timezone.utc)
    with spikevault.Vault(path, durability=0, max_age_seconds=0, max_footprint_bytes=0) as v:
        return [v.save(process_name=f"p{i}", pid=100 + i, metric="cpu", value=i,
                       captured_at=now - timedelta(minutes=m), artefacts={"blob.bin": os.urandom(size)})
                for i, m in enumerate(ages_minutes)]


def test_purge_dry_run_then_real(lib, tmp_path: Path) -> None:
    path = tmp_path / "v"
    ids = _make_vault(path, [600, 300, 10, 5, 1])  # 10 h, 5 h, 10 min, 5 min, 1 min ago
    r = run_cli(["purge", "--older-than", "2h", "--dry-run", "--json"], path)
    assert r.returncode == 0, r.stderr
    est = json.loads(r.stdout)
    assert est["byAge"] == [ids[1], ids[0]] and est["bySize"] == [] and est["artefactBytesFreed"] > 40000
    text = run_cli(["purge", "--older-than", "2h", "--max-size", "1", "--dry-run"], path)
    assert text.returncode == 0
    out = text.stdout.decode()
    assert "nothing deleted" in out and "by age:  2 capture(s)" in out and "by size: 2 capture(s)" in out
    assert "estimate" in out  # honest about what it is
    assert listed_ids(run_cli(["list", "--json"], path)) == ids  # dry run deleted nothing
    r = run_cli(["purge", "--older-than", "2h"], path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().startswith("Purged 2 capture(s): 2 by age, 0 by size")
    assert "space reclaimed" in r.stdout.decode()
    assert listed_ids(run_cli(["list", "--json"], path)) == ids[2:]
    r = run_cli(["purge", "--max-size", "1", "--json"], path)  # the newest is never evicted by size
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["purged_by_size"] == 2 and rep["footprint_after"] < rep["footprint_before"]
    assert listed_ids(run_cli(["list", "--json"], path)) == [ids[4]]
    for args, needle in [(["--older-than", "5x"], "--older-than"), (["--max-size", "10Q"], "--max-size"),
                         (["--older-than", "0s"], "at least 1s")]:
        r = run_cli(["purge", *args], path)
        assert r.returncode == 2
        one_line_error(r, needle)


# -- unreadable vaults -----------------------------------------------------------------------------

def test_unreadable_vaults(lib, tmp_path: Path) -> None:
    not_dir = tmp_path / "file"
    not_dir.write_text("x")
    r = run_cli(["list"], not_dir)
    assert r.returncode == 1
    one_line_error(r, "is not a directory")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir(mode=0o700)
    (corrupt / "vault.sqlite3").write_bytes(b"this is not a database" * 100)
    r = run_cli(["list"], corrupt)
    assert r.returncode == 1
    one_line_error(r, "spikevault list:")
    link = tmp_path / "link"
    link.symlink_to(corrupt)
    r = run_cli(["list"], link)
    assert r.returncode == 1
    one_line_error(r, "spikevault list:")
    locked = tmp_path / "locked"
    _make_vault(locked, [1], size=10)
    locked.chmod(0)
    try:
        if os.geteuid() == 0:
            # root reads anything: check as an unprivileged user when one exists and can run Python.
            nobody = _unprivileged_runner()
            if nobody is None:
                pytest.skip("running as root and no unprivileged user can run this Python: mode-000 vault untested")
            r = subprocess.run(nobody + [sys.executable, "-m", "spikevault", "--vault", str(locked), "list"],
                               env=cli_env(), capture_output=True, timeout=30)
        else:
            r = run_cli(["list"], locked)
        assert r.returncode == 1
        one_line_error(r, "permission denied")
    finally:
        locked.chmod(0o700)


def _unprivileged_runner() -> Optional[List[str]]:
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run(cmd + [sys.executable, "-c", "import spikevault"], env=cli_env(), capture_output=True)
    return cmd if probe.returncode == 0 else None


# -- capture (real child processes) ----------------------------------------------------------------

@pytest.fixture
def child() -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])  # burns CPU
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_capture_with_countdown_on_a_terminal(lib, tmp_path: Path, child: subprocess.Popen) -> None:
    path = tmp_path / "v"
    code, out = run_pty(["capture", str(child.pid), "--duration", "2s", "--value", "93", "--notes", '{"t": "OPS-1"}'],
                        cli_env(path))
    assert code == 0, out
    assert "2 s left" in out and "1 s left" in out, out  # the countdown ticked
    plain = ANSI.sub("", out)
    assert f"(pid {child.pid})" in plain and "Trigger:    cpu = 93.00" in plain and "Backends:   procfs" in plain
    records = json.loads(run_cli(["list", "--json"], path).stdout)
    assert len(records) == 1 and records[0]["pid"] == child.pid and records[0]["triggerValue"] == 93
    assert records[0]["notes"]["t"] == "OPS-1"
    # ...and the new capture draws as a flame graph when a stack sampler ran.
    kinds = [a["kind"] for a in records[0]["artefacts"]]
    if "oncpu.folded" in kinds or "offcpu.folded" in kinds:
        svg = tmp_path / "c.svg"
        r = run_cli(["flamegraph", str(records[0]["id"]), "-o", str(svg)], path)
        assert r.returncode == 0 and len(_frames(svg.read_bytes())) >= 2


def test_capture_json_on_a_pipe_and_errors(lib, tmp_path: Path, child: subprocess.Popen) -> None:
    path = tmp_path / "v"
    r = run_cli(["capture", str(child.pid), "--duration", "500ms", "--backend", "procfs", "--metric", "memory",
                 "--value", "321", "--json"], path)
    assert r.returncode == 0, r.stderr
    assert b"s left" not in r.stderr  # no countdown off a terminal
    rec = json.loads(r.stdout)
    assert rec["pid"] == child.pid and rec["triggerMetric"] == "memory" and [a["kind"] for a in rec["artefacts"]] == ["procfs.json"]
    r = run_cli(["capture", "4194000", "--duration", "1s"], path)
    assert r.returncode == 1
    one_line_error(r, "spikevault capture:")
    for args, needle in [(["--duration", "5x"], "--duration"), (["--backend", "dtrace"], "--backend"),
                         (["--notes", "[1]"], "JSON object"), (["--notes", "{"], "not valid JSON"),
                         (["--backend", "command"], "argv after --"), (["--", "echo"], "--backend command"),
                         (["--duration", "0s"], "more than 0s")]:
        r = run_cli(["capture", str(child.pid), *args], path)
        assert r.returncode == 2, (args, r.stderr)
        one_line_error(r, needle)
    r = run_cli(["capture", "abc"], path)
    assert r.returncode == 2


def test_capture_command_backend(lib, tmp_path: Path, child: subprocess.Popen) -> None:
    path = tmp_path / "v"
    r = run_cli(["capture", str(child.pid), "--duration", "300ms", "--backend", "command", "--json", "--",
                 "sh", "-c", "echo pid={pid} > {output}"], path)
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    kinds = [a["kind"] for a in rec["artefacts"]]
    assert "command.output" in kinds
    d = run_cli(["dump", str(rec["id"]), "--kind", "command.output"], path)
    assert d.stdout == f"pid={child.pid}\n".encode()


def test_broken_pipe_is_quiet(seeded) -> None:
    path, _ = seeded
    p = subprocess.Popen(f"{sys.executable} -m spikevault list --json | head -c 1", shell=True, env=cli_env(path),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=30)
    assert out == b"[" and b"Traceback" not in err
