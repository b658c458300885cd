/// Built-in analytics over a time range, as SQL that runs unchanged in SQLite (window
/// functions, SQLite >= 3.25) and in DuckDB (over a snapshot, see `exportDuckDB`).
/// Results are JSON text: an array of objects, one per row, keys as in `columns`.
public enum AnalyticsTemplate: String, Sendable, CaseIterable {
    /// Peak trigger value per process and metric (with when it happened and how many captures).
    case peakByProcess = "peak-by-process"
    /// Captures per hour (UTC hour start, in the stored time form) per metric.
    case capturesPerHour = "captures-per-hour"
    /// The 20 processes with the most captures, ranked (`rank()` window).
    case topProcesses = "top-processes"
    /// The 95th percentile (nearest rank) of the trigger value per process.
    case p95ByProcess = "p95-by-process"

    enum Kind { case text, int, double }

    var columns: [(String, Kind)] {
        switch self {
        case .peakByProcess:
            return [("processName", .text), ("triggerMetric", .text), ("peak", .double), ("peakAt", .text), ("captures", .int)]
        case .capturesPerHour: return [("hourStart", .text), ("triggerMetric", .text), ("captures", .int)]
        case .topProcesses: return [("processName", .text), ("captures", .int), ("peak", .double), ("rankByCount", .int)]
        case .p95ByProcess: return [("processName", .text), ("p95", .double), ("captures", .int)]
        }
    }

    /// The SQL with the time range inlined (fixed-form time text, digits only; identical for
    /// both engines: capturedAt is the same text in the DuckDB snapshot).
    public func sql(since: Timestamp, until: Timestamp) -> String {
        let range = "capturedAt >= '\(since.sqlBound)' AND capturedAt < '\(until.sqlBound)'"
        switch self {
        case .peakByProcess:
            return """
                SELECT processName, triggerMetric, triggerValue AS peak, capturedAt AS peakAt, captures FROM (
                  SELECT processName, triggerMetric, triggerValue, capturedAt,
                    row_number() OVER (PARTITION BY processName, triggerMetric
                                       ORDER BY triggerValue DESC, capturedAt ASC, id ASC) AS rn,
                    count(*) OVER (PARTITION BY processName, triggerMetric) AS captures
                  FROM profile_capture WHERE \(range)) t
                WHERE rn = 1 ORDER BY peak DESC, processName, triggerMetric
                """
        case .capturesPerHour:
            return """
                SELECT substr(capturedAt, 1, 13) || ':00:00.000Z' AS hourStart, triggerMetric, count(*) AS captures
                FROM profile_capture WHERE \(range)
                GROUP BY 1, 2 ORDER BY 1, 2
                """
        case .topProcesses:
            return """
                SELECT processName, count(*) AS captures, max(triggerValue) AS peak,
                  rank() OVER (ORDER BY count(*) DESC) AS rankByCount
                FROM profile_capture WHERE \(range)
                GROUP BY processName ORDER BY captures DESC, processName LIMIT 20
                """
        case .p95ByProcess:
            return """
                SELECT processName, triggerValue AS p95, n AS captures FROM (
                  SELECT processName, triggerValue,
                    row_number() OVER (PARTITION BY processName ORDER BY triggerValue, id) AS rn,
                    count(*) OVER (PARTITION BY processName) AS n
                  FROM profile_capture WHERE \(range)) t
                WHERE rn * 100 >= 95 * n AND (rn - 1) * 100 < 95 * n ORDER BY processName
                """
        }
    }
}

extension Vault {
    /// Runs `template` over `[since, until)` in SQLite; JSON text (array of row objects).
    public func analytics(_ template: AnalyticsTemplate, since: Timestamp, until: Timestamp) throws -> String {
        guard since <= until else {
            throw SpikeVaultError(.invalidArgument, "inverted time range: until (\(until)) is before since (\(since))")
        }
        let sql = template.sql(since: since, until: until)
        return try withDatabase { db in
            let st = try db.statement(sql)
            defer { st.reset() }
            var w = JSONWriter()
            w.beginArray()
            while try st.step() {
                w.beginObject()
                for (i, (name, kind)) in template.columns.enumerated() {
                    w.key(name)
                    let c = Int32(i)
                    if st.isNull(c) { w.null(); continue }
                    switch kind {
                    case .text: w.string(st.text(c) ?? "")
                    case .int: w.int(st.int64(c))
                    case .double: w.double(st.double(c))
                    }
                }
                w.endObject()
            }
            w.endArray()
            return w.takeText()
        }
    }
}
