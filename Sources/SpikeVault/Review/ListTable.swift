#if canImport(Glibc)
import Glibc
#endif

/// The table `spikevault list` prints when its output is not a terminal (no colour, no width
/// limit), written by the library so the CLI does not touch each row in Python. Byte for byte
/// what `cli/cmd_list.py` `table_lines` renders: blocks of `blockRows` records, the header with
/// the first block, columns as wide as the widest cell of the block and never narrower than in
/// the blocks before, two spaces between columns, trailing spaces stripped, every cell escaped
/// as `textsafe.visible` does (`TerminalCells`). The CLI keeps its own renderer for terminals.
public struct ListTable {
    public static let blockRows = 1000
    static let titles = ["ID", "TIME", "PROCESS", "PID", "METRIC", "VALUE", "DURATION", "SIZE", "STATUS", "ARTEFACTS"]
    static let rightAligned: [Bool] = [true, false, false, true, false, true, true, true, false, false]

    /// Microseconds since the epoch that relative times are measured from (the CLI's `now`).
    let nowMicros: Int64
    private var out: OutputBuffer
    private var pending: [ProfileRecord] = []
    private var widths: [Int] = []
    /// Rows written so far.
    public private(set) var rows: Int64 = 0

    /// A table written to `fd` (which stays the caller's).
    public init(fd: Int32, nowMicros: Int64) {
        self.nowMicros = nowMicros
        out = OutputBuffer(fd: fd, what: "writing the list to descriptor \(fd)")
    }

    /// Takes records in display order; writes every complete block.
    public mutating func add(_ records: [ProfileRecord]) throws {
        pending += records
        while pending.count >= Self.blockRows {
            appendBlock(Array(pending[0..<Self.blockRows]))
            pending.removeFirst(Self.blockRows)
            try out.flush()
        }
    }

    /// Writes the last, partial block and flushes.
    public mutating func finish() throws {
        appendBlock(pending)
        pending = []
        try out.flush()
    }

    /// Appends the lines of one block (the header too, for the first block).
    private mutating func appendBlock(_ block: [ProfileRecord]) {
        guard !block.isEmpty else { return }
        let cells = block.map { cellsOf($0) }
        var w = Self.titles.map { $0.utf8.count }
        for row in cells { for i in 0..<w.count where row[i].width > w[i] { w[i] = row[i].width } }
        if !widths.isEmpty { for i in 0..<w.count where widths[i] > w[i] { w[i] = widths[i] } }
        let header = widths.isEmpty
        widths = w
        var line: [UInt8] = []
        line.reserveCapacity(256)
        if header { emit(Self.titles.map { ($0, $0.utf8.count) }, &line) }
        for row in cells { emit(row, &line) }
        rows += Int64(block.count)
    }

    private mutating func emit(_ row: [(text: String, width: Int)], _ line: inout [UInt8]) {
        line.removeAll(keepingCapacity: true)
        for (i, c) in row.enumerated() {
            if i > 0 { line += [0x20, 0x20] }
            let pad = widths[i] - c.width
            if Self.rightAligned[i] { line += repeatElement(0x20, count: pad) }
            line += c.text.utf8
            if !Self.rightAligned[i] { line += repeatElement(0x20, count: pad) }
        }
        while line.last == 0x20 { line.removeLast() }  // Python's rstrip(): other blanks are escaped
        line.append(0x0A)
        out.append(bytes: line)
    }

    private func cellsOf(_ r: ProfileRecord) -> [(text: String, width: Int)] {
        let kinds = r.artefacts.map(\.kind).joined(separator: ",")
        return [String(r.id), relativeTime(r.capturedAt.milliseconds), r.processName, String(r.pid),
                r.triggerMetric.rawValue, Self.formatValue(r.triggerMetric, r.triggerValue),
                Self.fixed(r.durationSeconds, 1) + "s", Self.humanSize(r.storedBytes), r.status.rawValue,
                kinds.isEmpty ? "-" : kinds].map { TerminalCells.cell($0) }
    }

    /// `render.relative_time`: "just now", "42 s ago", "3 min ago", "5 h ago", "2 days ago",
    /// else the local date and minute (older than a week, or more than a minute ahead).
    func relativeTime(_ ms: Int64) -> String {
        let (d, overflow) = nowMicros.subtractingReportingOverflow(ms.multipliedReportingOverflow(by: 1000).partialValue)
        if overflow || d < -60_000_000 || d >= 7 * 86_400_000_000 { return Self.localMinute(ms) }
        if d < 5_000_000 { return "just now" }
        if d < 60_000_000 { return "\(d / 1_000_000) s ago" }
        if d < 3_600_000_000 { return "\(d / 60_000_000) min ago" }
        if d < 86_400_000_000 { return "\(d / 3_600_000_000) h ago" }
        let days = d / 86_400_000_000
        return days == 1 ? "1 day ago" : "\(days) days ago"
    }

    /// `datetime.astimezone().strftime("%Y-%m-%d %H:%M")`: the local time zone (TZ) as libc sees it.
    static func localMinute(_ ms: Int64) -> String {
        var t = time_t(ms.floorDiv(1000))
        var parts = tm()
        guard localtime_r(&t, &parts) != nil else { return "?" }
        var buf = [CChar](repeating: 0, count: 64)
        let n = strftime(&buf, buf.count, "%Y-%m-%d %H:%M", &parts)
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Python's `f"{value:.{digits}f}"` (both correctly rounded from the binary value).
    static func fixed(_ value: Double, _ digits: Int) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        // Fast path: value * 10^digits lands on an integer k, so value is within rounding error of
        // k / 10^digits, far from a rounding midpoint: the answer is k's digits (vsnprintf per
        // cell was most of the table's time; durations and sizes are mostly such values).
        let scaled = digits == 0 ? value : value * 10
        if scaled == scaled.rounded(.towardZero) && scaled.magnitude < 1e15 {
            let k = Int64(scaled.magnitude)
            let sign = value.sign == .minus ? "-" : ""
            return digits == 0 ? "\(sign)\(k)" : "\(sign)\(k / 10).\(k % 10)"
        }
        var buf = [CChar](repeating: 0, count: 400)
        let n = withVaList([value]) { vsnprintf(&buf, buf.count, digits == 0 ? "%.0f" : "%.1f", $0) }
        return String(decoding: buf[0..<Int(max(0, min(n, Int32(buf.count - 1))))].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func plain(_ v: Double) -> String {
        (v - v.rounded(.toNearestOrEven)).magnitude > 1e-9 ? fixed(v, 1) : fixed(v, 0)
    }

    /// `render.format_value`: CPU in % of one core; big counts scaled (150000000 -> 150M).
    static func formatValue(_ metric: TriggerMetric, _ value: Double) -> String {
        if metric == .cpu { return plain(value) + "%" }
        if value.magnitude >= 100_000 {
            for (unit, size) in [("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)] where value.magnitude >= size {
                let scaled = value / size
                return (scaled.magnitude < 100 ? fixed(scaled, 1) : fixed(scaled, 0)) + unit
            }
        }
        return plain(value)
    }

    /// `render.human_size`: IEC units, "999 B", "1.2 MiB", "120 GiB".
    static func humanSize(_ n: Int64) -> String {
        if n < 1024 { return "\(n) B" }
        var value = Double(n)
        for unit in ["KiB", "MiB", "GiB", "TiB", "PiB"] {
            value /= 1024.0
            if value < 1023.95 || unit == "PiB" { return (value < 100 ? fixed(value, 1) : fixed(value, 0)) + " " + unit }
        }
        return "\(n) B"
    }
}
