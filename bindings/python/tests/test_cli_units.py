"""The CLI's pure helpers: parsers, rendering, colour policy, globs, stacks, rules."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest

from spikevault.cli import parsing, render
from spikevault.cli.colour import Palette, use_colour
from spikevault.cli.progress import Countdown, ProgressBar
from spikevault.cli.rules import DEFAULT_RULES, RulesError, WatchConfig, parse_rules_document, to_monitor_rules
from spikevault.cli.selection import Filters, case_insensitive_glob
from spikevault.cli.stacks import build_tree, parse_folded


@pytest.mark.parametrize("text,seconds", [
    ("30s", 30), ("5m", 300), ("2h", 7200), ("3d", 259200), ("1w", 604800), ("500ms", 0.5), ("1h30m", 5400),
    ("2", 2), ("1.5h", 5400), ("72h", 259200), ("10 min", 600),
])
def test_durations(text: str, seconds: float) -> None:
    assert parsing.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5x", "", "h", "-5s", "5s3", "1e3s", "s5"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parsing.parse_duration(text)


@pytest.mark.parametrize("text,n", [("50M", 50_000_000), ("2G", 2_000_000_000), ("512", 512), ("64MiB", 64 << 20),
                                    ("1.5k", 1500), ("2gib", 2 << 30), ("10MB", 10_000_000)])
def test_sizes(text: str, n: int) -> None:
    assert parsing.parse_size(text) == n


@pytest.mark.parametrize("text", ["5x", "M", "-1M", "1Q", ""])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(ValueError, match="size"):
        parsing.parse_size(text)


def test_times() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
    assert parsing.parse_time("2h", now) == now - timedelta(hours=2)
    assert parsing.parse_time("2h ago", now) == now - timedelta(hours=2)
    assert parsing.parse_time("2026-11-27T10:00Z", now) == datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
    assert parsing.parse_time("2026-11-27 10:00+01:00", now) == datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
    local = parsing.parse_time("2026-11-27T10:00", now)
    assert local == datetime(2026, 11, 27, 10, 0).astimezone().astimezone(timezone.utc)
    assert parsing.parse_time("now", now) == now
    assert parsing.parse_time("yesterday", now) < parsing.parse_time("today", now) <= now
    for bad in ("5x", "2026-13-01", "tuesday"):
        with pytest.raises(ValueError, match="not a time"):
            parsing.parse_time(bad, now)


def test_relative_time_and_sizes() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
    assert render.relative_time(now - timedelta(seconds=2), now) == "just now"
    assert render.relative_time(now - timedelta(seconds=42), now) == "42 s ago"
    assert render.relative_time(now - timedelta(minutes=3, seconds=20), now) == "3 min ago"
    assert render.relative_time(now - timedelta(hours=5), now) == "5 h ago"
    assert render.relative_time(now - timedelta(days=1, hours=1), now) == "1 day ago"
    assert render.relative_time(now - timedelta(days=3), now) == "3 days ago"
    assert render.relative_time(now - timedelta(days=30), now)[:4] == "2026"
    # IEC, as the library's summaries: one unit system in every verb
    assert [render.human_size(n) for n in (0, 1023, 1024, 1234567, 50 * 2**20, 3 * 2**40)] == \
        ["0 B", "1023 B", "1.0 KiB", "1.2 MiB", "50.0 MiB", "3.0 TiB"]


def test_table_alignment_ignores_colour_and_fits_width() -> None:
    cols = [render.Column("ID", "right"), render.Column("NAME", shrinkable=True, min_width=6), render.Column("X")]
    rows = [["1", "a-very-long-process-name", "ok"], ["100", "b", "failed"]]
    plain = render.render_table(cols, rows, Palette(False))
    coloured = render.render_table(cols, rows, Palette(True), [["bold", None, "green"], ["bold", None, "red"]])
    assert [render.display_width(line) for line in plain] == [render.display_width(line) for line in coloured]
    assert "\x1b[" not in "".join(plain) and "\x1b[32m" in coloured[1]
    assert plain[1].index("a-very") == plain[2].index("b ")  # columns line up
    narrow = render.render_table(cols, rows, Palette(False), max_width=20)
    assert all(render.display_width(line) <= 20 for line in narrow) and "…" in narrow[1]


def test_colour_policy() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_colour(Tty(), {"TERM": "xterm"})
    assert not use_colour(Tty(), {"TERM": "xterm", "NO_COLOR": "1"})
    assert use_colour(Tty(), {"TERM": "xterm", "NO_COLOR": ""})  # no-color.org: set AND non-empty
    assert not use_colour(Tty(), {"TERM": "dumb"})
    assert not use_colour(io.StringIO(), {"TERM": "xterm"})


def test_progress_and_countdown_render() -> None:
    bar = ProgressBar(io.StringIO(), "bundle")
    assert bar.render(512 * 1024, 2**20) == "bundle [###############---------------]  50%  512 KiB / 1.0 MiB"
    assert bar.render(10, None) == "bundle 10 B"
    t = [100.0]
    c = Countdown(io.StringIO(), 5, "Capturing", clock=lambda: t[0])
    assert c.text() == "Capturing: 5 s left"
    t[0] = 102.5
    assert c.text() == "Capturing: 3 s left"
    t[0] = 106
    assert c.text() == "Capturing: storing…"
    c.tick()  # not a terminal: draws nothing
    assert c.stream.getvalue() == ""


@pytest.mark.parametrize("pattern,expected", [
    ("py*", "[pP][yY]*"), ("*tool", "*[tT][oO][oO][lL]"), ("a?1", "[aA]?1"), ("[a-c]x", "[a-cA-C][xX]"),
    ("[^ab]", "[^abAB]"), ("[!Q]", "[!Qq]"), ("[]a]", "[]aA]"), ("[0-9]", "[0-9]"), ("[abc", "[abc"), ("é*", "é*"),
])
def test_case_insensitive_glob(pattern: str, expected: str) -> None:
    assert case_insensitive_glob(pattern) == expected


def test_filters_query_kwargs() -> None:
    assert Filters().query_kwargs() == {} and Filters(limit=3).is_empty
    assert Filters(process="Work").query_kwargs() == {"process": "Work"}
    assert Filters(process="py*", pid=4).query_kwargs() == {"process_glob": "[pP][yY]*", "pid": 4}
    assert not Filters(metric="cpu").is_empty


def test_folded_tree() -> None:
    stacks = parse_folded(b"main;a;b 3\nmain;a 2\n\nbad line\nmain;c 5\nmain;a;b 1\n")
    assert stacks == [(["main", "a", "b"], 3), (["main", "a"], 2), (["main", "c"], 5), (["main", "a", "b"], 1)]
    root = build_tree(stacks)
    assert root.count == 11 and root.children["main"].children["a"].count == 6
    assert root.children["main"].children["a"].children["b"].count == 4 and root.depth == 4


def test_default_rules_are_the_librarys(lib) -> None:
    import spikevault

    ours = to_monitor_rules(WatchConfig(rules=DEFAULT_RULES))
    theirs = spikevault.default_rules()
    assert [(str(r.metric), r.threshold, r.sustain) for r in ours] == \
        [(str(spikevault.Metric.parse(r.metric).stored_name), r.threshold, r.sustain) for r in theirs]
    rules = to_monitor_rules(WatchConfig(rules=parse_rules_document(
        {"rules": [{"metric": "memory", "above": "512MiB", "include": ["py*"]}]}, "r").rules, cooldown=60,
        backend="procfs", duration=2))
    assert rules[0].threshold == 512 and rules[0].include == ("py*",) and rules[0].cooldown == 60
    assert rules[0].backend == "procfs" and rules[0].duration == 2


def test_rules_documents() -> None:
    cfg = parse_rules_document({"cooldown": "10m", "max_per_hour": 3, "capture": {"backend": "perf", "duration": "2s"},
                                "rules": [{"metric": "cpu", "above": 80, "sustain": "10s", "include": ["py*"]},
                                          {"metric": "memory", "above": "2G"},
                                          {"metric": "memory", "below": "100M", "uids": [1000]}]}, "r.toml")
    assert cfg.cooldown == 600 and cfg.max_per_hour == 3 and cfg.backend == "perf" and cfg.duration == 2
    assert [(r.metric, r.threshold, r.below, r.sustain) for r in cfg.rules] == [
        ("cpu", 80, False, 10), ("memory", 2e9, False, None), ("memory", 1e8, True, None)]
    assert cfg.rules[0].describe() == "cpu >= 80% for 10s include py*"
    bad = [
        ({"rules": []}, "no rules"),
        ({"rules": [{"metric": "cpu"}]}, "exactly one of above or below"),
        ({"rules": [{"metric": "gpu", "above": 1}]}, "unknown metric"),
        ({"rules": [{"metric": "cpu", "above": 1, "sustian": "1s"}]}, "unknown key 'sustian'"),
        ({"rules": [{"metric": "cpu", "above": 1, "sustain": "5x"}]}, "not a duration"),
        ({"rules": [{"metric": "memory", "above": "lots"}]}, "not a size"),
        ({"rules": [{"metric": "cpu", "above": 1}], "max_per_hour": 0}, "max_per_hour"),
        ({"rules": [{"metric": "cpu", "above": 1}], "capture": {"backend": "dtrace"}}, "backend"),
        ({"rule": []}, "unknown key 'rule'"),
    ]
    for doc, message in bad:
        with pytest.raises(RulesError, match=message):
            parse_rules_document(doc, "r.toml")


def _backend_choices(verb: str) -> tuple:
    from spikevault.cli.main import build_parser

    sub = next(a for a in build_parser(verb)._actions if a.dest == "verb").choices[verb]
    return tuple(next(a for a in sub._actions if a.dest == "backend").choices)


def test_every_verb_offers_the_same_backends() -> None:
    """record/top/watch (and rules files) offer capture's backends, all but `command` (whose argv
    only `capture ... -- TOOL` gives): py-spy was missing from watch and top."""
    from spikevault.cli.cmd_capture import BACKENDS

    tools = tuple(b for b in BACKENDS if b != "command")
    assert "py-spy" in tools and _backend_choices("capture") == BACKENDS
    for verb in ("record", "top", "watch"):
        assert _backend_choices(verb) == tools, verb
    for b in tools:
        assert parse_rules_document({"rules": [{"metric": "cpu", "above": 50}], "capture": {"backend": b}}, "r").backend == b
    with pytest.raises(RulesError, match="py-spy"):
        parse_rules_document({"rules": [{"metric": "cpu", "above": 50}], "capture": {"backend": "command"}}, "r")
