"""Monitor through the Python binding: host-fed mode, callbacks on library threads, errors in
callbacks reported (not fatal), and a real burner captured end to end."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from typing import List

import pytest

import spikevault
from spikevault import BusyError, CaptureDone, Firing, InvalidArgumentError, Metric, Monitor, Rule

from conftest import cpu_percent, wait_until as _wait

FAKE_PID = 2_000_000_000  # not a live process: no name/uid, so use rules without filters


def _sequence(pid: int = FAKE_PID):
    # A window opens at 1000, a gap of 3 s (> 2 intervals) restarts it at 5000; values at or
    # above 50 (the threshold itself included) hold until 7000: fires once, at 7000; the
    # cooldown (600 s) keeps 8000 and 9000 quiet.
    return [(pid, "cpu", 40, 0), (pid, "cpu", 60, 1000), (pid, "cpu", 60, 2000), (pid, "cpu", 60, 5000),
            (pid, "cpu", 50, 6000), (pid, "cpu", 55, 7000), (pid, "cpu", 50, 8000), (pid, "cpu", 50, 9000)]


@pytest.mark.parametrize("batch", [False, True])
def test_host_fed_mode_fires_on_the_sustained_window(vault, batch: bool) -> None:
    fired: List[Firing] = []
    rule = Rule("cpu", 50, sustain=2, capture=False)
    with Monitor(vault, [rule], sampling=False, on_fired=fired.append) as monitor:
        if batch:
            monitor.observe_many(_sequence())
        else:
            for pid, metric, value, t in _sequence():
                monitor.observe(pid, metric, value, t)
        # Every observation evaluated and its callbacks delivered: a second firing would be here.
        assert _wait(lambda: len(fired) >= 1 and monitor.counters()["observations"] == len(_sequence()))
        counters = monitor.counters()
    assert [(f.pid, f.time_ms, f.value, f.metric, f.rule_index) for f in fired] == [(FAKE_PID, 7000, 55.0, Metric.CPU, 0)]
    assert fired[0].rule == rule
    assert threading.current_thread() is threading.main_thread()
    assert counters["gap_resets"] == 1 and counters["fired"] == 1 and counters["suppressed_cooldown"] == 0 and counters["ticks"] == 0


def test_exceptions_in_callbacks_are_reported_not_fatal(vault) -> None:
    seen: List[Firing] = []
    reported: List[BaseException] = []

    def boom(f: Firing) -> None:
        seen.append(f)
        raise RuntimeError("callback bug")

    monitor = Monitor(vault, [Rule("threads", 10, cooldown=0, capture=False)], sampling=False,
                      on_fired=boom, on_error=reported.append)
    with monitor:
        monitor.observe(FAKE_PID, "threads", 20, 0)
        monitor.observe(FAKE_PID, "threads", 20, 1000)
        assert _wait(lambda: len(seen) == 2)
    assert len(monitor.errors) == 2 and isinstance(monitor.errors[0], RuntimeError)
    assert reported == monitor.errors


def test_stop_from_a_callback_is_refused(vault) -> None:
    holder: List[Monitor] = []
    monitor = Monitor(vault, [Rule("fds", 1, capture=False)], sampling=False, on_fired=lambda f: holder[0].stop())
    holder.append(monitor)
    with monitor:
        monitor.observe(FAKE_PID, "fds", 5, 0)
        assert _wait(lambda: len(monitor.errors) == 1)
    assert isinstance(monitor.errors[0], BusyError)
    holder.clear()


def test_bad_input(vault) -> None:
    with pytest.raises(InvalidArgumentError):
        Monitor(vault, [Rule("bogus", 1)])
    with pytest.raises(InvalidArgumentError):
        Monitor(vault, [Rule("cpu", float("nan"))])
    with pytest.raises(InvalidArgumentError):
        Monitor(vault, [Rule("cpu", 1, sustain=-1)])
    with pytest.raises(InvalidArgumentError):
        Monitor(vault, [])
    m = Monitor(vault, None)  # the defaults
    assert [r.metric for r in m.rules] == [Metric.CPU, Metric.MEMORY, Metric.DISK_IO, Metric.THREADS, Metric.FDS]
    with pytest.raises(InvalidArgumentError):
        m.observe(1, "cpu", 1.0)  # not started
    assert m.sample() > 0
    assert m.counters()["ticks"] == 1
    m.close()
    m.close()
    with pytest.raises(spikevault.ClosedError):
        m.start()


BURNER = "import ctypes,sys,time\nctypes.CDLL(None).prctl(15, b'svpyburn', 0, 0, 0)\nend=time.monotonic()+float(sys.argv[1])\nwhile time.monotonic()<end: pass\n"


def test_sampler_captures_a_real_burner(vault) -> None:
    done: List[CaptureDone] = []
    fired: List[Firing] = []
    burner = subprocess.Popen([sys.executable, "-c", BURNER, "120"])  # killed below
    procs = [burner]
    try:
        # The threshold follows what the burner actually gets here (50 % of a core when it gets nearly a
        # core, else half of what it gets): on a loaded 2-core machine a busy process gets well under a core.
        assert _wait(lambda: open(f"/proc/{burner.pid}/comm").read().strip() == "svpyburn")
        got = cpu_percent(burner.pid)
        threshold = 50.0 if got >= 90 else max(5.0, min(50.0, got / 2))
        procs.append(subprocess.Popen([sys.executable, "-c", BURNER, "0.8"]))  # shorter than the sustain
        rule = Rule("cpu", threshold, sustain=2, include=["svpyburn"], backend="procfs", duration=0.3)
        with Monitor(vault, [rule], on_fired=fired.append, on_capture=done.append) as monitor:
            assert _wait(lambda: len(done) >= 1), monitor.counters()
            ticks = monitor.counters()["ticks"]
            assert _wait(lambda: monitor.counters()["ticks"] >= ticks + 3)  # a second capture would be here
            counters = monitor.counters()
        assert len(done) == 1 and done[0].ok, (done, counters, got)
        assert counters["fired"] == 1, counters
        assert fired[0].pid == burner.pid and fired[0].process_name == "svpyburn"
        record = vault.get(done[0].capture_id)
        assert record.metric == Metric.CPU and record.value >= threshold and record.pid == burner.pid, (record, got)
    finally:
        for p in procs:
            p.kill()
            p.wait()
    gc.collect()
    assert gc.garbage == []


def test_raw_c_calls_refuse_bad_input(lib, vault) -> None:
    import ctypes

    from spikevault import Status

    assert lib.sv_monitor_free(None) == Status.OK and lib.sv_rule_free(None) == Status.OK
    rule = ctypes.c_void_p()
    assert lib.sv_rule_new(99, 1.0, ctypes.byref(rule)) == Status.ERR_INVALID_ARGUMENT and rule.value is None
    assert lib.sv_rule_new(1, float("inf"), ctypes.byref(rule)) == Status.ERR_INVALID_ARGUMENT
    assert lib.sv_rule_new(1, 50.0, None) == Status.ERR_NULL_ARGUMENT
    assert lib.sv_rule_new(1, 50.0, ctypes.byref(rule)) == Status.OK
    assert lib.sv_rule_set_capture(rule, 8, 1.0) == Status.ERR_INVALID_ARGUMENT  # command backend
    assert lib.sv_rule_set_sustain(rule, -1.0) == Status.ERR_INVALID_ARGUMENT
    assert lib.sv_rule_add_include(rule, None) == Status.ERR_NULL_ARGUMENT
    assert lib.sv_rule_add_include(rule, b"\xff\xfe") == Status.ERR_ENCODING
    assert lib.sv_monitor_add_rule(rule, rule, None) == Status.ERR_INVALID_ARGUMENT  # wrong handle type
    mon = ctypes.c_void_p()
    with vault._using() as vh:
        assert lib.sv_monitor_new(vh, ctypes.byref(mon)) == Status.OK
    assert lib.sv_monitor_start(mon) == Status.ERR_INVALID_ARGUMENT  # no rules
    assert lib.sv_monitor_add_rule(mon, rule, None) == Status.OK
    assert lib.sv_monitor_set_interval(mon, 0.0) == Status.ERR_INVALID_ARGUMENT
    assert lib.sv_monitor_set_sampling(mon, 0) == Status.OK
    assert lib.sv_monitor_start(mon) == Status.OK
    assert lib.sv_monitor_add_rule(mon, rule, None) == Status.ERR_BUSY
    assert lib.sv_monitor_observe(mon, 0, 1, 1.0, 0) == Status.ERR_INVALID_ARGUMENT
    assert lib.sv_monitor_observe(mon, 5, 42, 1.0, 0) == Status.ERR_INVALID_ARGUMENT
    assert lib.sv_monitor_observe(mon, 5, 1, float("nan"), 0) == Status.ERR_INVALID_ARGUMENT
    assert lib.sv_monitor_observe_batch(mon, None, None, None, None, 1) == Status.ERR_NULL_ARGUMENT
    assert lib.sv_monitor_observe_batch(mon, None, None, None, None, 0) == Status.OK
    value = ctypes.c_int64()
    assert lib.sv_monitor_get_counter(mon, 999, ctypes.byref(value)) == Status.ERR_INVALID_ARGUMENT
    assert lib.sv_monitor_get_counter(mon, 7, None) == Status.ERR_NULL_ARGUMENT
    assert lib.sv_monitor_free(mon) == Status.OK
    assert lib.sv_monitor_free(mon) == Status.ERR_CLOSED
    assert lib.sv_monitor_start(mon) == Status.ERR_CLOSED
    assert lib.sv_rule_free(rule) == Status.OK
    assert lib.sv_rule_free(rule) == Status.ERR_CLOSED


# Names of this test process's own, so the same tests run by another checkout on this machine
# (or other suites' burners) cannot match these rules.
HIST_NAME = f"svph{os.getpid()}"
STACK_NAME = f"svps{os.getpid()}"


def _burner_named(name: str, seconds: float) -> subprocess.Popen:
    code = BURNER.replace("svpyburn", name)
    return subprocess.Popen([sys.executable, "-c", code, str(seconds)])


@pytest.mark.parametrize("history", [30.0, 0.0])
def test_fired_capture_stores_history_json(vault, history: float) -> None:
    import json

    done: List[CaptureDone] = []
    burner = _burner_named(HIST_NAME, 120)  # killed below
    try:
        assert _wait(lambda: open(f"/proc/{burner.pid}/comm").read().strip() == HIST_NAME)
        # Any CPU counts (the burner gets some even on a loaded machine): fires at the second tick.
        rule = Rule("cpu", 1, include=[HIST_NAME], backend="procfs", duration=0.3)
        with Monitor(vault, [rule], interval=0.2, history=history, on_capture=done.append) as monitor:
            assert _wait(lambda: len(done) >= 1), monitor.counters()
            counters = monitor.counters()
        assert done[0].ok, done
        if history:
            doc = json.loads(vault.read_artefact(done[0].capture_id, kind="history.json"))
            assert doc["version"] == 1 and doc["pid"] == burner.pid and doc["processName"] == HIST_NAME
            assert doc["samples"] and all(s["t"] <= 0 for s in doc["samples"])
            assert doc["samples"][-1]["threads"][0]["tid"] == burner.pid
            assert 0 < counters["history_bytes"] <= 16 << 20 and counters["history_processes"] >= 1, counters
        else:
            with pytest.raises(spikevault.NotFoundError):
                vault.read_artefact(done[0].capture_id, kind="history.json")
            assert counters["history_bytes"] == 0 and counters["history_processes"] == 0, counters
    finally:
        burner.kill()
        burner.wait()


def test_history_settings_refuse_bad_input(lib, vault) -> None:
    import ctypes

    rule = Rule("cpu", 1e9)
    with pytest.raises(InvalidArgumentError, match="history"):
        Monitor(vault, [rule], history=-1)
    with pytest.raises(InvalidArgumentError):
        Monitor(vault, [rule], history=float("nan"))
    with pytest.raises(spikevault.TooLargeError, match="3600"):
        Monitor(vault, [rule], history=3601)
    with pytest.raises(InvalidArgumentError, match="65536"):
        Monitor(vault, [rule], history_memory=1000)
    with pytest.raises(spikevault.TooLargeError):
        Monitor(vault, [rule], history_memory=2 << 30)
    with pytest.raises(InvalidArgumentError):
        Monitor(vault, [rule], history="a minute")  # type: ignore[arg-type]
    assert lib.sv_monitor_set_history(None, 10.0) == spikevault.Status.ERR_NULL_ARGUMENT
    assert lib.sv_monitor_set_history_memory(None, 1 << 20) == spikevault.Status.ERR_NULL_ARGUMENT
    value = ctypes.c_int64(-1)
    with Monitor(vault, [rule], history=0) as monitor:
        assert lib.sv_monitor_set_history(monitor._handle, 10.0) == spikevault.Status.ERR_BUSY  # running
        assert lib.sv_monitor_get_counter(monitor._handle, 17, ctypes.byref(value)) == spikevault.Status.OK
        assert value.value == 0
        assert lib.sv_monitor_get_counter(monitor._handle, 24, ctypes.byref(value)) == spikevault.Status.ERR_INVALID_ARGUMENT


@pytest.mark.skipif(not __import__("shutil").which("eu-stack"), reason="eu-stack (elfutils) is not installed")
def test_history_stacks_are_stored_as_history_folded(vault) -> None:
    done: List[CaptureDone] = []
    burner = _burner_named(STACK_NAME, 120)  # killed below
    try:
        assert _wait(lambda: open(f"/proc/{burner.pid}/comm").read().strip() == STACK_NAME)
        rule = Rule("cpu", 1, sustain=2, include=[STACK_NAME], backend="procfs", duration=0.3, history_stacks=0.5)
        with Monitor(vault, [rule], interval=0.5, on_capture=done.append) as monitor:
            assert _wait(lambda: len(done) >= 1), monitor.counters()
            counters = monitor.counters()
        assert done[0].ok, done
        folded = vault.read_artefact(done[0].capture_id, kind="history.folded").decode()
        lines = folded.splitlines()
        assert lines and all(line.startswith(("[on-cpu];", "[off-cpu];")) for line in lines), folded
        assert sum(int(line.rsplit(" ", 1)[1]) for line in lines) >= 2, folded
        assert counters["history_stack_snapshots"] >= 2, counters
    finally:
        burner.kill()
        burner.wait()


def test_history_stacks_refuse_bad_input(lib, vault) -> None:
    for value, error in ((-1, InvalidArgumentError), (0.1, InvalidArgumentError), (float("inf"), InvalidArgumentError),
                         (61, spikevault.TooLargeError), ("often", InvalidArgumentError)):
        with pytest.raises(error, match="history"):
            Monitor(vault, [Rule("cpu", 1e9, history_stacks=value)])  # type: ignore[arg-type]
    assert lib.sv_rule_set_history_stacks(None, 1.0) == spikevault.Status.ERR_NULL_ARGUMENT
