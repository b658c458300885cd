"""spikevault serve (issue #17), driven through a real headless Chromium (Selenium) against a
vault of real captures of real child processes: filters, a capture page, flame graph zoom,
re-run, copy summary, an export download, hostile names rendered as text, the token and the
CSRF token. Screenshots are always taken and checked; they are kept in the directory
SPIKEVAULT_SCREENSHOTS names (the README's: SPIKEVAULT_SCREENSHOTS=$PWD/docs/images)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

import spikevault
from conftest import wait_until

HOT_C = r"""
#include <pthread.h>
#include <unistd.h>
static volatile unsigned long sink;
__attribute__((noinline)) void spikevault_serve_hot(void) { for (;;) sink++; }
static void *run(void *a) { (void)a; spikevault_serve_hot(); return 0; }
int main(void) { pthread_t t; pthread_create(&t, 0, run, 0); sleep(600); return 0; }
"""
HOSTILE_COMM = "</script><b>'\"\x1b"  # 15 bytes: the kernel's comm limit
HOSTILE_ARG = "<script>window.__pwned=1</script>\"'><img src=x onerror=\"window.__pwned=2\">"
SAVED_HOSTILE = "<img src=x onerror=\"window.__pwned=3\">'\"</script><script>window.__pwned=4</script>"


def _chromium() -> tuple:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("chromium and chromium-driver are not installed (scripts/deps.sh installs them)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed (scripts/deps.sh installs it from PyPI)")
    return browser, driver


@pytest.fixture(scope="module")
def children(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the CPU-burning target")
    d = tmp_path_factory.mktemp("serve-hot")
    (d / "hot.c").write_text(HOT_C)
    subprocess.run([cc, "-O0", "-g", "-fno-omit-frame-pointer", "-pthread", str(d / "hot.c"), "-o", str(d / "hot")],
                   check=True)
    hot = subprocess.Popen([str(d / "hot")])
    code = (f"open('/proc/self/comm', 'w').write({HOSTILE_COMM!r})\n"
            "import sys\nsys.stdout.write('ready\\n'); sys.stdout.flush()\nwhile True:\n    pass\n")
    hostile = subprocess.Popen([sys.executable, "-c", code, HOSTILE_ARG], stdout=subprocess.PIPE)
    try:
        assert hostile.stdout is not None and hostile.stdout.readline() == b"ready\n"
        yield {"hot": hot, "hostile": hostile}
    finally:
        for p in (hot, hostile):
            p.kill()
            p.wait()


@pytest.fixture(scope="module")
def served(lib, children, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    path = tmp_path_factory.mktemp("serve") / "vault"
    vault = spikevault.Vault(path, durability=0, capture_cooldown_seconds=0)
    backend = "perf" if shutil.which("perf") else ("eu-stack" if shutil.which("eu-stack") else "procfs")
    try:
        hot = vault.capture(children["hot"].pid, metric="cpu", value=97.5, duration=1.0, backend=backend)
    except spikevault.SpikeVaultError:
        backend = "eu-stack" if shutil.which("eu-stack") else "procfs"
        hot = vault.capture(children["hot"].pid, metric="cpu", value=97.5, duration=1.0, backend=backend)
    mem = vault.capture(os.getpid(), metric="memory", value=512.0, duration=0.3, interval=0.1, backend="procfs")
    hostile = vault.capture(children["hostile"].pid, metric="cpu", value=88.0, duration=0.5, backend="procfs")
    saved = vault.save(process_name=SAVED_HOSTILE, pid=4242, metric="cpu", value=42.0,
                       artefacts={"oncpu.folded": (SAVED_HOSTILE + ";main 5\nmain;x 3\n").encode()})
    server = spikevault.serve(vault)
    try:
        yield {"vault": vault, "server": server, "hot": hot, "mem": mem, "hostile": hostile, "saved": saved,
               "backend": backend}
    finally:
        server.stop()
        vault.close()


@pytest.fixture(scope="module")
def browser(served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    binary, driver_path = _chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path_factory.mktemp("downloads")
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1200,900"):
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    drv = webdriver.Chrome(service=Service(driver_path), options=opts)
    drv.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    drv.downloads = downloads  # type: ignore[attr-defined]
    drv.get(served["server"].url)  # the token once; then the cookie
    try:
        yield drv
    finally:
        drv.quit()


def _canary(drv) -> object:
    return drv.execute_script("return window.__pwned === undefined ? null : window.__pwned;")


def _rows(drv) -> list:
    from selenium.webdriver.common.by import By

    return [int(tr.get_attribute("data-id")) for tr in drv.find_elements(By.CSS_SELECTOR, "#captures tbody tr[data-id]")]


def _shot(drv, name: str) -> None:
    png = drv.get_screenshot_as_png()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000  # a rendered page, not a blank one
    keep = os.environ.get("SPIKEVAULT_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / name).write_bytes(png)


def test_list_filters_by_metric_and_process(served, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    drv = browser
    drv.get(served["server"].base_url + "/")
    all_ids = _rows(drv)
    assert {served["hot"].id, served["mem"].id, served["hostile"].id, served["saved"]} <= set(all_ids)
    _shot(drv, "serve-list.png")
    Select(drv.find_element(By.ID, "f-metric")).select_by_value("memory")
    drv.find_element(By.ID, "apply").click()
    assert wait_until(lambda: "metric=memory" in drv.current_url, 30)
    assert _rows(drv) == [served["mem"].id]
    drv.get(served["server"].base_url + "/")
    box = drv.find_element(By.ID, "f-process")
    box.send_keys(served["hot"].process_name)
    drv.find_element(By.ID, "apply").click()
    assert wait_until(lambda: "process=" in drv.current_url, 30)
    ids = _rows(drv)
    assert served["hot"].id in ids and served["mem"].id not in ids and served["saved"] not in ids


def test_hostile_names_render_as_text_and_run_no_script(served, browser) -> None:
    from selenium.webdriver.common.by import By

    drv = browser
    drv.get(served["server"].base_url + "/")
    cells = [td.text for td in drv.find_elements(By.CSS_SELECTOR, "#captures td.proc")]
    assert SAVED_HOSTILE in cells
    assert any("</script><b>'\"\\x1b" in c for c in cells), cells  # ESC shown as \x1b, the rest as text
    assert drv.find_elements(By.CSS_SELECTOR, "#captures img, #captures b") == []
    assert _canary(drv) is None
    for rid in (served["saved"], served["hostile"].id):
        drv.get(served["server"].base_url + f"/capture/{rid}")
        assert wait_until(lambda: drv.find_element(By.ID, "summary").text != "", 30)
        assert drv.find_elements(By.CSS_SELECTOR, "main img, main b") == []
        assert _canary(drv) is None
    drv.get(served["server"].base_url + f"/capture/{served['saved']}")
    assert wait_until(lambda: drv.find_element(By.ID, "flame").get_attribute("data-ready") == "1", 30)
    names = [e.get_attribute("data-name") for e in drv.find_elements(By.CSS_SELECTOR, "#flame .frame")]
    assert SAVED_HOSTILE in names and _canary(drv) is None


def test_capture_page_flame_graph_zooms(served, browser) -> None:
    from selenium.webdriver.common.by import By

    drv = browser
    hot = served["hot"]
    if not any(a.kind.endswith(".folded") for a in hot.artefacts):
        pytest.skip(f"the {served['backend']} capture holds no folded stacks ({[a.kind for a in hot.artefacts]})")
    drv.get(served["server"].base_url + f"/capture/{hot.id}")
    flame = drv.find_element(By.ID, "flame")
    assert wait_until(lambda: flame.get_attribute("data-ready") == "1", 30)
    frames = drv.find_elements(By.CSS_SELECTOR, "#flame .frame")
    assert frames and frames[0].get_attribute("data-name") == "all"
    _shot(drv, "serve-capture.png")
    hot_frames = [f for f in frames if "spikevault_serve_hot" in (f.get_attribute("data-name") or "")]
    target = hot_frames[0] if hot_frames else frames[1]
    name = target.get_attribute("data-name")
    width_before = target.size["width"]
    target.click()
    assert wait_until(lambda: flame.get_attribute("data-zoom") == name, 10)
    zoomed = drv.find_element(By.CSS_SELECTOR, "#flame .frame.zoomed")
    assert zoomed.get_attribute("data-name") == name
    assert zoomed.size["width"] >= width_before and zoomed.size["width"] >= flame.size["width"] * 0.95
    search = drv.find_element(By.ID, "flame-search")
    search.send_keys("spikevault_serve_hot" if hot_frames else name)
    assert wait_until(lambda: "matched" in drv.find_element(By.ID, "flame-match").text, 10)
    drv.find_element(By.ID, "flame-reset").click()
    assert wait_until(lambda: flame.get_attribute("data-zoom") == "all", 10)


def test_copy_summary_and_rerun(served, browser) -> None:
    from selenium.webdriver.common.by import By

    drv = browser
    hot = served["hot"]
    drv.get(served["server"].base_url + f"/capture/{hot.id}")
    drv.find_element(By.ID, "copy-summary").click()
    assert wait_until(lambda: drv.find_element(By.ID, "copy-status").text != "", 30)
    copied = drv.find_element(By.ID, "clipboard").get_attribute("value")
    assert copied == served["vault"].summary(hot.id, "text", redact=True)
    before = served["vault"].count()
    drv.find_element(By.ID, "rerun").click()
    done = re.compile(r"/capture/(\d+)$")
    assert wait_until(lambda: done.search(drv.current_url) and not drv.current_url.endswith(f"/{hot.id}"), 120), \
        drv.page_source[:2000]
    new_id = int(done.search(drv.current_url).group(1))
    new = served["vault"].get(new_id)
    assert new.pid == hot.pid and new_id != hot.id and served["vault"].count() == before + 1


def test_delete_button_removes_the_capture_and_returns_to_the_list(served, browser) -> None:
    from selenium.webdriver.common.by import By

    drv, vault = browser, served["vault"]
    doomed = vault.save(process_name="doomed", pid=4343, metric="cpu", value=50.0,
                        artefacts={"oncpu.folded": b"main;doomed 7\n"})
    path = Path(vault.artefact_path(doomed))
    assert path.is_file()
    drv.get(served["server"].base_url + f"/capture/{doomed}")
    drv.find_element(By.ID, "delete").click()
    assert wait_until(lambda: drv.current_url.rstrip("/") == served["server"].base_url.rstrip("/"), 60), drv.current_url
    with pytest.raises(spikevault.NotFoundError):
        vault.get(doomed)
    assert not path.exists()
    assert doomed not in _rows(drv) and served["hot"].id in _rows(drv)


def test_export_download_holds_the_selection_redacted(served, browser) -> None:
    from selenium.webdriver.common.by import By

    drv = browser
    drv.get(served["server"].base_url + "/?metric=memory")
    drv.find_element(By.ID, "export-csv").click()
    target = drv.downloads / "spikevault-export.csv"
    assert wait_until(target.exists, 60)
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == served["vault"].count(metric="memory") >= 1
    assert {r.get("id") for r in rows} == {str(r.id) for r in served["vault"].query(metric="memory")}
    assert str(Path.home()) not in target.read_text() or Path.home() == Path("/")


def _request(url: str, data: bytes = None, headers: dict = None) -> int:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_without_the_token_every_request_is_403(served) -> None:
    base = served["server"].base_url
    for path in ("/", "/capture/1", "/static/app.js", "/api/latest", "/export?format=json", "/nope"):
        assert _request(base + path) == 403
    assert _request(base + "/?token=wrong-token-wrong-token") == 403
    assert _request(base + "/", headers={"Cookie": "spikevault_token=guess"}) == 403
    assert _request(base + f"/capture/{served['hot'].id}/rerun", data=b"csrf=x") == 403


def test_post_without_csrf_is_refused_and_get_never_writes(served, browser) -> None:
    vault, server = served["vault"], served["server"]
    cookie = {"Cookie": f"spikevault_token={server.auth.token}"}
    before = vault.count()
    url = server.base_url + f"/capture/{served['hot'].id}/rerun"
    assert _request(url, data=b"", headers=cookie) == 403
    assert _request(url, data=b"csrf=wrong", headers=cookie) == 403
    assert _request(url, data=f"csrf={server.auth.csrf}".encode(),
                    headers={**cookie, "Origin": "http://evil.example"}) == 403
    assert _request(url, headers=cookie) in (404, 405)  # GET of an action: no such page, nothing runs
    assert vault.count() == before
    delete = server.base_url + f"/capture/{served['mem'].id}/delete"
    assert _request(delete, data=b"", headers=cookie) == 403
    assert _request(delete, data=b"csrf=wrong", headers=cookie) == 403
    assert _request(delete, headers=cookie) in (404, 405)
    assert vault.get(served["mem"].id).id == served["mem"].id and vault.count() == before


def test_headers_forbid_inline_script_and_cross_origin(served) -> None:
    server = served["server"]
    req = urllib.request.Request(server.base_url + "/", headers={"Cookie": f"spikevault_token={server.auth.token}",
                                                                  "Origin": "http://evil.example"})
    with urllib.request.urlopen(req) as r:
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers.get("Access-Control-Allow-Origin") is None
        page = r.read().decode()
    assert "<script>" not in page  # scripts are files; data blocks are type=application/json


def test_read_only_server_offers_and_accepts_no_action(served) -> None:
    vault = served["vault"]
    with spikevault.serve(vault, read_only=True) as ro:
        cookie = {"Cookie": f"spikevault_token={ro.auth.token}"}
        req = urllib.request.Request(ro.base_url + f"/capture/{served['hot'].id}", headers=cookie)
        with urllib.request.urlopen(req) as r:
            page = r.read().decode()
            assert 'id="rerun"' not in page and 'id="delete"' not in page
        before = vault.count()
        assert _request(ro.base_url + f"/capture/{served['hot'].id}/rerun",
                        data=f"csrf={ro.auth.csrf}".encode(), headers=cookie) == 403
        assert _request(ro.base_url + f"/capture/{served['hot'].id}/delete",
                        data=f"csrf={ro.auth.csrf}".encode(), headers=cookie) == 403
        assert vault.count() == before
    assert ro.host == "127.0.0.1"


def test_python_serve_installs_no_signal_handler(served) -> None:
    import signal

    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    server = spikevault.serve(served["vault"])
    try:
        assert {s: signal.getsignal(s) for s in before} == before
    finally:
        server.stop()
        server.stop()  # idempotent


def test_cli_serve_prints_a_token_url_and_stops_on_sigint_and_sigterm(served) -> None:
    import signal

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    for sig in (signal.SIGINT, signal.SIGTERM):
        p = subprocess.Popen([sys.executable, "-m", "spikevault", "--vault", served["vault"].path, "serve"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            assert p.stdout.readline().startswith("Serving ")
            url = p.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:") and "/?token=" in url
            base = url.split("/?token=")[0]
            assert _request(base + "/") == 403
            assert _request(url) == 403  # followed without keeping the cookie: refused
            import http.cookiejar

            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
            with opener.open(url) as r:  # the redirect sets the cookie and lands on the list
                assert r.status == 200 and r.url == base + "/" and b'id="captures"' in r.read()
            p.send_signal(sig)
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0 and "Stopped." in out, err
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_host_other_than_loopback_warns(served) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    p = subprocess.Popen([sys.executable, "-m", "spikevault", "--vault", served["vault"].path, "serve",
                          "--host", "0.0.0.0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert p.stdout.readline().startswith("Serving ")
        p.terminate()
        _, err = p.communicate(timeout=60)
        assert "warning" in err and "0.0.0.0" in err
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
