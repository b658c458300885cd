#if canImport(Glibc)
import Glibc
#endif

/// Allocation-free parsing of procfs file contents held as raw bytes (the hot path of the
/// procfs sampler reads into a reused buffer and parses it in place).
enum ProcBytes {
    /// The fields of a stat line the capture and monitor samplers need; `comm` stays a byte
    /// range of the buffer. The one `/proc/PID/stat` parser of the library (ProcStat wraps it).
    struct Stat: Equatable {
        var pid: Int32
        var commStart: Int, commEnd: Int  // bytes of field 2, without the parentheses
        var state: UInt8                   // field 3
        var ppid: Int32                    // field 4
        var flags: UInt64                  // field 9 (PF_* bits: pfKthread)
        var utime: UInt64                  // field 14
        var stime: UInt64                  // field 15
        var numThreads: Int                // field 20
        var startTime: UInt64              // field 22
        var rssPages: Int64                // field 24 (0 when a short line ends before it)
    }

    /// PF_KTHREAD in field 9: a kernel thread.
    static let pfKthread: UInt64 = 0x0020_0000

    @inline(__always) static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D }

    /// Parses a `/proc/PID/stat` (or task stat) line. `comm` may contain spaces, parentheses
    /// and newlines, so it ends at the LAST `)`. Fields after it are separated by spaces or
    /// newlines (runs count as one separator). Nil when the bytes are not a stat line.
    static func parseStat(_ b: UnsafeBufferPointer<UInt8>) -> Stat? {
        let n = b.count
        var open = -1
        for i in 0..<n where b[i] == 0x28 { open = i; break }            // '('
        var close = -1
        var j = n - 1
        while j >= 0 { if b[j] == 0x29 { close = j; break }; j -= 1 }    // ')'
        guard open >= 0, close > open else { return nil }
        // pid: the text before '(' with ASCII whitespace trimmed, all digits.
        var ps = 0, pe = open
        while ps < pe && isSpace(b[ps]) { ps += 1 }
        while pe > ps && isSpace(b[pe - 1]) { pe -= 1 }
        guard let pid = signed(b, ps, pe).flatMap({ Int32(exactly: $0) }) else { return nil }
        // Fields 3... : record [start, end) of fields 3, 4, 9, 14, 15, 20, 22, 24.
        var field = 3
        var i = close + 1
        var state: UInt8 = 0
        var ppid: Int32 = 0, ut: UInt64 = 0, st: UInt64 = 0, nt = 0, start: UInt64 = 0
        var flags: UInt64 = 0, rss: Int64 = 0
        var seen = 0
        while i < n {
            while i < n && (b[i] == 0x20 || b[i] == 0x0A) { i += 1 }
            if i >= n { break }
            let s = i
            while i < n && b[i] != 0x20 && b[i] != 0x0A { i += 1 }
            switch field {
            case 3:
                guard i - s == 1 else { return nil }
                state = b[s]
            case 4:
                guard let v = signed(b, s, i).flatMap({ Int32(exactly: $0) }) else { return nil }
                ppid = v
            case 9: guard let v = unsigned(b, s, i) else { return nil }; flags = v
            case 14: guard let v = unsigned(b, s, i) else { return nil }; ut = v
            case 15: guard let v = unsigned(b, s, i) else { return nil }; st = v
            case 20:
                guard let v = signed(b, s, i) else { return nil }
                nt = Int(v)
            case 22: guard let v = unsigned(b, s, i) else { return nil }; start = v
            case 24: guard let v = signed(b, s, i) else { return nil }; rss = v
            default: break
            }
            seen = field
            field += 1
            if field > 24 { break }
        }
        guard seen >= 22 else { return nil }
        return Stat(pid: pid, commStart: open + 1, commEnd: close, state: state, ppid: ppid, flags: flags,
                    utime: ut, stime: st, numThreads: nt, startTime: start, rssPages: rss)
    }

    /// Decimal digits in `b[s..<e]` (all of them, at least one), nil otherwise or on overflow.
    static func unsigned(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> UInt64? {
        guard s < e else { return nil }
        var v: UInt64 = 0
        for k in s..<e {
            let d = b[k] &- 0x30
            guard d < 10 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d))
            if o1 || o2 { return nil }
            v = a
        }
        return v
    }

    static func signed(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Int64? {
        if s < e && (b[s] == 0x2D || b[s] == 0x2B) {
            guard let m = unsigned(b, s + 1, e), m <= UInt64(Int64.max) else { return nil }
            return b[s] == 0x2D ? -Int64(m) : Int64(m)
        }
        guard let m = unsigned(b, s, e), m <= UInt64(Int64.max) else { return nil }
        return Int64(m)
    }

    /// The first integer of the value of a `Key:  value` line (`/proc/PID/status`, `io`,
    /// `smaps_rollup`): "VmRSS:\t  1234 kB" -> 1234. Nil when the key is absent or its value
    /// does not start with a digit. `key` excludes the colon; matched at a line start only.
    static func integer(forKey key: StaticString, in b: UnsafeBufferPointer<UInt8>) -> UInt64? {
        let k = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        let n = b.count, kn = k.count
        var line = 0
        while line < n {
            if line + kn < n && b[line + kn] == 0x3A && memcmp(b.baseAddress! + line, k.baseAddress!, kn) == 0 {
                var i = line + kn + 1
                while i < n && (b[i] == 0x20 || b[i] == 0x09) { i += 1 }
                let s = i
                var v: UInt64 = 0
                while i < n, b[i] &- 0x30 < 10 {
                    let (m, o1) = v.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(UInt64(b[i] &- 0x30))
                    if o1 || o2 { return nil }
                    v = a
                    i += 1
                }
                return i > s ? v : nil
            }
            // next line
            guard let nl = memchr(b.baseAddress! + line, 0x0A, n - line) else { return nil }
            line = b.baseAddress!.distance(to: nl.assumingMemoryBound(to: UInt8.self)) + 1
        }
        return nil
    }

    /// The bytes with leading and trailing ASCII whitespace removed, as a String.
    static func trimmedText(_ b: UnsafeBufferPointer<UInt8>) -> String {
        var s = 0, e = b.count
        while s < e && isSpace(b[s]) { s += 1 }
        while e > s && isSpace(b[e - 1]) { e -= 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: b[s..<e]), as: UTF8.self)
    }

    /// Non-empty lines, each trimmed of ASCII whitespace (a kernel stack).
    static func trimmedLines(_ b: UnsafeBufferPointer<UInt8>) -> [String] {
        var out: [String] = []
        var s = 0
        let n = b.count
        while s < n {
            var e = s
            while e < n && b[e] != 0x0A { e += 1 }
            let t = trimmedText(UnsafeBufferPointer(rebasing: b[s..<e]))
            if !t.isEmpty { out.append(t) }
            s = e + 1
        }
        return out
    }

    /// True when `b[s..<e]` holds exactly the UTF-8 of `text` (reuse a String if unchanged).
    static func equals(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int, _ text: String) -> Bool {
        var t = text
        return t.withUTF8 { u in
            u.count == e - s && (u.count == 0 || memcmp(u.baseAddress!, b.baseAddress! + s, u.count) == 0)
        }
    }
}

/// A reusable read buffer plus `pread(fd, buf, n, 0)` of a procfs file that stays open:
/// procfs regenerates a file's content for every read from offset 0, so one open file can
/// be re-read each tick without open/close. The buffer grows (doubling) when a read fills
/// it, so a file is never truncated.
final class ProcReader {
    private(set) var buffer: UnsafeMutableBufferPointer<UInt8>
    private let limit: Int

    init(capacity: Int = 4096, limit: Int = 16 << 20) {
        buffer = .allocate(capacity: capacity)
        self.limit = limit
    }

    deinit { buffer.deallocate() }

    /// Re-reads the whole file behind `fd` from offset 0. Returns the byte count (the bytes
    /// are `buffer[0..<count]`), or `-errno` (ESRCH/ENOENT: the task is gone).
    func pread(_ fd: Int32) -> Int {
        while true {
            let n = Glibc.pread(fd, buffer.baseAddress, buffer.count, 0)
            if n < 0 {
                if errno == EINTR { continue }
                return -Int(errno)
            }
            if n < buffer.count || buffer.count >= limit { return n }
            let bigger = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: min(buffer.count * 2, limit))
            buffer.deallocate()
            buffer = bigger
        }
    }

    /// The first `count` bytes of the buffer.
    func bytes(_ count: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: buffer[0..<count])
    }

    /// `openat(dir, name, O_RDONLY | O_CLOEXEC)`; returns the fd or `-errno`.
    static func open(at dir: Int32, _ name: UnsafePointer<CChar>) -> Int32 {
        while true {
            let fd = openat(dir, name, O_RDONLY | O_CLOEXEC)
            if fd >= 0 { return fd }
            if errno != EINTR { return -errno }
        }
    }

    static func isGone(_ negErrno: Int) -> Bool { negErrno == -Int(ESRCH) || negErrno == -Int(ENOENT) }
}

/// A directory kept open and re-listed with `rewinddir` (procfs regenerates listings).
final class ProcDirectory {
    private var dir: OpaquePointer?

    /// Opens `name` relative to the directory fd `at` (`AT_FDCWD` for an absolute path);
    /// nil with `errno` set when it cannot be opened.
    init?(at: Int32, _ name: String) {
        let fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { return nil }
        guard let d = fdopendir(fd) else {
            let e = errno
            Glibc.close(fd)
            errno = e
            return nil
        }
        dir = d
    }

    /// The directory's fd, for `openat`.
    var fd: Int32 { dir.map { dirfd($0) } ?? -1 }

    /// Entries whose names are decimal numbers (task ids), into `out` (cleared first, keeps
    /// its capacity). Returns false when the directory cannot be read (the process is gone).
    func numericEntries(into out: inout [Int32]) -> Bool {
        out.removeAll(keepingCapacity: true)
        guard let dir else { return false }
        rewinddir(dir)
        errno = 0
        while let e = readdir(dir) {
            let v: Int32? = { (raw: UnsafePointer<UInt8>) -> Int32? in
                var v: Int64 = 0
                var k = 0
                while k < 256, raw[k] != 0 {
                    let d = raw[k] &- 0x30
                    if d >= 10 || v > Int64(Int32.max) { return nil }
                    v = v * 10 + Int64(d)
                    k += 1
                }
                return k > 0 && v <= Int64(Int32.max) ? Int32(v) : nil
            }(Posix.direntName(e))
            if let v { out.append(v) }
        }
        return errno == 0
    }

    /// Number of entries other than "." and "..", or nil when unreadable.
    func count() -> Int? {
        guard let dir else { return nil }
        rewinddir(dir)
        errno = 0
        var n = 0
        while let e = readdir(dir) {
            let raw = Posix.direntName(e)
            let dot = raw[0] == 0x2E && (raw[1] == 0 || (raw[1] == 0x2E && raw[2] == 0))
            if !dot { n += 1 }
        }
        return errno == 0 ? n : nil
    }

    func close() {
        if let d = dir { closedir(d); dir = nil }
    }

    deinit { close() }
}
