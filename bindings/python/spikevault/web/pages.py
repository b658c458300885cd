"""Server-rendered HTML: the anomalies list (timeline + table + filters), a capture (summary,
identity, trigger, notes, artefacts, flame graph, diff) and the analytics templates. Every
value from the vault passes through escaping.text/attr/json_block; scripts are files
(/static/*.js) so the Content-Security-Policy needs no 'unsafe-inline'."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from .._enums import CaptureStatus, Metric
from ..cli.render import format_value, human_size, utc_time
import json

from .escaping import attr, json_block, lines, query, text
from .filters import ORDERS, Filters

__all__ = ["layout", "list_page", "capture_page", "analytics_page", "error_page"]


def layout(title: str, body: str, csrf: str, scripts: Sequence[str] = ("app.js",), read_only: bool = False) -> str:
    tags = "".join(f'<script src="/static/{attr(s)}" defer></script>' for s in scripts)
    mode = ' data-read-only="1"' if read_only else ""
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"csrf\" content=\"{attr(csrf)}\"><title>{text(title)} · SpikeVault</title>"
            f"<link rel=\"stylesheet\" href=\"/static/style.css\">{tags}</head><body{mode}>"
            "<header><a class=\"brand\" href=\"/\">SpikeVault</a> <a href=\"/\">Recent anomalies</a> "
            "<a href=\"/analytics\">Analytics</a>" + (" <span class=\"ro\">read-only</span>" if read_only else "")
            + f"</header><main>{body}</main></body></html>")


def _select(name: str, options: Sequence[str], current: str, blank: str = "any") -> str:
    opts = [f'<option value="">{text(blank)}</option>'] if blank else []
    opts += [f'<option value="{attr(o)}"{" selected" if o == current else ""}>{text(o)}</option>' for o in options]
    return f'<select name="{attr(name)}" id="f-{attr(name)}">{"".join(opts)}</select>'


def _input(name: str, current: str, kind: str = "text", placeholder: str = "") -> str:
    return (f'<input name="{attr(name)}" id="f-{attr(name)}" type="{attr(kind)}" value="{attr(current)}" '
            f'placeholder="{attr(placeholder)}">')


def _filter_form(f: Filters) -> str:
    v = f.values
    return ('<form class="filters" method="get" action="/" id="filters">'
            f'<label>metric {_select("metric", [m.stored_name for m in Metric], v.get("metric", ""))}</label>'
            f'<label>process {_input("process", v.get("process", ""), placeholder="name contains")}</label>'
            f'<label>pid {_input("pid", v.get("pid", ""), "number")}</label>'
            f'<label>since {_input("since", v.get("since", ""), placeholder="2026-12-03T10:00 (UTC)")}</label>'
            f'<label>until {_input("until", v.get("until", ""), placeholder="exclusive")}</label>'
            f'<label>value ≥ {_input("min", v.get("min", ""), placeholder="min")}</label>'
            f'<label>≤ {_input("max", v.get("max", ""), placeholder="max")}</label>'
            f'<label>status {_select("status", [s.stored_name for s in CaptureStatus], v.get("status", ""))}</label>'
            f'<label>sort {_select("order", ORDERS, v.get("order", "time-desc"), blank="")}</label>'
            '<button type="submit" id="apply">Filter</button> <a href="/">clear</a></form>')


def _timeline(records: Sequence[Any]) -> str:
    """Captures on this page as dots: time → x, value → y (per-page scale, one colour per metric)."""
    if not records:
        return ""
    w, h, pad = 900, 120, 8
    times = [r.captured_at.timestamp() for r in records]
    values = [r.value for r in records]
    t0, t1 = min(times), max(times)
    v1 = max(values) or 1.0
    dots = []
    for r, t, v in zip(records, times, values):
        x = pad + (w - 2 * pad) * ((t - t0) / (t1 - t0) if t1 > t0 else 0.5)
        y = h - pad - (h - 2 * pad) * (v / v1 if v1 else 0)
        dots.append(f'<a href="/capture/{r.id}"><circle class="m-{attr(r.metric.stored_name)}" cx="{x:.1f}" '
                    f'cy="{y:.1f}" r="4"><title>{text(r.process_name)} {text(r.metric.stored_name)} '
                    f'{text(format_value(r.metric.stored_name, r.value))} {text(utc_time(r.captured_at))}</title>'
                    '</circle></a>')
    return (f'<svg class="timeline" id="timeline" viewBox="0 0 {w} {h}" role="img" aria-label="captures by time '
            f'and value"><line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" class="axis"/>'
            + "".join(dots) + "</svg>")


def _row(r: Any) -> str:
    metric = r.metric.stored_name
    return (f'<tr data-id="{r.id}"><td><a href="/capture/{r.id}">{r.id}</a></td>'
            f'<td>{text(utc_time(r.captured_at))}</td><td class="proc">{text(r.process_name)}</td>'
            f'<td>{r.pid}</td><td>{text(metric)}</td><td class="num">{text(format_value(metric, r.value))}</td>'
            f'<td>{text(r.status.stored_name)}</td><td class="num">{text(human_size(r.stored_bytes))}</td></tr>')


def list_page(records: Sequence[Any], f: Filters, next_after: Optional[str], newest_id: Optional[int],
              csrf: str, read_only: bool) -> str:
    errors = "".join(f'<p class="error">{text(e)}</p>' for e in f.errors)
    rows = "".join(_row(r) for r in records) or '<tr><td colspan="8" class="empty">No capture matches.</td></tr>'
    base = dict(f.values)
    more = (f'<a id="next" href="/?{attr(query({**base, "after": next_after}))}">next page →</a>'
            if next_after else "")
    exports = " ".join(f'<a class="export" id="export-{fmt}" href="/export?{attr(query({**base, "format": fmt}))}">'
                       f'{fmt}</a>' for fmt in ("csv", "json", "ndjson", "bundle"))
    live = json_block({"newest": newest_id, "filtered": bool(f.values)})
    body = (f"<h1>Recent anomalies</h1>{_filter_form(f)}{errors}"
            f'<p class="live" id="live" hidden><a href="">New captures arrived: reload</a></p>'
            f"{_timeline(records)}"
            f'<p class="actions">Export this selection (redacted): {exports} '
            f'<a id="export-raw" href="/export?{attr(query({**base, "format": "json", "redact": "0"}))}">'
            "json, not redacted</a></p>"
            '<table id="captures"><thead><tr><th>id</th><th>captured (UTC)</th><th>process</th><th>pid</th>'
            f"<th>metric</th><th>value</th><th>status</th><th>stored</th></tr></thead><tbody>{rows}</tbody></table>"
            f'<p class="paging">{more}</p><script type="application/json" id="live-data">{live}</script>')
    return layout("Recent anomalies", body, csrf, read_only=read_only)


def _kv(rows: List[tuple]) -> str:
    return "<table class=\"kv\">" + "".join(f"<tr><th>{text(k)}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _diff_table(diff: Dict[str, Any], a: Any, b: Any) -> str:
    def part(title: str, rows: List[Any], cls: str) -> str:
        if not rows:
            return f"<p>No frame {text(title)}.</p>"
        body = "".join(f'<tr class="{cls}"><td class="num">{r.delta_percent:+.1f}%</td>'
                       f'<td class="num">{r.before_percent:.1f}%</td><td class="num">{r.after_percent:.1f}%</td>'
                       f'<td class="frame">{text(r.frame)}</td></tr>' for r in rows)
        return (f"<h3>Frames that {text(title)}</h3><table class=\"diff\"><thead><tr><th>change</th>"
                f"<th>before</th><th>after</th><th>frame</th></tr></thead><tbody>{body}</tbody></table>")

    return (f'<section id="diff"><h2>Compared with capture <a href="/capture/{a.id}">{a.id}</a> '
            f"({text(a.process_name)}, {text(diff['kindA'])} → {text(diff['kindB'])})</h2>"
            + part("grew", diff["grew"], "grew") + part("shrank", diff["shrank"], "shrank") + "</section>")


def capture_page(r: Any, summary: str, kinds: List[str], kind: Optional[str], artefact_paths: Dict[str, str],
                 diff: Optional[Dict[str, Any]], against: Optional[Any], diff_error: Optional[str],
                 threads: str, csrf: str, read_only: bool) -> str:
    """``threads`` is the threads chart section, already rendered (threadchart.render)."""
    metric = r.metric.stored_name
    identity = _kv([("process", text(r.process_name)), ("pid", str(r.pid)),
                    ("process start", text(r.process_start_time if r.process_start_time is not None else "?")),
                    ("host", text(r.host or "")), ("machine id", text(r.machine_id or ""))])
    trigger = _kv([("metric", text(metric)), ("value", text(format_value(metric, r.value))),
                   ("captured (UTC)", text(utc_time(r.captured_at))), ("duration", text(f"{r.duration:g} s")),
                   ("status", text(r.status.stored_name))])
    notes = _kv([(k, text(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)))
                  for k, v in sorted((r.notes or {}).items())]) if r.notes else "<p>none</p>"
    arts = "".join(
        f'<tr><td>{text(a.kind)}</td><td class="num">{text(human_size(a.raw_bytes))}</td>'
        f'<td class="num">{text(human_size(a.stored_bytes))}</td>'
        f'<td><code class="path">{text(artefact_paths.get(a.kind, ""))}</code> '
        f'<button type="button" class="copy-path" data-path="{attr(artefact_paths.get(a.kind, ""))}">copy path'
        "</button></td></tr>" for a in r.artefacts)
    tabs = " ".join(f'<a class="kind{" on" if k == kind else ""}" href="/capture/{r.id}?{attr(query({"kind": k}))}">'
                    f"{text(k)}</a>" for k in kinds)
    flame = ('<section id="flame-section"><h2>Flame graph</h2>'
             f'<p class="kinds">{tabs}</p><p><input id="flame-search" placeholder="search frames (regex)"> '
             '<button type="button" id="flame-reset">reset zoom</button> <span id="flame-match"></span></p>'
             f'<div id="flame" data-src="/api/stacks/{r.id}?{attr(query({"kind": kind}))}"></div>'
             '<p id="flame-info" class="info"></p></section>') if kind else \
        "<section><h2>Flame graph</h2><p>This capture holds no stack artefact.</p></section>"
    mutating = "" if read_only else (
        f'<form method="post" action="/capture/{r.id}/rerun" class="inline" id="rerun-form">'
        f'<input type="hidden" name="csrf" value="{attr(csrf)}"><button type="submit" id="rerun">Re-run capture'
        "</button></form> "
        f'<form method="post" action="/capture/{r.id}/delete" class="inline" id="delete-form">'
        f'<input type="hidden" name="csrf" value="{attr(csrf)}"><button type="submit" id="delete">Delete capture'
        "</button></form> ")
    actions = (f'<p class="actions">{mutating}<button type="button" id="copy-summary" data-src="/api/summary/{r.id}">'
               'Copy summary</button> <button type="button" id="copy-json" '
               f'data-src="/api/summary/{r.id}?format=json">Copy summary JSON</button> '
               f'<a id="export-capture" href="/export?{attr(query({"format": "bundle", "id": r.id}))}">'
               'export bundle (redacted)</a> <span id="copy-status" role="status"></span></p>'
               '<textarea id="clipboard" readonly hidden></textarea>')
    compare = (f'<form method="get" action="/capture/{r.id}" class="inline" id="compare">'
               f'<label>compare with capture <input name="against" id="against" type="number" '
               f'value="{attr(against.id if against else "")}"></label> <button type="submit">Diff</button></form>')
    diff_html = (f'<p class="error">{text(diff_error)}</p>' if diff_error else "") + (
        _diff_table(diff, against, r) if diff and against else "")
    body = (f"<h1>Capture {r.id}: <span class=\"proc\">{text(r.process_name)}</span></h1>{actions}{flame}"
            f'<div class="cols"><section><h2>Identity</h2>{identity}</section>'
            f"<section><h2>Trigger</h2>{trigger}</section><section><h2>Notes</h2>{notes}</section></div>"
            f'<section><h2>Summary</h2><pre id="summary">{lines(summary)}</pre></section>'
            f"{threads}<section><h2>Compare</h2>{compare}{diff_html}</section>"
            "<section><h2>Artefacts</h2><table><thead><tr><th>kind</th><th>raw</th><th>stored</th><th>path (reveal)"
            f"</th></tr></thead><tbody>{arts}</tbody></table></section>")
    return layout(f"Capture {r.id}", body, csrf, scripts=("app.js", "flame.js"), read_only=read_only)


def analytics_page(name: str, names: Sequence[str], rows: List[Dict[str, Any]], csrf: str, read_only: bool) -> str:
    tabs = " ".join(f'<a class="kind{" on" if n == name else ""}" href="/analytics?{attr(query({"template": n}))}">'
                    f"{text(n)}</a>" for n in names)
    cols = list(rows[0].keys()) if rows else []
    numeric = next((c for c in cols if all(isinstance(x.get(c), (int, float)) for x in rows) and c != "pid"), None)
    peak = max((abs(x[numeric]) for x in rows), default=0) if numeric else 0
    head = "".join(f"<th>{text(c)}</th>" for c in cols) + ("<th></th>" if numeric else "")
    body_rows = ""
    for x in rows[:500]:
        bar = ""
        if numeric and peak:
            bar = f'<td><svg class="bar" viewBox="0 0 100 8"><rect width="{100 * abs(x[numeric]) / peak:.1f}" height="8"/></svg></td>'
        body_rows += "<tr>" + "".join(f"<td>{text(x.get(c, ''))}</td>" for c in cols) + bar + "</tr>"
    body = (f"<h1>Analytics</h1><p class=\"kinds\">{tabs}</p><table id=\"analytics\"><thead><tr>{head}</tr></thead>"
            f"<tbody>{body_rows or '<tr><td>No rows.</td></tr>'}</tbody></table>")
    return layout("Analytics", body, csrf, read_only=read_only)


def error_page(status: int, message: str, csrf: str = "") -> str:
    return layout(f"Error {status}", f'<h1>Error {status}</h1><p class="error" id="error">{text(message)}</p>', csrf)
