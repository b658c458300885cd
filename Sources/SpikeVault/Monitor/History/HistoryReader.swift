#if canImport(Glibc)
import Glibc
#endif

/// Reads, for one process the history keeps, what the sampler does not: per-thread CPU ticks
/// and state (`/proc/PID/task/TID/stat`), cumulative read/write bytes (`/proc/PID/io`) and
/// the fd count. Relative to an open `/proc`, into one reusable buffer. Not thread-safe: the
/// monitor thread owns it. Anything unreadable (a vanished thread, EACCES) is left unknown.
final class HistoryReader {
    struct ThreadReading { var tid: Int32; var ticks: UInt64; var state: UInt8; var name: String }
    struct Reading {
        var readBytes = HistorySample.unknown
        var writeBytes = HistorySample.unknown
        var fds: Int32 = -1
        var threads: [ThreadReading] = []
    }

    private let procFD: Int32
    private let bufferSize = 4096
    private let buffer: UnsafeMutablePointer<UInt8>
    /// Threads read per process per tick at most (a process with more is sampled partly).
    static let maxThreadsRead = 4096

    /// - Throws: `.unsupported` without a readable `/proc`.
    init(procRoot: String = "/proc") throws {
        let fd = open(procRoot, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SpikeVaultError(.unsupported, "cannot open \(procRoot) for the monitor history: \(String(cString: strerror(errno)))")
        }
        procFD = fd
        buffer = .allocate(capacity: bufferSize)
    }

    deinit {
        close(procFD)
        buffer.deallocate()
    }

    func read(pid: Int32) -> Reading {
        var r = Reading()
        if let n = readFile(at: procFD, "\(pid)/io"), n > 0 { (r.readBytes, r.writeBytes) = parseIO(n) }
        var st = stat()
        if fstatat(procFD, "\(pid)/fd", &st, 0) == 0 {
            r.fds = st.st_size > 0 ? Int32(clamping: st.st_size) : countEntries("\(pid)/fd")
        }
        r.threads = readThreads(pid)
        return r
    }

    private func readThreads(_ pid: Int32) -> [ThreadReading] {
        let dfd = openat(procFD, "\(pid)/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { return [] }
        guard let dir = fdopendir(dfd) else { close(dfd); return [] }
        defer { closedir(dir) }
        var out: [ThreadReading] = []
        while out.count < Self.maxThreadsRead, let e = readdir(dir) {
            let tid: Int32? = UnsafeRawPointer(Posix.direntName(e)).withMemoryRebound(to: CChar.self, capacity: 1) {
                ProcfsBytes.pid($0)
            }
            guard let tid, let n = readFile(at: dfd, "\(tid)/stat"), n > 0,
                  let s = ProcBytes.parseStat(UnsafeBufferPointer(start: buffer, count: n)) else { continue }
            let name = String(decoding: UnsafeBufferPointer(start: buffer + s.commStart, count: s.commEnd - s.commStart),
                              as: UTF8.self)
            out.append(ThreadReading(tid: tid, ticks: s.utime &+ s.stime, state: s.state, name: name))
        }
        return out
    }

    private func countEntries(_ path: String) -> Int32 {
        let dfd = openat(procFD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { return -1 }
        guard let d = fdopendir(dfd) else { close(dfd); return -1 }
        defer { closedir(d) }
        var c: Int32 = 0
        while let e = readdir(d) { if Posix.direntName(e)[0] != UInt8(ascii: ".") { c += 1 } }
        return c
    }

    /// Reads `path` relative to `dirFD` into `buffer`; the byte count, or nil.
    private func readFile(at dirFD: Int32, _ path: String) -> Int? {
        let fd = openat(dirFD, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 { return nil }
        defer { close(fd) }
        var total = 0
        while total < bufferSize {
            let r = Glibc.read(fd, buffer + total, bufferSize - total)
            if r < 0 { if errno == EINTR { continue }; return total > 0 ? total : nil }
            if r == 0 { break }
            total += r
            if buffer[total - 1] == UInt8(ascii: "\n") { break }
        }
        return total
    }

    /// `read_bytes` and `write_bytes` of `/proc/PID/io` (each `unknown` when absent).
    private func parseIO(_ count: Int) -> (UInt64, UInt64) {
        let (read, write) = ProcfsBytes.parseIOFields(UnsafePointer(buffer), count)
        return (read ?? HistorySample.unknown, write ?? HistorySample.unknown)
    }
}
