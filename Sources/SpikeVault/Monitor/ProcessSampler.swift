#if canImport(Glibc)
import Glibc
#endif

/// Reads every process of `/proc` once per `tick()`: CPU % over the interval since the
/// previous tick (utime + stime delta / clock ticks / elapsed, 100 = one core, as `top`),
/// RSS, disk I/O rate, threads, fds and (on request) sockets.
///
/// Cheap by construction: `/proc` stays open and is rewound each tick; files are opened with
/// `openat` relative to it into one reusable buffer and parsed as bytes (no String but comm,
/// which fits Swift's inline small strings); `/proc/PID/stat` gives CPU, RSS, threads, start
/// time and the kernel-thread flag in one read; `/proc/PID/io`, the fd count (`stat` of
/// `/proc/PID/fd`, whose size is the fd count since Linux 6.2) and sockets are read only when
/// a rule needs them, and only for processes the caller may inspect.
///
/// Vanished processes, zombies, unreadable entries and kernel threads are skipped and counted
/// (`counters`), never an error. Not thread-safe: one thread ticks a sampler.
public final class ProcessSampler: @unchecked Sendable {
    /// Optional readings, gathered only when asked for.
    public struct Needs: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let diskIO = Needs(rawValue: 1)
        public static let fds = Needs(rawValue: 2)
        public static let sockets = Needs(rawValue: 4)
        public static let all: Needs = [.diskIO, .fds, .sockets]

        /// What a set of metrics needs.
        public static func forMetrics<S: Sequence>(_ metrics: S) -> Needs where S.Element == TriggerMetric {
            var n: Needs = []
            for m in metrics {
                switch m {
                case .diskIO: n.insert(.diskIO)
                case .fds: n.insert(.fds)
                case .network: n.insert(.sockets)
                default: break
                }
            }
            return n
        }
    }

    public private(set) var counters = SamplerCounters()
    private let dir: OpaquePointer
    private let procFD: Int32
    private let bufferSize = 4096
    private let buffer: UnsafeMutablePointer<UInt8>
    private let path: UnsafeMutablePointer<CChar>
    private var tracker: ProcessTracker
    private let pageMiB: Double
    private let euid: UInt32
    private var samples: [ProcessSample] = []

    /// - Throws: `.unsupported` when `/proc` cannot be opened (not Linux, or no procfs).
    public init(procRoot: String = "/proc") throws {
        guard let d = opendir(procRoot) else {
            throw SpikeVaultError(.unsupported, "cannot open \(procRoot): \(String(cString: strerror(errno))) (the process sampler needs Linux procfs)")
        }
        dir = d
        procFD = dirfd(d)
        buffer = .allocate(capacity: bufferSize)
        path = .allocate(capacity: 64)
        tracker = ProcessTracker(ticksPerSecond: Double(CaptureSys.clockTicksPerSecond))
        pageMiB = Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
        euid = geteuid()
    }

    deinit {
        closedir(dir)
        buffer.deallocate()
        path.deallocate()
    }

    /// One pass over `/proc`. The first tick has no CPU or I/O rates (nil): they need two.
    public func tick(needs: Needs = []) -> [ProcessSample] {
        let cpuBefore = Self.threadCPUMicros()
        counters.ticks += 1
        let tickNumber = UInt64(counters.ticks)
        samples.removeAll(keepingCapacity: true)
        var kernel: Int64 = 0
        rewinddir(dir)
        while let entry = readdir(dir) {
            UnsafeRawPointer(Posix.direntName(entry)).withMemoryRebound(to: CChar.self, capacity: 1) { name in
                guard let pid = ProcfsBytes.pid(name) else { return }
                if readProcess(pid, name, needs, tickNumber) == .kernel { kernel += 1 }
            }
        }
        tracker.prune(keeping: tickNumber, seen: samples.count)
        counters.processes = Int64(samples.count)
        counters.kernelThreads = kernel
        counters.cpuMicros += Self.threadCPUMicros() - cpuBefore
        let out = samples
        return out
    }

    private enum Outcome { case sampled, kernel, skipped }

    /// Every `refreshTicks` ticks (staggered by pid) idle processes are read in full anyway.
    static let refreshTicks: UInt64 = 8

    private func readProcess(_ pid: Int32, _ name: UnsafePointer<CChar>, _ needs: Needs, _ tickNumber: UInt64) -> Outcome {
        let prev = tracker.previous(pid)
        let refresh = (tickNumber &+ UInt64(UInt32(bitPattern: pid))) % Self.refreshTicks == 0
        // The owner is re-read on first sight and on refresh ticks only (it changes on setuid).
        var st = stat()
        let wantOwner = prev == nil || refresh
        let n = readFile(name, "/stat", owner: &st, wantOwner: wantOwner)
        guard n > 0 else { count(failure: Int32(-n)); return .skipped }
        let now = Self.monotonicNs()
        guard let s = ProcBytes.parseStat(UnsafeBufferPointer(start: buffer, count: n)) else {
            counters.unreadable += 1; return .skipped
        }
        if s.flags & ProcBytes.pfKthread != 0 { return .kernel }
        if s.state == UInt8(ascii: "Z") || s.state == UInt8(ascii: "X") { counters.vanished += 1; return .skipped }
        let samePrev = prev.flatMap { $0.startTime == s.startTime ? $0 : nil }
        var uid = st.st_uid
        if !wantOwner {
            if let p = samePrev { uid = p.uid } else {
                setPath(name, "")
                if fstatat(procFD, path, &st, 0) != 0 { count(failure: errno); return .skipped }
                uid = st.st_uid
            }
        }
        let comm = String(decoding: UnsafeBufferPointer(start: buffer + s.commStart, count: s.commEnd - s.commStart), as: UTF8.self)
        let cpuTicks = s.utime &+ s.stime
        let inspectable = euid == 0 || uid == euid
        // A process that used no CPU since the last tick made no system call worth a tick: its
        // fd count is reused and its I/O taken as 0 (re-read on refresh ticks regardless).
        let idle = !refresh && samePrev != nil && samePrev!.cpuTicks == cpuTicks
        var ioBytes: UInt64?
        var ioSkipped = false
        var fds: Int?
        var sockets: Int?
        if inspectable {
            if needs.contains(.diskIO) {
                if idle && samePrev!.ioBytes != nil {
                    ioSkipped = true
                } else {
                    var ignored = stat()
                    let m = readFile(name, "/io", owner: &ignored, wantOwner: false)
                    if m > 0 { ioBytes = ProcfsBytes.parseIO(buffer, m) } else { count(failure: Int32(-m)) }
                }
            }
            if needs.contains(.fds) { fds = idle && samePrev!.fds != nil ? samePrev!.fds : fdCount(name) }
            if needs.contains(.sockets) {
                let (c, e) = NetworkMetric.socketCount(procFD: procFD, pidName: name)
                sockets = c
                if c == nil { count(failure: e) }
            }
        }
        let rates = tracker.update(pid: pid, startTime: s.startTime, cpuTicks: cpuTicks, ioBytes: ioBytes,
                                   ioSkipped: ioSkipped, monotonicNs: now, tick: tickNumber, uid: uid, fds: fds)
        samples.append(ProcessSample(
            pid: pid, startTimeTicks: s.startTime, comm: comm, uid: uid, inspectable: inspectable,
            cpuPercent: rates.cpu, rssMiB: Double(s.rssPages) * pageMiB,
            diskIOMiBPerSecond: rates.ioPerSecond.map { $0 / 1_048_576 }, threads: s.numThreads,
            fds: fds, sockets: sockets))
        return .sampled
    }

    private func count(failure e: Int32) {
        if e == EACCES || e == EPERM { counters.unreadable += 1 } else { counters.vanished += 1 }
    }

    /// Writes "NAME" + suffix into `path` (NUL-terminated).
    private func setPath(_ name: UnsafePointer<CChar>, _ suffix: StaticString) {
        var n = 0
        while name[n] != 0 && n < 20 { path[n] = name[n]; n += 1 }
        let s = suffix.utf8Start
        for i in 0..<suffix.utf8CodeUnitCount { path[n] = CChar(bitPattern: s[i]); n += 1 }
        path[n] = 0
    }

    /// Reads `/proc/NAME/suffix` into `buffer`; the byte count, or -errno. `owner` gets fstat.
    private func readFile(_ name: UnsafePointer<CChar>, _ suffix: StaticString, owner: inout stat, wantOwner: Bool) -> Int {
        setPath(name, suffix)
        let fd = openat(procFD, path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return -Int(errno) }
        defer { close(fd) }
        if wantOwner { _ = fstat(fd, &owner) }
        var total = 0
        while total < bufferSize {
            let r = read(fd, buffer + total, bufferSize - total)
            if r < 0 {
                if errno == EINTR { continue }
                return total > 0 ? total : -Int(errno)
            }
            if r == 0 { break }
            total += r
            // procfs hands a small file over in one read; a final newline means it is whole.
            if buffer[total - 1] == UInt8(ascii: "\n") { break }
        }
        return total
    }

    /// The fd count: `stat` of `/proc/PID/fd` (size = count since Linux 6.2); when that says 0
    /// (older kernels always do), the directory is counted.
    private func fdCount(_ name: UnsafePointer<CChar>) -> Int? {
        setPath(name, "/fd")
        var st = stat()
        if fstatat(procFD, path, &st, 0) != 0 { count(failure: errno); return nil }
        if st.st_size > 0 { return Int(st.st_size) }
        let dfd = openat(procFD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd < 0 { count(failure: errno); return nil }
        guard let d = fdopendir(dfd) else { close(dfd); return nil }
        defer { closedir(d) }
        var c = 0
        while let e = readdir(d) { if Posix.direntName(e)[0] != UInt8(ascii: ".") { c += 1 } }
        return c
    }

    static func monotonicNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    static func threadCPUMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    /// Identity of one pid now (host-fed observations): start time, comm and owner uid;
    /// nil when it is not a readable live process here.
    public static func identity(pid: Int32) -> (startTime: UInt64, comm: String, uid: UInt32)? {
        guard pid > 0 else { return nil }
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        var buf = [UInt8](repeating: 0, count: 2048)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return buf.withUnsafeBufferPointer { p -> (UInt64, String, UInt32)? in
            guard let s = ProcBytes.parseStat(UnsafeBufferPointer(rebasing: p[0..<n])) else { return nil }
            let comm = String(decoding: p[s.commStart..<s.commEnd], as: UTF8.self)
            return (s.startTime, comm, st.st_uid)
        }
    }
}
