/// Allocation-free parsing of `/proc` text held in a byte buffer (the sampler's hot path:
/// no String, no Array per process).
enum ProcfsBytes {
    // /proc/PID/stat is parsed by ProcBytes.parseStat, the library's one stat parser.

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

    /// read_bytes + write_bytes of `/proc/PID/io`, or nil when either is absent.
    static func parseIO(_ p: UnsafePointer<UInt8>, _ count: Int) -> UInt64? {
        let (read, write) = parseIOFields(p, count)
        guard let read, let write else { return nil }
        return read &+ write
    }

    /// `read_bytes` and `write_bytes` of `/proc/PID/io`, each nil when absent.
    static func parseIOFields(_ p: UnsafePointer<UInt8>, _ count: Int) -> (read: UInt64?, write: UInt64?) {
        var read: UInt64?
        var write: UInt64?
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
                if matches(p, lineStart, keyEnd, "read_bytes") { read = number(p, valueStart, i) }
                if matches(p, lineStart, keyEnd, "write_bytes") { write = number(p, valueStart, i) }
            }
            while i < count && p[i] != UInt8(ascii: "\n") { i += 1 }
            i += 1
        }
        return (read, write)
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
