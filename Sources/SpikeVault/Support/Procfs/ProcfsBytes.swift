/// Allocation-free parsing of `/proc` text held in a byte buffer (the sampler's hot path:
/// no String, no Array per process).
enum ProcfsBytes {
    /// Fields of `/proc/PID/stat` the sampler needs.
    struct Stat {
        var state: UInt8 = 0
        var flags: UInt64 = 0
        var utime: UInt64 = 0
        var stime: UInt64 = 0
        var threads: Int = 0
        var startTime: UInt64 = 0
        var rssPages: Int64 = 0
        /// Byte range of comm inside the buffer.
        var commStart = 0
        var commEnd = 0
    }

    static let pfKthread: UInt64 = 0x0020_0000

    /// Parses a stat line. comm may contain spaces and parentheses: it ends at the LAST `)`.
    static func parseStat(_ p: UnsafePointer<UInt8>, _ count: Int) -> Stat? {
        var open = -1
        for i in 0..<count where p[i] == UInt8(ascii: "(") { open = i; break }
        var close = -1
        var j = count - 1
        while j > open { if p[j] == UInt8(ascii: ")") { close = j; break }; j -= 1 }
        guard open >= 0, close > open, close + 2 < count else { return nil }
        var s = Stat()
        s.commStart = open + 1
        s.commEnd = close
        var field = 3
        var i = close + 2
        s.state = p[i]
        // Walk the space-separated fields after comm; field numbers follow proc(5).
        while i < count && field <= 24 {
            let start = i
            while i < count && p[i] != UInt8(ascii: " ") && p[i] != UInt8(ascii: "\n") { i += 1 }
            switch field {
            case 9: s.flags = number(p, start, i)
            case 14: s.utime = number(p, start, i)
            case 15: s.stime = number(p, start, i)
            case 20: s.threads = Int(truncatingIfNeeded: number(p, start, i))
            case 22: s.startTime = number(p, start, i)
            case 24: s.rssPages = Int64(truncatingIfNeeded: number(p, start, i))
            default: break
            }
            field += 1
            i += 1
        }
        return field > 24 ? s : nil
    }

    /// Unsigned decimal in [start, end); a leading '-' gives 0.
    @inline(__always)
    static func number(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> UInt64 {
        var v: UInt64 = 0
        var i = start
        while i < end {
            let d = p[i] &- UInt8(ascii: "0")
            if d > 9 { return v }
            v = v &* 10 &+ UInt64(d)
            i += 1
        }
        return v
    }

    /// read_bytes + write_bytes of `/proc/PID/io`, or nil when absent.
    static func parseIO(_ p: UnsafePointer<UInt8>, _ count: Int) -> UInt64? {
        var total: UInt64 = 0
        var found = 0
        var i = 0
        while i < count {
            let lineStart = i
            while i < count && p[i] != UInt8(ascii: ":") && p[i] != UInt8(ascii: "\n") { i += 1 }
            let keyEnd = i
            if i < count && p[i] == UInt8(ascii: ":") {
                i += 1
                while i < count && p[i] == UInt8(ascii: " ") { i += 1 }
                let valueStart = i
                while i < count && p[i] != UInt8(ascii: "\n") { i += 1 }
                if matches(p, lineStart, keyEnd, "read_bytes") || matches(p, lineStart, keyEnd, "write_bytes") {
                    total &+= number(p, valueStart, i)
                    found += 1
                }
            }
            while i < count && p[i] != UInt8(ascii: "\n") { i += 1 }
            i += 1
        }
        return found == 2 ? total : nil
    }

    @inline(__always)
    static func matches(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ key: StaticString) -> Bool {
        guard end - start == key.utf8CodeUnitCount else { return false }
        let k = key.utf8Start
        for n in 0..<(end - start) where p[start + n] != k[n] { return false }
        return true
    }

    /// A pid from a `/proc` entry name (all digits), or nil.
    @inline(__always)
    static func pid(_ name: UnsafePointer<CChar>) -> Int32? {
        var v: Int32 = 0
        var i = 0
        while name[i] != 0 {
            let d = UInt8(bitPattern: name[i]) &- UInt8(ascii: "0")
            if d > 9 || i > 9 { return nil }
            v = v &* 10 &+ Int32(d)
            i += 1
        }
        return i == 0 ? nil : v
    }
}
