#if canImport(Glibc)
import Glibc
#endif

/// Built-in sampler: reads procfs every `interval` for `duration` and writes the versioned
/// JSON document described in docs/procfs-artefact.md (schema `spikevault.procfs`, version 1).
/// Needs no tool and no privilege for the caller's own processes; unreadable files
/// (kernel stack, syscall, io of foreign processes) are skipped silently.
public enum ProcfsSampler {
    public static let schema = "spikevault.procfs"
    public static let version = 1

    struct ThreadReading {
        var tid: Int32
        var name: String
        var state: Character
        var ticks: UInt64
        var utime: UInt64
        var stime: UInt64
        var wchan: String?
        var syscall: String?
        var stack: [String]?
        var voluntary: UInt64?
        var nonvoluntary: UInt64?
    }

    struct Reading {
        var time: Double
        var threads: [ThreadReading]
        var status: [String: String]
        var smaps: [String: String]
        var io: [String: String]
        var fdCount: Int?
        var syscall: String?
    }

    /// Samples `identity.pid` and writes the artefact to `outputPath`.
    /// Never throws for the target's disappearance: that gives a `partial` result.
    public static func run(identity: ProcessIdentity, intervalSeconds: Double, durationSeconds: Double,
                           outputPath: String, cancel: CancelFlag?) throws -> BackendResult {
        var result = BackendResult(backend: "procfs")
        let sink = try CaptureFileWriter(path: outputPath)
        defer { sink.close() }
        let tck = CaptureSys.clockTicksPerSecond
        var w = JSONWriter()
        w.beginObject()
        w.field("schema", schema)
        w.field("version", version)
        w.key("process"); writeIdentity(identity, into: &w)
        w.field("clockTicksPerSecond", tck)
        w.field("intervalSeconds", intervalSeconds)
        w.field("durationSeconds", durationSeconds)
        w.field("startedAtUnixSeconds", CaptureSys.unixSeconds())
        w.key("samples"); w.beginArray()
        try sink.write(w.takeText())

        let t0 = CaptureSys.monotonicSeconds()
        var stopReason: String?
        var cancelled = false
        guard var previous = readingIfSame(identity, at: t0, why: &stopReason) else {
            return finish(&w, sink: sink, result: &result, samples: 0, first: nil, last: nil, tck: tck,
                          stopReason: stopReason, cancelled: false, path: outputPath)
        }
        let first = previous
        var sampleCount = 0
        var k = 1
        while true {
            let deadline = t0 + Double(k) * intervalSeconds
            if deadline > t0 + durationSeconds + 1e-9 { break }
            if !CaptureSys.sleep(until: deadline, cancel: cancel) { cancelled = true; break }
            k += 1
            guard let now = readingIfSame(identity, at: CaptureSys.monotonicSeconds(), why: &stopReason) else { break }
            writeSample(now, previous: previous, t0: t0, tck: tck, into: &w)
            try sink.write(w.takeText())
            sampleCount += 1
            previous = now
        }
        return finish(&w, sink: sink, result: &result, samples: sampleCount, first: first, last: previous,
                      tck: tck, stopReason: stopReason, cancelled: cancelled, path: outputPath)
    }

    private static func finish(_ w: inout JSONWriter, sink: CaptureFileWriter, result: inout BackendResult, samples: Int,
                               first: Reading?, last: Reading?, tck: Int, stopReason: String?,
                               cancelled: Bool, path: String) -> BackendResult {
        w.endArray()
        w.key("summary"); w.beginObject()
        w.field("sampleCount", samples)
        let elapsed = (first != nil && last != nil) ? last!.time - first!.time : 0
        w.field("elapsedSeconds", elapsed)
        w.key("threads"); w.beginArray()
        if let first, let last, elapsed > 0 {
            let before = Dictionary(first.threads.map { ($0.tid, $0) }, uniquingKeysWith: { a, _ in a })
            for t in last.threads {
                let base = before[t.tid]?.ticks ?? 0  // a thread born mid-capture starts from 0
                w.beginObject()
                w.field("tid", Int(t.tid))
                w.field("name", t.name)
                w.field("cpuPercent", cpuPercent(ticks: t.ticks &- base, tck: tck, seconds: elapsed))
                w.field("cpuSeconds", Double(t.ticks &- base) / Double(tck))
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
        try? sink.write(w.takeText() + "\n")
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

    /// Reads everything, then re-checks the identity: a reading that may belong to a process
    /// that reused the pid is discarded (nil, with the reason).
    static func readingIfSame(_ id: ProcessIdentity, at time: Double, why: inout String?) -> Reading? {
        let before = IdentityCheck.check(id)
        if let r = before.reason { why = r; return nil }
        let r = read(pid: id.pid, time: time)
        let after = IdentityCheck.check(id)
        if let reason = after.reason { why = reason; return nil }
        return r
    }

    static func read(pid: Int32, time: Double) -> Reading {
        let base = "/proc/\(pid)"
        var threads: [ThreadReading] = []
        let tids = (CaptureSys.listDirectory(base + "/task").0 ?? []).compactMap { Int32($0) }.sorted()
        for tid in tids {
            let tb = "\(base)/task/\(tid)"
            guard let st = CaptureSys.readText(tb + "/stat").flatMap(ProcStat.parse) else { continue }
            let status = CaptureSys.readText(tb + "/status").map(ProcKeyValue.parse)
            let stack = CaptureSys.readText(tb + "/stack").map { text in
                text.split(separator: "\n").map { String($0).trimmingASCIIWhitespace() }
            }
            threads.append(ThreadReading(
                tid: tid, name: st.comm, state: st.state, ticks: st.utimeTicks + st.stimeTicks,
                utime: st.utimeTicks, stime: st.stimeTicks,
                wchan: CaptureSys.readText(tb + "/wchan"),
                syscall: CaptureSys.readText(tb + "/syscall").map { $0.trimmingASCIIWhitespace() },
                stack: stack,
                voluntary: ProcKeyValue.firstInteger(status?["voluntary_ctxt_switches"]),
                nonvoluntary: ProcKeyValue.firstInteger(status?["nonvoluntary_ctxt_switches"])))
        }
        let (fds, _) = CaptureSys.listDirectory(base + "/fd")
        return Reading(time: time, threads: threads,
                       status: CaptureSys.readText(base + "/status").map(ProcKeyValue.parse) ?? [:],
                       smaps: CaptureSys.readText(base + "/smaps_rollup").map(ProcKeyValue.parse) ?? [:],
                       io: CaptureSys.readText(base + "/io").map(ProcKeyValue.parse) ?? [:],
                       fdCount: fds?.count,
                       syscall: CaptureSys.readText(base + "/syscall").map { $0.trimmingASCIIWhitespace() })
    }

    static func writeSample(_ r: Reading, previous p: Reading, t0: Double, tck: Int, into w: inout JSONWriter) {
        let dt = r.time - p.time
        w.beginObject()
        w.field("t", r.time - t0)
        w.field("intervalSeconds", dt)
        w.key("memory"); w.beginObject()
        for (k, name) in [("VmRSS", "vmRSSKiB"), ("VmHWM", "vmHWMKiB"), ("VmSize", "vmSizeKiB")] {
            w.field(name, ProcKeyValue.firstInteger(r.status[k]))
        }
        for (k, name) in [("Rss", "rssKiB"), ("Pss", "pssKiB"), ("Swap", "swapKiB")] {
            w.field(name, ProcKeyValue.firstInteger(r.smaps[k]))
        }
        w.endObject()
        w.field("threadCount", ProcKeyValue.firstInteger(r.status["Threads"]).map(Int.init) ?? r.threads.count)
        w.field("fdCount", r.fdCount)
        w.key("io")
        if r.io.isEmpty { w.null() } else {
            w.beginObject()
            for (k, name) in [("read_bytes", "readBytes"), ("write_bytes", "writeBytes"),
                              ("rchar", "rchar"), ("wchar", "wchar")] {
                let now = ProcKeyValue.firstInteger(r.io[k])
                let before = ProcKeyValue.firstInteger(p.io[k])
                w.field(name, now)
                var rate: Double? = nil
                if let now, let before, dt > 0, now >= before { rate = Double(now - before) / dt }
                w.field(name + "PerSecond", rate)
            }
            w.endObject()
        }
        var vol: UInt64 = 0, nonvol: UInt64 = 0
        for t in r.threads { vol += t.voluntary ?? 0; nonvol += t.nonvoluntary ?? 0 }
        w.key("contextSwitches"); w.beginObject()
        w.field("voluntary", vol)
        w.field("nonvoluntary", nonvol)
        w.endObject()
        w.field("syscall", r.syscall)
        let before = Dictionary(p.threads.map { ($0.tid, $0.ticks) }, uniquingKeysWith: { a, _ in a })
        w.key("threads"); w.beginArray()
        for t in r.threads {
            w.beginObject()
            w.field("tid", Int(t.tid))
            w.field("name", t.name)
            w.field("state", String(t.state))
            if let b = before[t.tid], t.ticks >= b {
                w.field("cpuPercent", cpuPercent(ticks: t.ticks - b, tck: tck, seconds: dt))
            } else {
                w.field("cpuPercent", nil as Double?)
            }
            w.field("utimeTicks", t.utime)
            w.field("stimeTicks", t.stime)
            w.field("wchan", t.wchan)
            w.field("syscall", t.syscall)
            w.field("voluntaryCtxtSwitches", t.voluntary)
            w.field("nonvoluntaryCtxtSwitches", t.nonvoluntary)
            w.key("kernelStack")
            if let s = t.stack { w.beginArray(); for l in s { w.string(l) }; w.endArray() } else { w.null() }
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
