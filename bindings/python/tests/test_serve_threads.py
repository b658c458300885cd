"""The capture page's threads chart (issue #17 item 2): drawn from the real procfs timeline of
a child with two named spinning threads, hostile thread names as text, bounded (busiest
threads, averaged columns), and a missing or corrupt procfs.json gives a note, not a 500.
The browser tests reuse test_serve's driver fixture with this module's own vault (`served`
below is the fixture test_serve's `browser` is resolved against here)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

import spikevault
from conftest import wait_until
from spikevault.web import threadchart
from test_serve import _canary, browser  # noqa: F401 (fixture)

NAMES = ("svthr-alpha", "svthr-beta")
HOSTILE_THREAD = "<b>x</b>'\"&"  # 14 bytes, under the kernel's 15-byte comm limit
SAVED_HOSTILE = "<img src=x onerror=\"window.__pwned=5\"></text></svg><script>window.__pwned=6</script>"
CHILD = r"""
import ctypes, sys, threading
libc = ctypes.CDLL(None)
def spin(name):
    libc.prctl(15, name.encode(), 0, 0, 0)  # PR_SET_NAME: this thread's comm
    while True:
        pass
for n in sys.argv[1:]:
    threading.Thread(target=spin, args=(n,), daemon=True).start()
sys.stdin.read()
"""


def _comms(pid: int) -> set:
    out = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out.add((task / "comm").read_text().rstrip("\n"))
        except OSError:
            pass
    return out


def _child(names) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", CHILD, *names], stdin=subprocess.PIPE)
    assert wait_until(lambda: set(names) <= _comms(p.pid), 30), _comms(p.pid)
    return p


def _procfs_doc(threads_per_sample) -> dict:
    return {"schema": "spikevault.procfs", "version": 2,
            "samples": [{"t": 0.1 * (i + 1), "intervalSeconds": 0.1, "threads": ts}
                        for i, ts in enumerate(threads_per_sample)]}


@pytest.fixture(scope="module")
def served(lib, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    vault = spikevault.Vault(tmp_path_factory.mktemp("serve-threads") / "vault", durability=0,
                             capture_cooldown_seconds=0)
    named = _child(NAMES)
    hostile = _child([HOSTILE_THREAD])
    try:
        two = vault.capture(named.pid, metric="cpu", value=150.0, duration=1.0, backend="procfs")
        bad = vault.capture(hostile.pid, metric="cpu", value=99.0, duration=0.5, backend="procfs")
    finally:
        for p in (named, hostile):
            p.kill()
            p.wait()
    saved_hostile = vault.save(process_name="saved", pid=4243, metric="cpu", value=1.0, artefacts={
        "procfs.json": json.dumps(_procfs_doc([[{"tid": 7, "name": SAVED_HOSTILE, "state": "R",
                                                 "cpuPercent": 50}]])).encode()})
    corrupt = vault.save(process_name="corrupt", pid=4244, metric="cpu", value=1.0,
                         artefacts={"procfs.json": b'{"schema": "spikevault.procfs", "samples": [{"thr'})
    odd = vault.save(process_name="odd", pid=4245, metric="cpu", value=1.0, artefacts={
        "procfs.json": json.dumps({"schema": "spikevault.procfs", "samples": [
            5, {"threads": "x"}, {"threads": [{"tid": "a"}, None, {"tid": True}]}]}).encode()})
    none = vault.save(process_name="none", pid=4246, metric="cpu", value=1.0, artefacts={"notes.txt": b"x"})
    server = spikevault.serve(vault)
    try:
        yield {"vault": vault, "server": server, "two": two, "hostile": bad, "saved_hostile": saved_hostile,
               "corrupt": corrupt, "odd": odd, "none": none}
    finally:
        server.stop()
        vault.close()


def _chart_names(drv) -> list:
    from selenium.webdriver.common.by import By

    return [e.text for e in drv.find_elements(By.CSS_SELECTOR, "#threads-chart text.name")]


def test_real_capture_charts_both_named_threads(served, browser) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    drv = browser
    rec = served["two"]
    doc = json.loads(served["vault"].read_artefact(rec.id, "procfs.json"))
    seen = {th["name"] for s in doc["samples"] for th in s["threads"]}
    assert set(NAMES) <= seen, seen  # the capture itself saw both threads
    drv.get(served["server"].base_url + f"/capture/{rec.id}")
    assert wait_until(lambda: len(_chart_names(drv)) >= 2, 30)
    names = _chart_names(drv)
    assert set(NAMES) <= set(names), names
    # one cell per sample the thread was seen in (a 1 s capture has far fewer than MAX_COLUMNS)
    tids = {th["tid"]: th["name"] for s in doc["samples"] for th in s["threads"]}
    for tid, name in tids.items():
        if name in NAMES:
            cells = drv.find_elements(By.CSS_SELECTOR, f'#threads-chart g.row[data-tid="{tid}"] ~ g rect.cpu')
            assert cells, name
    assert drv.find_elements(By.ID, "threads-note") == []


def test_hostile_thread_names_render_as_text(served, browser) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    drv = browser
    drv.get(served["server"].base_url + f"/capture/{served['hostile'].id}")
    assert wait_until(lambda: HOSTILE_THREAD in _chart_names(drv), 30), _chart_names(drv)
    drv.get(served["server"].base_url + f"/capture/{served['saved_hostile']}")
    assert wait_until(lambda: _chart_names(drv) != [], 30)
    assert _chart_names(drv) == [SAVED_HOSTILE[:threadchart.MAX_NAME]]
    assert drv.find_elements(By.CSS_SELECTOR, "main img, main b, #threads-chart script") == []
    assert _canary(drv) is None


@pytest.mark.parametrize("which", ["corrupt", "odd", "none"])
def test_missing_or_corrupt_procfs_json_renders_the_page_with_a_note(served, which) -> None:
    server = served["server"]
    req = urllib.request.Request(server.base_url + f"/capture/{served[which]}",
                                 headers={"Cookie": f"spikevault_token={server.auth.token}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200
        page = resp.read().decode()
    assert 'id="threads-note"' in page and 'id="threads-chart"' not in page
    assert f"Capture {served[which]}" in page


def test_parse_is_bounded_to_the_busiest_threads_and_averaged_columns() -> None:
    n_samples, n_threads = 1000, 50
    # thread k uses k % of a core, so the busiest are the highest tids; thread 49 sleeps on odd samples
    doc = _procfs_doc([[{"tid": k, "name": f"w{k}", "state": "S" if (k == 49 and i % 2) else "R",
                         "cpuPercent": float(k)} for k in range(n_threads)] for i in range(n_samples)])
    tl, note = threadchart.parse(doc)
    assert note is None and tl is not None
    assert [r.tid for r in tl.rows] == list(range(49, 49 - threadchart.MAX_THREADS, -1))
    assert tl.columns <= threadchart.MAX_COLUMNS and tl.sample_count == n_samples and tl.thread_count == n_threads
    assert all(len(r.cells) == tl.columns for r in tl.rows)
    assert tl.rows[0].cells[0] == (49.0, "R")  # 9 samples per column: 5 R, 4 S
    assert abs(tl.rows[0].cpu_seconds - 49.0) < 1e-6  # 1000 × 0.1 s × 49 %
    svg = threadchart.render(tl, None)
    assert svg.count('class="cpu"') == threadchart.MAX_THREADS * tl.columns


def test_parse_skips_malformed_members_and_notes_an_empty_timeline() -> None:
    doc = _procfs_doc([[{"tid": 1, "name": "ok", "state": "R", "cpuPercent": float("nan")},
                        {"tid": "2"}, "junk", {"tid": 3, "name": 5, "cpuPercent": -4, "state": None}]])
    tl, note = threadchart.parse(doc)
    assert note is None and tl is not None and tl.skipped == 2
    assert [(r.tid, r.name, r.cells) for r in tl.rows] == [(1, "ok", [(0.0, "R")]), (3, "?", [(0.0, "?")])]
    for bad in (None, [], {"schema": "other"}, {"schema": "spikevault.procfs", "samples": {}},
                {"schema": "spikevault.procfs", "samples": [{"threads": []}]}):
        tl, note = threadchart.parse(bad)
        assert tl is None and note
        assert 'id="threads-note"' in threadchart.render(tl, note)
