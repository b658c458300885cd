/// What a capture collects besides the procfs timeline and the stack backend, chosen by the
/// capture's trigger metric in `auto` (see `MetricCollector.autoPlan`) or listed explicitly in
/// `CaptureRequest.collectors`. Raw values are the names used by the C ABI, Python and the CLI.
public enum MetricCollector: String, Sendable, CaseIterable {
    /// Open descriptors by kind and path pattern at start and end → `fds.json`.
    case fds
    /// Thread names and counts grouped by name pattern → `threads.json`.
    case threads
    /// Per-mapping growth from smaps → `mappings.json`; page-fault stacks → `growth.folded` (perf).
    case memory
    /// Bytes moved per fd (fdinfo pos, /proc/PID/io) → `io.json`; write stacks → `io.folded` (perf).
    case diskIO
    /// Sockets from /proc/PID/net/* matched by inode, grouped by remote address → `sockets.json`.
    case network

    /// What `auto` collects for a capture fired by `metric`: nothing extra for cpu (the stack
    /// backend is the answer), the metric's own collector otherwise; network adds fds (a
    /// socket leak is also an fd leak and the fd table names the kind).
    public static func autoPlan(for metric: TriggerMetric) -> [MetricCollector] {
        switch metric {
        case .cpu: return []
        case .memory: return [.memory]
        case .diskIO: return [.diskIO]
        case .network: return [.network, .fds]
        case .threads: return [.threads]
        case .fds: return [.fds]
        }
    }

    /// Parses a comma-separated list (`"fds,threads"`); empty text is the empty list.
    /// - Throws: `.invalidArgument` naming the unknown or repeated name and the valid names.
    public static func parseList(_ text: String) throws -> [MetricCollector] {
        var out: [MetricCollector] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = String(part).trimmingASCIIWhitespace()
            if name.isEmpty && text.trimmingASCIIWhitespace().isEmpty { continue }
            guard let c = MetricCollector(rawValue: name) else {
                throw SpikeVaultError(.invalidArgument,
                    "unknown collector '\(VisibleText.escape(name))'; valid: \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard !out.contains(c) else { throw SpikeVaultError(.invalidArgument, "collector '\(name)' listed twice") }
            out.append(c)
        }
        return out
    }
}

/// Names with their variable parts collapsed, so that leaked or spawned objects of one kind
/// group together: runs of decimal digits, and hex runs of 6+ characters holding a digit,
/// become `*` (`/tmp/leak-17.dat` → `/tmp/leak-*.dat`, `worker-3` → `worker-*`).
enum NamePattern {
    static func collapse(_ name: String) -> String {
        let bytes = Array(name.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        func isHex(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) }
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        while i < bytes.count {
            let c = bytes[i]
            if isHex(c) {
                var j = i
                var digit = false
                while j < bytes.count && isHex(bytes[j]) { if isDigit(bytes[j]) { digit = true }; j += 1 }
                let letterBefore = i > 0 && isLetter(bytes[i - 1])
                let letterAfter = j < bytes.count && isLetter(bytes[j])
                if digit && j - i >= 6 && !letterBefore && !letterAfter {
                    if out.last != 0x2A { out.append(0x2A) }
                    i = j
                    continue
                }
                // Only the decimal runs inside this hex-ish word.
                while i < j {
                    if isDigit(bytes[i]) {
                        while i < j && isDigit(bytes[i]) { i += 1 }
                        if out.last != 0x2A { out.append(0x2A) }
                    } else { out.append(bytes[i]); i += 1 }
                }
                continue
            }
            out.append(c)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isLetter(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) }
}
