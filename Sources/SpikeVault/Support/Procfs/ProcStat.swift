/// Fields of `/proc/PID/stat` (or `/proc/PID/task/TID/stat`) the capture layer uses.
/// Field numbers follow proc(5).
public struct ProcStat: Sendable, Equatable {
    public var pid: Int32          // field 1
    public var comm: String        // field 2, without the parentheses
    public var state: Character    // field 3 (R, S, D, Z, T, t, X, I, ...)
    public var ppid: Int32         // field 4
    public var utimeTicks: UInt64  // field 14
    public var stimeTicks: UInt64  // field 15
    public var numThreads: Int     // field 20
    public var startTimeTicks: UInt64 // field 22, clock ticks since boot

    public init(pid: Int32, comm: String, state: Character, ppid: Int32, utimeTicks: UInt64,
                stimeTicks: UInt64, numThreads: Int, startTimeTicks: UInt64) {
        self.pid = pid; self.comm = comm; self.state = state; self.ppid = ppid
        self.utimeTicks = utimeTicks; self.stimeTicks = stimeTicks
        self.numThreads = numThreads; self.startTimeTicks = startTimeTicks
    }

    /// True for a zombie or dead task: it no longer runs and has no stacks to sample.
    public var hasExited: Bool { state == "Z" || state == "X" || state == "x" }

    /// Parses the text of a stat file. `comm` sits in parentheses and may itself contain
    /// spaces, parentheses and newlines, so it ends at the LAST `)` in the text.
    /// Returns nil when the text is not a stat line.
    public static func parse(_ text: String) -> ProcStat? {
        var t = text
        return t.withUTF8 { parse(bytes: $0) }
    }

    /// Parses raw stat bytes (as read from /proc: comm may hold any byte).
    public static func parse(bytes: [UInt8]) -> ProcStat? { bytes.withUnsafeBufferPointer { parse(bytes: $0) } }

    /// Parses the raw bytes of a stat file (see `parse(_:)`); only `comm` becomes a String.
    public static func parse(bytes: UnsafeBufferPointer<UInt8>) -> ProcStat? {
        guard let r = ProcBytes.parseStat(bytes) else { return nil }
        // Lossless like exe and cmdline: invalid UTF-8 becomes `\xNN`, not U+FFFD.
        let comm = LosslessText.escape(Array(bytes[r.commStart..<r.commEnd]))
        return ProcStat(pid: r.pid, comm: comm, state: Character(Unicode.Scalar(r.state)), ppid: r.ppid,
                        utimeTicks: r.utime, stimeTicks: r.stime, numThreads: r.numThreads, startTimeTicks: r.startTime)
    }
}

/// `Key:  value` lines of `/proc/PID/status`, `/proc/PID/io` and `smaps_rollup`.
public enum ProcKeyValue {
    /// Parses `Key: value` lines; values keep their text (e.g. "1234 kB").
    public static func parse(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let k = String(line[..<colon])
            let v = String(line[line.index(after: colon)...]).trimmingASCIIWhitespace()
            out[k] = v
        }
        return out
    }

    /// The first integer of a value ("1234 kB" -> 1234, "0\t0\t0\t0" -> 0).
    public static func firstInteger(_ value: String?) -> UInt64? {
        guard let value else { return nil }
        let digits = value.prefix { $0.isASCII && $0.isNumber }
        return UInt64(digits)
    }

    /// The whitespace-separated integers of a value ("1000\t1000\t1000\t1000").
    public static func integers(_ value: String?) -> [UInt64] {
        guard let value else { return [] }
        return value.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt64($0) }
    }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        let isWS: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isWS($0) }) else { return "" }
        let end = lastIndex(where: { !isWS($0) })!
        return String(self[start...end])
    }

    func hasPrefixBytes(_ p: String) -> Bool { utf8.starts(with: p.utf8) }

    /// Splits on the exact separator string (no Foundation `components(separatedBy:)`).
    func splitOn(_ separator: String) -> [Substring] {
        var parts: [Substring] = []
        var rest = self[...]
        while let r = rest.firstRange(of: separator) {
            parts.append(rest[..<r.lowerBound])
            rest = rest[r.upperBound...]
        }
        parts.append(rest)
        return parts
    }
}
