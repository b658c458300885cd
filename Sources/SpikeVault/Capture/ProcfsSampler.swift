#if canImport(Glibc)
import Glibc
#endif

/// Built-in sampler: reads procfs every `interval` for `duration` and writes the versioned
/// JSON document described in docs/procfs-artefact.md (schema `spikevault.procfs`, version 2).
/// Needs no tool and no privilege for the caller's own processes; unreadable files
/// (kernel stack, syscall, io of foreign processes) are skipped silently.
///
/// Cost model (issue 3's benchmark: <= 1% of a core for a 64-thread target at 10 Hz): every
/// file is opened once, relative to a directory fd of `/proc/PID` or `/proc/PID/task`, and
/// re-read each time with `pread(fd, buf, n, 0)` into one reused buffer, parsed in place.
/// Per tick: each thread's `stat` and `wchan`, the process's `status`, `io` and `stat` (the
/// identity check). Slow-moving or expensive data (per-thread `status` for context switches,
/// kernel `stack`, `syscall`; the process's `smaps_rollup`, fd count and `syscall`) are
/// re-read on "refresh" samples only: the first, the last, and every round(1 / interval)-th.
public enum ProcfsSampler {
    public static let schema = "spikevault.procfs"
    public static let version = 2

    /// Samples between two refreshes of the slow-moving data: round(1 / interval), at least 1
    /// (about once per second).
    static func refreshEvery(intervalSeconds: Double) -> Int {
        guard intervalSeconds > 0, intervalSeconds.isFinite else { return 1 }
        return max(1, Int(min(1e6, (1.0 / intervalSeconds).rounded())))
    }

    /// Whether sample `index` (1-based) of `planned` samples re-reads the slow-moving data:
    /// always the first and the last, and every `every`-th.
    static func isRefresh(sample index: Int, planned: Int, every: Int) -> Bool {
        index == 1 || index == planned || index % max(1, every) == 0
    }

    /// Number of samples after the baseline reading: deadlines t0 + k * interval <= duration.
    static func plannedSamples(intervalSeconds: Double, durationSeconds: Double) -> Int {
        guard intervalSeconds > 0, durationSeconds >= 0 else { return 0 }
        let n = ((durationSeconds + 1e-9) / intervalSeconds).rounded(.down)
        return n.isFinite ? Int(min(n, 1e7)) : 0
    }

    /// Per-thread state kept across ticks: open fds and the latest values.
    /// fd values: >= 0 open, -1 not opened yet, -2 unreadable for this caller (not retried).
    struct ThreadSlot {
        var tid: Int32
        var statFD: Int32 = -1
        var wchanFD: Int32 = -1
        var statusFD: Int32 = -1
        var stackFD: Int32 = -1
        var syscallFD: Int32 = -1
        var name = ""
        var state: UInt8 = 0x3F
        var utime: UInt64 = 0
        var stime: UInt64 = 0
        var ticks: UInt64 = 0
        /// Ticks at the previous reading; nil for a thread first seen in this reading.
        var previousTicks: UInt64? = nil
        /// Ticks at the baseline reading; 0 for a thread born during the capture.
        var baseTicks: UInt64 = 0
        var hasReading = false
        var wchan: String? = nil
        var syscall: String? = nil
        var stack: [String]? = nil
        var voluntary: UInt64? = nil
        var nonvoluntary: UInt64? = nil

        init(tid: Int32) { self.tid = tid }
    }

    struct SummaryEntry {
        var tid: Int32
        var name: String
        var ticks: UInt64
        var baseTicks: UInt64
    }

    /// The open files of one capture and the values of the current reading.
    final class Session {
        let pid: Int32
        let reader = ProcReader()
        private(set) var pidDir: ProcDirectory?
        private var taskDir: ProcDirectory?
        private var fdDir: ProcDirectory?
        private var fdDirTried = false
        private var statFD: Int32 = -1, statusFD: Int32 = -1, ioFD: Int32 = -1
        private var smapsFD: Int32 = -1, syscallFD: Int32 = -1
        private(set) var threads: [ThreadSlot] = []
        private var spare: [ThreadSlot] = []
        private var tids: [Int32] = []
        private var closed = false

        // Values of the current reading.
        var time = 0.0
        var numThreads: Int? = nil
        var vmRSS: UInt64? = nil, vmHWM: UInt64? = nil, vmSize: UInt64? = nil
        var rss: UInt64? = nil, pss: UInt64? = nil, swapKiB: UInt64? = nil
        var fdCount: Int? = nil
        var syscall: String? = nil
        /// readBytes, writeBytes, rchar, wchar; nil when io is unreadable.
        var io: (UInt64?, UInt64?, UInt64?, UInt64?)? = nil
        var previousIO: (UInt64?, UInt64?, UInt64?, UInt64?)? = nil

        init(pid: Int32) {
            self.pid = pid
            pidDir = ProcDirectory(at: AT_FDCWD, "/proc/\(pid)")
            if let d = pidDir {
                taskDir = ProcDirectory(at: d.fd, "task")
                statFD = max(-2, ProcReader.open(at: d.fd, "stat"))
                if statFD >= 0 { held += 1 }
            } else {
                statFD = -2
            }
        }

        deinit { close() }

        func close() {
            if closed { return }
            closed = true
            for i in threads.indices { release(&threads[i]) }
            threads.removeAll()
            release(&statFD); release(&statusFD); release(&ioFD); release(&smapsFD); release(&syscallFD)
            fdDir?.close(); taskDir?.close(); pidDir?.close()
            fdDir = nil; taskDir = nil; pidDir = nil
        }

        /// The fds this session holds open (for tests).
        var openFiles: [Int32] {
            var out: [Int32] = []
            for t in threads { for fd in [t.statFD, t.wchanFD, t.statusFD, t.stackFD, t.syscallFD] where fd >= 0 { out.append(fd) } }
            for fd in [statFD, statusFD, ioFD, smapsFD, syscallFD] where fd >= 0 { out.append(fd) }
            for d in [pidDir, taskDir, fdDir] { if let d { out.append(d.fd) } }
            return out
        }

        /// At most this many fds are kept open (half the soft RLIMIT_NOFILE, at least 16):
        /// past it, files are read one-shot (open, pread, close), so a target with thousands
        /// of threads cannot exhaust the host's descriptors.
        var fdBudget: Int = {
            var rl = rlimit()
            guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl) == 0 else { return 256 }
            let soft = min(UInt64(rl.rlim_cur), UInt64(1 << 20))  // RLIM_INFINITY is all ones
            return max(16, Int(soft) / 2)
        }()
        private(set) var held = 0

        /// Re-reads a file through `fd`, opening it lazily relative to `dir` (kept open while
        /// within `fdBudget`, else read one-shot). Returns the byte count in `reader`, or
        /// `-errno` (ESRCH/ENOENT: gone). A permission refusal marks the file unreadable (-2)
        /// so it is not retried.
        private func reread(_ fd: inout Int32, dir: Int32, _ name: @autoclosure () -> String) -> Int {
            if fd == -2 { return -Int(EACCES) }
            if dir < 0 { return -Int(ENOENT) }
            var oneShot = false
            if fd == -1 {
                let r = ProcReader.open(at: dir, name())
                if r < 0 {
                    if r == -EACCES || r == -EPERM { fd = -2 }
                    return Int(r)
                }
                if held < fdBudget { fd = r; held += 1 } else { oneShot = true; fd = r }
            }
            let n = reader.pread(fd)
            if oneShot {
                _ = Glibc.close(fd); fd = -1
            } else if n == -Int(EACCES) || n == -Int(EPERM) {
                release(&fd); fd = -2
            }
            return n
        }

        private func readOptional(_ fd: inout Int32, dir: Int32, _ name: @autoclosure () -> String) -> Int? {
            let n = reread(&fd, dir: dir, name())
            return n >= 0 ? n : nil
        }

        private func release(_ fd: inout Int32) {
            if fd >= 0 { _ = Glibc.close(fd); held -= 1 }
            fd = -1
        }

        private func release(_ t: inout ThreadSlot) {
            release(&t.statFD); release(&t.wchanFD); release(&t.statusFD); release(&t.stackFD); release(&t.syscallFD)
        }

        /// Reads all threads (stat; wchan if `wchan`; status, stack and syscall if `slow`),
        /// then the process files, and finally the process's stat, which is the identity
        /// check: returns the reason to stop (exited / reused), or nil when the reading is good.
        func read(identity: ProcessIdentity, at now: Double, baseline: Bool, slow: Bool) -> String? {
            time = now
            readThreads(baseline: baseline, wchan: !baseline, slow: slow)
            if let d = pidDir?.fd {
                if !baseline, let n = readOptional(&statusFD, dir: d, "status") {
                    let b = reader.bytes(n)
                    vmRSS = ProcBytes.integer(forKey: "VmRSS", in: b)
                    vmHWM = ProcBytes.integer(forKey: "VmHWM", in: b)
                    vmSize = ProcBytes.integer(forKey: "VmSize", in: b)
                } else { vmRSS = nil; vmHWM = nil; vmSize = nil }
                previousIO = io
                if let n = readOptional(&ioFD, dir: d, "io") {
                    let b = reader.bytes(n)
                    io = (ProcBytes.integer(forKey: "read_bytes", in: b), ProcBytes.integer(forKey: "write_bytes", in: b),
                          ProcBytes.integer(forKey: "rchar", in: b), ProcBytes.integer(forKey: "wchar", in: b))
                } else { io = nil }
                if slow {
                    if let n = readOptional(&smapsFD, dir: d, "smaps_rollup") {
                        let b = reader.bytes(n)
                        rss = ProcBytes.integer(forKey: "Rss", in: b)
                        pss = ProcBytes.integer(forKey: "Pss", in: b)
                        swapKiB = ProcBytes.integer(forKey: "Swap", in: b)
                    } else { rss = nil; pss = nil; swapKiB = nil }
                    if !fdDirTried { fdDirTried = true; fdDir = ProcDirectory(at: d, "fd") }
                    fdCount = fdDir?.count()
                    syscall = readOptional(&syscallFD, dir: d, "syscall").map { ProcBytes.trimmedText(reader.bytes($0)) }
                }
            }
            // The identity check: one read of /proc/PID/stat through the fd opened at the start
            // (bound to that process: after it exits, reads fail with ESRCH even if the pid is reused).
            var current: ProcStat? = nil
            if statFD >= 0 {
                let n = reader.pread(statFD)
                if n >= 0 { current = ProcStat.parse(bytes: reader.bytes(n)) }
            }
            numThreads = current?.numThreads
            if numThreads != threads.count { needList = true }
            return IdentityCheck.evaluate(original: identity, current: current).reason
        }

        /// Re-list /proc/PID/task at the next reading: at the start, on refresh samples, and
        /// whenever the thread count of the last stat read differs from the threads we hold or
        /// a thread vanished. Otherwise the listing (getdents over every task) is skipped, so a
        /// thread born after a reading shows up one sample later than it could.
        private var needList = true

        private func readThreads(baseline: Bool, wchan: Bool, slow: Bool) {
            guard let taskDir else { return }
            if !needList && !slow && !threads.isEmpty {
                readListed(dir: taskDir.fd, baseline: baseline, wchan: wchan, slow: slow)
                return
            }
            guard taskDir.numericEntries(into: &tids) else {
                for i in threads.indices { release(&threads[i]) }
                threads.removeAll(keepingCapacity: true)
                return
            }
            tids.sort()
            let dir = taskDir.fd
            var same = tids.count == threads.count
            if same { for i in tids.indices where tids[i] != threads[i].tid { same = false; break } }
            if !same {
                // Merge the listing into the slots (both sorted): close vanished, add new.
                spare.removeAll(keepingCapacity: true)
                var j = 0
                for tid in tids {
                    while j < threads.count && threads[j].tid < tid { release(&threads[j]); j += 1 }
                    if j < threads.count && threads[j].tid == tid { spare.append(threads[j]); j += 1 } else { spare.append(ThreadSlot(tid: tid)) }
                }
                while j < threads.count { release(&threads[j]); j += 1 }
                swap(&threads, &spare)
                spare.removeAll(keepingCapacity: true)
            }
            readListed(dir: dir, baseline: baseline, wchan: wchan, slow: slow)
        }

        private func readListed(dir: Int32, baseline: Bool, wchan: Bool, slow: Bool) {
            // Read in place; drop threads that are gone (ESRCH/ENOENT) or unreadable.
            var lost = 0
            for i in threads.indices {
                if !readThread(&threads[i], dir: dir, baseline: baseline, wchan: wchan, slow: slow) {
                    release(&threads[i])
                    threads[i].tid = -1
                    lost += 1
                }
            }
            if lost > 0 { threads.removeAll { $0.tid == -1 } }
            needList = lost > 0
        }

        private func readThread(_ t: inout ThreadSlot, dir: Int32, baseline: Bool, wchan: Bool, slow: Bool) -> Bool {
            let n = reread(&t.statFD, dir: dir, "\(t.tid)/stat")
            if n < 0 { return false }
            let b = reader.bytes(n)
            guard let st = ProcBytes.parseStat(b) else { return false }
            if !ProcBytes.equals(b, st.commStart, st.commEnd, t.name) {
                t.name = String(decoding: UnsafeBufferPointer(rebasing: b[st.commStart..<st.commEnd]), as: UTF8.self)
            }
            t.state = st.state
            t.utime = st.utime
            t.stime = st.stime
            t.previousTicks = t.hasReading ? t.ticks : nil
            t.ticks = st.utime &+ st.stime
            if !t.hasReading { t.baseTicks = baseline ? t.ticks : 0 }
            t.hasReading = true
            if wchan {
                if let n = readOptional(&t.wchanFD, dir: dir, "\(t.tid)/wchan") {
                    let b = reader.bytes(n)
                    if t.wchan == nil || !ProcBytes.equals(b, 0, n, t.wchan!) {
                        t.wchan = String(decoding: b, as: UTF8.self)
                    }
                } else { t.wchan = nil }
            }
            if slow {
                if let n = readOptional(&t.statusFD, dir: dir, "\(t.tid)/status") {
                    let b = reader.bytes(n)
                    t.voluntary = ProcBytes.integer(forKey: "voluntary_ctxt_switches", in: b)
                    t.nonvoluntary = ProcBytes.integer(forKey: "nonvoluntary_ctxt_switches", in: b)
                } else { t.voluntary = nil; t.nonvoluntary = nil }
                t.stack = readOptional(&t.stackFD, dir: dir, "\(t.tid)/stack").map { ProcBytes.trimmedLines(reader.bytes($0)) }
                t.syscall = readOptional(&t.syscallFD, dir: dir, "\(t.tid)/syscall").map { ProcBytes.trimmedText(reader.bytes($0)) }
            }
            return true
        }
    }

    /// Samples `identity.pid` and writes the artefact to `outputPath`.
    /// Never throws for the target's disappearance: that gives a `partial` result.
    public static func run(identity: ProcessIdentity, intervalSeconds: Double, durationSeconds: Double,
                           outputPath: String, cancel: CancelFlag?) throws -> BackendResult {
        var result = BackendResult(backend: "procfs")
        let sink = try CaptureFileWriter(path: outputPath)
        defer { sink.close() }
        let tck = CaptureSys.clockTicksPerSecond
        let every = refreshEvery(intervalSeconds: intervalSeconds)
        let planned = plannedSamples(intervalSeconds: intervalSeconds, durationSeconds: durationSeconds)
        var w = JSONWriter()
        w.beginObject()
        w.field("schema", schema)
        w.field("version", version)
        w.key("process"); writeIdentity(identity, into: &w)
        w.field("clockTicksPerSecond", tck)
        w.field("intervalSeconds", intervalSeconds)
        w.field("durationSeconds", durationSeconds)
        w.field("refreshEverySamples", every)
        w.field("startedAtUnixSeconds", CaptureSys.unixSeconds())
        w.key("samples"); w.beginArray()
        try sink.write(w.takeText())

        let session = Session(pid: identity.pid)
        defer { session.close() }
        let t0 = CaptureSys.monotonicSeconds()
        var stopReason: String?
        var cancelled = false
        if let why = session.read(identity: identity, at: t0, baseline: true, slow: false) {
            stopReason = why
            return finish(&w, sink: sink, result: &result, samples: 0, elapsed: 0, last: [], tck: tck,
                          stopReason: stopReason, cancelled: false, path: outputPath)
        }
        var last: [SummaryEntry] = []
        remember(session, into: &last)
        var lastTime = t0
        var sampleCount = 0
        var k = 1
        while k <= planned {
            let deadline = t0 + Double(k) * intervalSeconds
            // One wakeup per tick at the default 10 Hz (cancel latency <= 0.1 s).
            if !CaptureSys.sleep(until: deadline, cancel: cancel, slice: max(0.05, min(intervalSeconds, 0.1))) {
                cancelled = true; break
            }
            let slow = isRefresh(sample: k, planned: planned, every: every)
            k += 1
            if let why = session.read(identity: identity, at: CaptureSys.monotonicSeconds(), baseline: false, slow: slow) {
                stopReason = why
                break
            }
            writeSample(session, refreshed: slow, previousTime: lastTime, t0: t0, tck: tck, into: &w)
            // Flush in chunks of >= 64 KiB (one write per ~9 samples of a 64-thread target):
            // each write to the file system costs more than formatting the sample.
            if w.byteCount >= 64 << 10 { try w.takeBytes { try sink.write(bytes: $0) } }
            sampleCount += 1
            lastTime = session.time
            remember(session, into: &last)
        }
        return finish(&w, sink: sink, result: &result, samples: sampleCount, elapsed: lastTime - t0, last: last,
                      tck: tck, stopReason: stopReason, cancelled: cancelled, path: outputPath)
    }

    /// Keeps what the summary needs from the last reading that passed the identity check.
    private static func remember(_ s: Session, into out: inout [SummaryEntry]) {
        out.removeAll(keepingCapacity: true)
        for t in s.threads { out.append(SummaryEntry(tid: t.tid, name: t.name, ticks: t.ticks, baseTicks: t.baseTicks)) }
    }

    private static func finish(_ w: inout JSONWriter, sink: CaptureFileWriter, result: inout BackendResult, samples: Int,
                               elapsed: Double, last: [SummaryEntry], tck: Int, stopReason: String?,
                               cancelled: Bool, path: String) -> BackendResult {
        w.endArray()
        w.key("summary"); w.beginObject()
        w.field("sampleCount", samples)
        w.field("elapsedSeconds", elapsed)
        w.key("threads"); w.beginArray()
        if elapsed > 0 {
            for t in last {
                let d = t.ticks &- t.baseTicks  // a thread born mid-capture starts from 0
                w.beginObject()
                w.field("tid", Int(t.tid))
                w.field("name", t.name)
                w.field("cpuPercent", cpuPercent(ticks: d, tck: tck, seconds: elapsed))
                w.field("cpuSeconds", Double(d) / Double(tck))
                w.endObject()
            }
        }
        w.endArray()
        w.endObject()
        var status: CaptureStatus = .complete
        var reason: String? = nil
        if cancelled { status = .partial; reason = "procfs: cancelled" }
        if let stopReason {
            status = samples > 0 ? .partial : .failed
            reason = "procfs: \(stopReason)" + (samples > 0 ? " after \(samples) samples" : " before the first sample")
        }
        w.key("outcome"); w.beginObject()
        w.field("status", status.rawValue)
        w.field("reason", reason)
        w.endObject()
        w.endObject()
        w.raw("\n")
        try? w.takeBytes { try sink.write(bytes: $0) }
        result.status = status
        result.reason = reason
        result.artefacts = [CaptureArtefact(kind: "procfs.json", path: path)]
        result.stats = ["samples": Double(samples), "elapsedSeconds": elapsed]
        return result
    }

    static func cpuPercent(ticks: UInt64, tck: Int, seconds: Double) -> Double {
        guard seconds > 0 else { return 0 }
        return (Double(ticks) / Double(tck)) / seconds * 100
    }

    static func writeSample(_ s: Session, refreshed: Bool, previousTime: Double, t0: Double, tck: Int,
                            into w: inout JSONWriter) {
        let dt = s.time - previousTime
        w.beginObject()
        w.field("t", s.time - t0)
        w.field("intervalSeconds", dt)
        w.field("refreshed", refreshed)
        w.key("memory"); w.beginObject()
        w.field("vmRSSKiB", s.vmRSS)
        w.field("vmHWMKiB", s.vmHWM)
        w.field("vmSizeKiB", s.vmSize)
        if refreshed {
            w.field("rssKiB", s.rss)
            w.field("pssKiB", s.pss)
            w.field("swapKiB", s.swapKiB)
        }
        w.endObject()
        w.field("threadCount", s.numThreads ?? s.threads.count)
        if refreshed { w.field("fdCount", s.fdCount) }
        w.key("io")
        if let io = s.io {
            let p = s.previousIO
            w.beginObject()
            func member(_ name: String, _ now: UInt64?, _ before: UInt64??) {
                w.field(name, now)
                var rate: Double? = nil
                if let now, let b = before, let before = b, dt > 0, now >= before { rate = Double(now - before) / dt }
                w.field(name + "PerSecond", rate)
            }
            member("readBytes", io.0, p.map { $0.0 })
            member("writeBytes", io.1, p.map { $0.1 })
            member("rchar", io.2, p.map { $0.2 })
            member("wchar", io.3, p.map { $0.3 })
            w.endObject()
        } else { w.null() }
        if refreshed {
            var vol: UInt64 = 0, nonvol: UInt64 = 0
            for t in s.threads { vol += t.voluntary ?? 0; nonvol += t.nonvoluntary ?? 0 }
            w.key("contextSwitches"); w.beginObject()
            w.field("voluntary", vol)
            w.field("nonvoluntary", nonvol)
            w.endObject()
            w.field("syscall", s.syscall)
        }
        w.key("threads"); w.beginArray()
        for t in s.threads {
            w.beginObject()
            w.field(plain: "tid", Int(t.tid))
            w.field(plain: "name", t.name)
            w.field(plain: "state", String(Character(Unicode.Scalar(t.state))))
            if let b = t.previousTicks, t.ticks >= b {
                w.field(plain: "cpuPercent", cpuPercent(ticks: t.ticks - b, tck: tck, seconds: dt))
            } else {
                w.field(plain: "cpuPercent", nil as Double?)
            }
            w.field(plain: "utimeTicks", t.utime)
            w.field(plain: "stimeTicks", t.stime)
            w.field(plain: "wchan", t.wchan)
            if refreshed {
                w.field(plain: "syscall", t.syscall)
                w.field(plain: "voluntaryCtxtSwitches", t.voluntary)
                w.field(plain: "nonvoluntaryCtxtSwitches", t.nonvoluntary)
                w.key(plain: "kernelStack")
                if let st = t.stack { w.beginArray(); for l in st { w.string(l) }; w.endArray() } else { w.null() }
            }
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }

    static func writeIdentity(_ id: ProcessIdentity, into w: inout JSONWriter) {
        w.beginObject()
        w.field("pid", Int(id.pid))
        w.field("comm", id.comm)
        w.field("ppid", Int(id.ppid))
        w.field("startTimeTicks", id.startTimeTicks)
        w.field("uid", id.uid.map { Int($0) })
        w.field("exe", id.exe)
        w.field("cmdline", strings: id.cmdline)
        w.endObject()
    }
}
