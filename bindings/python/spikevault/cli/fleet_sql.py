"""The fleet analytics templates (docs/fleet.md): the library's four templates
(Sources/SpikeVault/Review/Analytics.swift) over many hosts' Parquet, plus hottest stacks
across hosts and hosts spiking on the same process in the same hour. One SQL text per
template runs unchanged in DuckDB, ClickHouse (chDB) and SQLite: ``{captures}`` and
``{stacks}`` stand for the engine's source of the two Parquet tables, ``{range}`` for the
time filter. Ties break on (host, captureId): capture ids repeat across hosts."""

from __future__ import annotations

from typing import Dict, List, Tuple

TEXT, INT, DOUBLE = "text", "int", "double"

#: name -> (columns with kinds, SQL)
TEMPLATES: Dict[str, Tuple[List[Tuple[str, str]], str]] = {
    "peak-by-process": (
        [("processName", TEXT), ("triggerMetric", TEXT), ("peak", DOUBLE), ("peakAt", TEXT), ("host", TEXT),
         ("captures", INT)],
        """
        SELECT processName, triggerMetric, triggerValue AS peak, capturedAt AS peakAt, host, captures FROM (
          SELECT processName, triggerMetric, triggerValue, capturedAt, host,
            row_number() OVER (PARTITION BY processName, triggerMetric
                               ORDER BY triggerValue DESC, capturedAt ASC, host ASC, captureId ASC) AS rn,
            count(*) OVER (PARTITION BY processName, triggerMetric) AS captures
          FROM {captures} WHERE {range}) t
        WHERE rn = 1 ORDER BY peak DESC, processName, triggerMetric
        """),
    "captures-per-hour": (
        [("hourStart", TEXT), ("triggerMetric", TEXT), ("captures", INT)],
        """
        SELECT substr(capturedAt, 1, 13) || ':00:00.000Z' AS hourStart, triggerMetric, count(*) AS captures
        FROM {captures} WHERE {range}
        GROUP BY hourStart, triggerMetric ORDER BY hourStart, triggerMetric
        """),
    "top-processes": (
        [("processName", TEXT), ("captures", INT), ("peak", DOUBLE), ("hosts", INT), ("rankByCount", INT)],
        """
        SELECT processName, captures, peak, hosts, rank() OVER (ORDER BY captures DESC) AS rankByCount FROM (
          SELECT processName, count(*) AS captures, max(triggerValue) AS peak, count(DISTINCT host) AS hosts
          FROM {captures} WHERE {range} GROUP BY processName) g
        ORDER BY captures DESC, processName LIMIT 20
        """),
    "p95-by-process": (
        [("processName", TEXT), ("p95", DOUBLE), ("captures", INT)],
        """
        SELECT processName, triggerValue AS p95, n AS captures FROM (
          SELECT processName, triggerValue,
            row_number() OVER (PARTITION BY processName ORDER BY triggerValue, host, captureId) AS rn,
            count(*) OVER (PARTITION BY processName) AS n
          FROM {captures} WHERE {range}) t
        WHERE rn * 100 >= 95 * n AND (rn - 1) * 100 < 95 * n ORDER BY processName
        """),
    "hottest-stacks": (
        [("kind", TEXT), ("stack", TEXT), ("samples", INT), ("hosts", INT), ("captures", INT)],
        """
        SELECT kind, stack, sum("count") AS samples, count(DISTINCT host) AS hosts, count(*) AS captures
        FROM {stacks} WHERE {range}
        GROUP BY kind, stack ORDER BY samples DESC, kind, stack LIMIT 20
        """),
    "same-hour-spikes": (
        [("processName", TEXT), ("hourStart", TEXT), ("host", TEXT), ("captures", INT), ("hosts", INT)],
        """
        SELECT processName, hourStart, host, captures, hosts FROM (
          SELECT processName, hourStart, host, captures,
            count(*) OVER (PARTITION BY processName, hourStart) AS hosts
          FROM (SELECT processName, substr(capturedAt, 1, 13) || ':00:00.000Z' AS hourStart, host,
                       count(*) AS captures
                FROM {captures} WHERE {range} GROUP BY processName, hourStart, host) g) w
        WHERE hosts >= 2 ORDER BY hourStart, processName, host
        """),
}


def render(name: str, captures: str, stacks: str, since: str, until: str) -> str:
    """The template's SQL for one engine. ``since``/``until`` are stored-form times
    (``YYYY-MM-DD HH:MM:SS.SSSZ``), checked by the caller to hold only digits and ``-: .Z``."""
    _, sql = TEMPLATES[name]
    time_range = f"capturedAt >= '{since}' AND capturedAt < '{until}'"
    return sql.format(captures=captures, stacks=stacks, range=time_range)


def normalise(name: str, rows: List[dict]) -> List[dict]:
    """Rows with each column in one Python type, whatever the engine returned (ClickHouse
    quotes 64-bit integers in JSON; DuckDB does not)."""
    columns, _ = TEMPLATES[name]
    out = []
    for row in rows:
        item = {}
        for column, kind in columns:
            v = row.get(column)
            if v is not None:
                v = str(v) if kind == TEXT else int(v) if kind == INT else float(v)
            item[column] = v
        out.append(item)
    return out
