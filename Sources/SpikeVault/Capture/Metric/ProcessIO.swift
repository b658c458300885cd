/// `/proc/PID/io` counters and the fault counters of `/proc/PID/stat`.
struct ProcessIO: Sendable, Equatable {
    var values: [String: UInt64] = [:]
    static let keys = ["rchar", "wchar", "syscr", "syscw", "read_bytes", "write_bytes"]

    static func read(pid: Int32) -> ProcessIO? {
        guard let text = CaptureSys.readText("/proc/\(pid)/io") else { return nil }
        var io = ProcessIO()
        for line in text.split(separator: "\n") {
            let kv = line.split(separator: ":")
            if kv.count == 2, let v = UInt64(kv[1].trimmingASCIIWhitespaceSub()) { io.values[String(kv[0])] = v }
        }
        return io
    }

    var syscalls: UInt64 { (values["syscr"] ?? 0) + (values["syscw"] ?? 0) }

    /// minflt + majflt of the whole process (stat fields 10 and 12).
    static func faults(pid: Int32) -> UInt64? {
        guard let text = CaptureSys.readText("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        let f = text[text.index(after: close)...].split(separator: " ")
        guard f.count > 10, let minflt = UInt64(f[7]), let majflt = UInt64(f[9]) else { return nil }
        return minflt + majflt
    }
}

/// Human figures for headlines: `2,900`, `412.0 MiB`.
enum Figures {
    static func count(_ n: Int) -> String {
        let s = String(abs(n))
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func signed(_ n: Int) -> String { (n >= 0 ? "+" : "") + count(n) }

    static func bytes(_ n: Int64) -> String { (n < 0 ? "-" : "") + CaptureSummary.bytes(abs(n)) }

    static func percent(_ part: Int, of total: Int) -> String {
        total > 0 ? "\(Int((Double(part) * 100 / Double(total)).rounded()))%" : "0%"
    }
}
