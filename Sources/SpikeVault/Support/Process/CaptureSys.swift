#if canImport(Glibc)
import Glibc
#endif

/// Thin, Foundation-free wrappers over the system calls the capture layer needs.
/// Reads return the errno on failure so callers can tell ENOENT/ESRCH (gone) from EACCES.
enum CaptureSys {
    enum ReadResult {
        case ok([UInt8])
        case failed(Int32)

        var bytes: [UInt8]? { if case .ok(let b) = self { return b } else { return nil } }
        var text: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
    }

    /// Reads a whole file (procfs files report size 0, so read until EOF). `limit` bounds memory.
    static func read(_ path: String, limit: Int = 16 << 20) -> ReadResult {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return .failed(errno) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while out.count < limit {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failed(errno)
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return .ok(out)
    }

    static func readText(_ path: String) -> String? { read(path).text }

    /// `readlink(2)`; nil when unreadable.
    static func readLink(_ path: String) -> [UInt8]? {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { readlink(path, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
        if n < 0 { return nil }
        return Array(buf[0..<n])
    }

    /// Names in a directory (without "." and ".."), or the errno.
    static func listDirectory(_ path: String) -> ([String]?, Int32) {
        guard let dir = opendir(path) else { return (nil, errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = Posix.direntString(entry)
            if name != "." && name != ".." { names.append(name) }
        }
        return (names, 0)
    }

    /// Writes `text` to `path` (created 0600, truncated).
    static func writeFile(_ path: String, _ text: String) throws {
        let file = try CaptureFileWriter(path: path)
        defer { file.close() }
        try file.write(text)
    }

    static func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func ownerUID(_ path: String) -> UInt32? {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_uid : nil
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Seconds on the monotonic clock.
    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Seconds since the Unix epoch (wall clock).
    static func unixSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        var ts = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var rem = timespec()
        while nanosleep(&ts, &rem) != 0 && errno == EINTR { ts = rem }
    }

    /// Sleeps until `deadline` (monotonic seconds) in slices of at most `slice` seconds (the
    /// cancel latency), returning early on cancel. Returns false when cancelled.
    static func sleep(until deadline: Double, cancel: CancelFlag?, slice: Double = 0.05) -> Bool {
        while true {
            if cancel?.isCancelled == true { return false }
            let left = deadline - monotonicSeconds()
            if left <= 0 { return true }
            sleep(seconds: min(left, slice))
        }
    }

    static var clockTicksPerSecond: Int {
        let v = sysconf(Int32(_SC_CLK_TCK))
        return v > 0 ? v : 100
    }
}

/// An append-only file opened 0600 with O_CLOEXEC; used for artefacts we write ourselves.
final class CaptureFileWriter {
    let path: String
    private var fd: Int32

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if fd < 0 { throw SpikeVaultError.errno(errno, "cannot create \(path)") }
    }

    func write(_ text: String) throws {
        var s = text
        try s.withUTF8 { try write(bytes: $0) }
    }

    func write(bytes buf: UnsafeBufferPointer<UInt8>) throws {
        if buf.isEmpty { return }
        do {
            var off = 0
            while off < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SpikeVaultError.errno(errno, "cannot write \(path)")
                }
                off += n
            }
        }
    }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
    }

    deinit { close() }
}
