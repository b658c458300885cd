/// Writes the metric collectors' artefacts (documented in docs/metric-captures.md) and
/// composes each collector's one-line answer. Tables are capped (`maxRows`) so a capture of a
/// process with a million fds stays small; the totals are always complete.
struct MetricArtefacts {
    static let maxRows = 200
    static let maxSockets = 1000

    let workDirectory: String
    let pid: Int32
    let elapsedSeconds: Double
    private(set) var artefacts: [CaptureArtefact] = []

    init(workDirectory: String, pid: Int32, elapsedSeconds: Double) {
        self.workDirectory = workDirectory; self.pid = pid; self.elapsedSeconds = elapsedSeconds
    }

    private mutating func write(_ kind: String, _ text: String) throws {
        let path = "\(workDirectory)/\(kind)"
        try CaptureSys.writeFile(path, text)
        artefacts.append(CaptureArtefact(kind: kind, path: path))
    }

    private func header(_ w: inout JSONWriter, _ schema: String) {
        w.beginObject()
        w.field("schema", "spikevault.\(schema)")
        w.field("version", 1)
        w.field("pid", Int(pid))
        w.field("elapsedSeconds", elapsedSeconds)
    }

    private func timelineJSON(_ w: inout JSONWriter, _ timeline: [(t: Double, fds: Int?, threads: Int?)]) {
        w.key("timeline")
        w.beginArray()
        for p in timeline {
            w.beginObject(); w.field("t", p.t); w.field("fds", p.fds); w.field("threads", p.threads); w.endObject()
        }
        w.endArray()
    }

    // MARK: fds

    mutating func fds(start: FdSnapshot, end: FdSnapshot, timeline: [(t: Double, fds: Int?, threads: Int?)]) throws -> String {
        if let e = start.error ?? end.error { throw SpikeVaultError(.permission, e) }
        let groups = FdAnalysis.groups(start: start, end: end)
        var w = JSONWriter()
        header(&w, "fds")
        w.key("start"); w.beginObject(); w.field("count", start.fds.count); w.endObject()
        w.key("end"); w.beginObject(); w.field("count", end.fds.count); w.endObject()
        w.key("kinds"); w.beginObject()
        var kinds: [String: (Int, Int)] = [:]
        for f in start.fds { kinds[f.kind, default: (0, 0)].0 += 1 }
        for f in end.fds { kinds[f.kind, default: (0, 0)].1 += 1 }
        for (k, v) in kinds.sorted(by: { $0.key < $1.key }) {
            w.key(k); w.beginObject(); w.field("start", v.0); w.field("end", v.1); w.endObject()
        }
        w.endObject()
        w.field("groupCount", groups.count)
        w.key("groups"); w.beginArray()
        for g in groups.prefix(Self.maxRows) {
            w.beginObject()
            w.field("kind", g.kind); w.field("pattern", g.pattern)
            w.field("start", g.start); w.field("end", g.end); w.field("growth", g.growth)
            w.field("example", g.example)
            w.endObject()
        }
        w.endArray()
        timelineJSON(&w, timeline)
        w.endObject()
        try write("fds.json", w.takeText())
        let total = "fds: \(Figures.count(end.fds.count)) open (\(Figures.signed(end.fds.count - start.fds.count)))"
        guard let top = groups.first, top.growth != 0 else { return total + ", no group grew" }
        return "\(total): \(Figures.signed(top.growth)) \(top.kind) \(top.pattern)"
    }

    // MARK: threads

    mutating func threads(_ tracker: ThreadTracker, timeline: [(t: Double, fds: Int?, threads: Int?)]) throws -> String {
        guard let first = tracker.first, let last = tracker.last else {
            throw SpikeVaultError(.permission, "cannot list /proc/\(pid)/task")
        }
        let groups = tracker.groups()
        var w = JSONWriter()
        header(&w, "threads")
        w.key("start"); w.beginObject(); w.field("count", first.names.count); w.endObject()
        w.key("end"); w.beginObject(); w.field("count", last.names.count); w.endObject()
        w.field("snapshots", tracker.samples)
        w.field("groupCount", groups.count)
        w.key("groups"); w.beginArray()
        for g in groups.prefix(Self.maxRows) {
            w.beginObject()
            w.field("pattern", g.pattern); w.field("start", g.start); w.field("end", g.end); w.field("growth", g.growth)
            w.field("peak", g.peak); w.field("created", g.created); w.field("exited", g.exited); w.field("example", g.example)
            w.endObject()
        }
        w.endArray()
        timelineJSON(&w, timeline)
        w.endObject()
        try write("threads.json", w.takeText())
        let total = "threads: \(Figures.count(last.names.count)) (\(Figures.signed(last.names.count - first.names.count)))"
        guard let top = groups.first, top.growth != 0 || top.created > 0 else { return total + ", no name group grew" }
        return "\(total): \(Figures.signed(top.growth)) named \(top.pattern) (\(Figures.count(top.created)) created, peak \(Figures.count(top.peak)))"
    }

    // MARK: call stacks (opens, clones, connect/send)

    /// `kind` (`opens.folded`…) from syscall samples weighted by the calls each stands for (period), root frame the syscall;
    /// the answer's tail naming the dominant program function, or nil without samples.
    mutating func callStacks(_ kind: String, _ samples: [PerfEventSample]?, verb: String) throws -> String? {
        guard let samples, !samples.isEmpty else { return nil }
        var folded = FoldedStacks()
        for s in samples {
            let name = s.event.split(separator: ":").last.map { String($0.dropFirst("sys_enter_".count)) } ?? s.event
            folded.add([name] + s.rootFirst, count: s.period)
        }
        try write(kind, folded.text)
        guard let d = Self.dominant(samples, weight: { $0.period }) else { return nil }
        return "; \(Figures.percent(d.2, of: d.3)) of \(verb) from \(d.0)" + (d.1.map { " ← \($0)" } ?? "")
    }

    // MARK: memory

    /// The dominant program function of weighted samples: (function, caller, weight, total).
    static func dominant(_ samples: [PerfEventSample], weight: (PerfEventSample) -> Int) -> (String, String?, Int, Int)? {
        var by: [String: Int] = [:]
        var callers: [String: [String: Int]] = [:]
        var total = 0
        for s in samples {
            let wt = weight(s)
            total += wt
            guard let a = s.attributed else { continue }
            by[a.function, default: 0] += wt
            if let c = a.caller { callers[a.function, default: [:]][c, default: 0] += wt }
        }
        guard let top = by.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }) else { return nil }
        let caller = callers[top.key]?.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key })?.key
        return (top.key, caller, top.value, total)
    }

    /// `kernelFaults`: the faults /proc counted over the window, the total the samples are scaled to.
    mutating func memory(start: SmapsSnapshot, end: SmapsSnapshot, samples: [PerfEventSample]?, perfNote: String?,
                         kernelFaults: Int? = nil) throws -> String {
        if let e = start.error ?? end.error { throw SpikeVaultError(.permission, e) }
        let growth = MappingAnalysis.growth(start: start, end: end)
        func total(_ s: SmapsSnapshot) -> MappingSizes { var t = MappingSizes(); for g in s.groups.values { t.add(g) }; return t }
        func sizes(_ w: inout JSONWriter, _ k: String, _ m: MappingSizes) {
            w.key(k); w.beginObject()
            w.field("mappings", m.count); w.field("sizeKiB", UInt64?(m.sizeKiB)); w.field("rssKiB", UInt64?(m.rssKiB))
            w.field("pssKiB", UInt64?(m.pssKiB)); w.field("anonymousKiB", UInt64?(m.anonymousKiB)); w.field("swapKiB", UInt64?(m.swapKiB))
            w.endObject()
        }
        var stackAnswer: String?
        var w = JSONWriter()
        header(&w, "mappings")
        sizes(&w, "start", total(start))
        sizes(&w, "end", total(end))
        w.key("mappings"); w.beginArray()
        for g in growth.prefix(Self.maxRows) {
            w.beginObject()
            w.field("label", g.label); w.field("kind", g.kind); w.field("rssGrowthKiB", Int(g.rssGrowthKiB))
            sizes(&w, "start", g.start); sizes(&w, "end", g.end)
            w.endObject()
        }
        w.endArray()
        w.key("growthStacks"); w.beginObject()
        w.field("perf", perfNote)
        if let samples {
            let scale = SampleScaling(samples, kernelTotal: kernelFaults) { $0.period }
            var folded = FoldedStacks()
            for s in samples { folded.add(s.rootFirst, count: scale.weight(s.period)) }
            w.field("samples", samples.count)
            w.field("faults", folded.totalSamples)
            scale.write(&w, sampledKey: "sampledPeriods", kernelKey: "kernelFaults")
            if let d = Self.dominant(samples, weight: { scale.weight($0.period) }) {
                w.field("topFunction", d.0); w.field("topCaller", d.1); w.field("topFaults", d.2)
                stackAnswer = "\(Figures.percent(d.2, of: d.3)) of faults under \(d.0)" + (d.1.map { " ← \($0)" } ?? "")
            }
            if folded.totalSamples > 0 { try write("growth.folded", folded.text) }
        } else {
            w.field("samples", Int?.none)
        }
        w.endObject()
        w.endObject()
        try write("mappings.json", w.takeText())
        let grew = Int64(total(end).rssKiB) - Int64(total(start).rssKiB)
        var answer = "memory \(grew >= 0 ? "grew" : "shrank") \(Figures.bytes(abs(grew) * 1024))"
        if let top = growth.first, top.rssGrowthKiB > 0 {
            answer += " (Rss); most in [\(SmapsSnapshot.kind(of: top.label))] \(top.label == "[heap]" ? "" : top.label + " ")+\(Figures.bytes(top.rssGrowthKiB * 1024))"
            answer = answer.replacingDoubleSpaces()
        }
        if let stackAnswer { answer += ", \(stackAnswer)" }
        return answer
    }

    // MARK: diskIO

    mutating func io(start: FdSnapshot, end: FdSnapshot, ioStart: ProcessIO?, ioEnd: ProcessIO?,
                     samples: [PerfEventSample]?, perfNote: String?) throws -> String {
        if let e = start.error ?? end.error { throw SpikeVaultError(.permission, e) }
        // fd → moved bytes: the position delta when the fd names the same thing at both ends,
        // the end position for an fd opened during the window.
        struct FileRow { var path: String; var kind: String; var fds: [Int32] = []; var moved: UInt64 = 0; var posEnd: UInt64 = 0 }
        var rows: [String: FileRow] = [:]
        let before = Dictionary(start.fds.map { ($0.fd, $0) }, uniquingKeysWith: { a, _ in a })
        for f in end.fds where f.kind != "socket" && f.kind != "pipe" && f.kind != "anon_inode" {
            var moved: UInt64 = 0
            if let p = f.pos {
                if let b = before[f.fd], b.target == f.target, let bp = b.pos { moved = p >= bp ? p - bp : 0 } else { moved = p }
            }
            var r = rows[f.target] ?? FileRow(path: f.target, kind: f.kind)
            r.fds.append(f.fd); r.moved += moved; r.posEnd = max(r.posEnd, f.pos ?? 0)
            rows[f.target] = r
        }
        let table = rows.values.sorted { $0.moved != $1.moved ? $0.moved > $1.moved : $0.path < $1.path }
        var w = JSONWriter()
        header(&w, "io")
        w.key("process"); w.beginObject()
        for (name, v) in [("start", ioStart), ("end", ioEnd)] {
            w.key(name)
            if let v { w.beginObject(); for k in ProcessIO.keys { w.field(k, v.values[k]) }; w.endObject() } else { w.null() }
        }
        w.key("delta")
        if let a = ioStart, let b = ioEnd {
            w.beginObject(); for k in ProcessIO.keys { w.field(k, Int((b.values[k] ?? 0) &- (a.values[k] ?? 0))) }; w.endObject()
        } else { w.null() }
        w.endObject()
        w.key("files"); w.beginArray()
        for r in table.prefix(Self.maxRows) {
            w.beginObject()
            w.field("path", r.path); w.field("kind", r.kind)
            w.key("fds"); w.beginArray(); for fd in r.fds { w.int(Int(fd)) }; w.endArray()
            w.field("bytesMoved", UInt64?(r.moved)); w.field("positionEnd", UInt64?(r.posEnd))
            w.field("bytesPerSecond", elapsedSeconds > 0 ? Double(r.moved) / elapsedSeconds : 0)
            w.endObject()
        }
        w.endArray()
        var stackAnswer: String?
        w.key("ioStacks"); w.beginObject()
        w.field("perf", perfNote)
        if let samples {
            // Weighted by the bytes each call asked for; the root frame names the syscall.
            var folded = FoldedStacks()
            let fileFds = Set((start.fds + end.fds).filter { $0.kind != "socket" && $0.kind != "pipe" }.map(\.fd))
            let known = Set((start.fds + end.fds).map(\.fd))
            func counts(_ s: PerfEventSample) -> Bool {
                guard let fd = s.args["fd"] else { return true }
                return fileFds.contains(Int32(truncatingIfNeeded: fd)) || !known.contains(Int32(truncatingIfNeeded: fd))
            }
            // Scaled to the bytes /proc/PID/io says were read and written (all fds: the scale
            // is taken over every sample, the file filter applied after).
            func raw(_ s: PerfEventSample) -> Int { Int(clamping: s.args["count"] ?? 0).multipliedReportingOverflow(by: s.period).partialValue }
            var kernelBytes: Int?
            if let a = ioStart, let b = ioEnd {
                kernelBytes = Int(clamping: ((b.values["rchar"] ?? 0) &- (a.values["rchar"] ?? 0)) &+ ((b.values["wchar"] ?? 0) &- (a.values["wchar"] ?? 0)))
            }
            let scale = SampleScaling(samples, kernelTotal: kernelBytes, raw: raw)
            func weight(_ s: PerfEventSample) -> Int { counts(s) ? scale.weight(raw(s)) : 0 }
            for s in samples {
                let name = s.event.split(separator: ":").last.map { String($0.dropFirst("sys_enter_".count)) } ?? s.event
                folded.add([name] + s.rootFirst, count: weight(s))
            }
            w.field("samples", samples.count)
            w.field("bytes", folded.totalSamples)
            scale.write(&w, sampledKey: "sampledBytes", kernelKey: "kernelBytes")
            if let d = Self.dominant(samples, weight: weight) {
                w.field("topFunction", d.0); w.field("topCaller", d.1); w.field("topBytes", d.2)
                stackAnswer = "\(Figures.percent(d.2, of: d.3)) of read/write bytes from \(d.0)" + (d.1.map { " ← \($0)" } ?? "")
            }
            if folded.totalSamples > 0 { try write("io.folded", folded.text) }
        } else { w.field("samples", Int?.none) }
        w.endObject()
        w.endObject()
        try write("io.json", w.takeText())
        var answer: String
        if let top = table.first, top.moved > 0 {
            let rate = elapsedSeconds > 0 ? Int64(Double(top.moved) / elapsedSeconds) : 0
            answer = "diskIO: \(Figures.bytes(Int64(top.moved))) moved on \(top.path) (\(Figures.bytes(rate))/s)"
        } else {
            answer = "diskIO: no fd position moved"
        }
        if let a = ioStart, let b = ioEnd {
            let wr = Int64((b.values["wchar"] ?? 0) &- (a.values["wchar"] ?? 0)), rd = Int64((b.values["rchar"] ?? 0) &- (a.values["rchar"] ?? 0))
            answer += "; process wrote \(Figures.bytes(wr)), read \(Figures.bytes(rd))"
        }
        if let stackAnswer { answer += "; \(stackAnswer)" }
        return answer
    }

    // MARK: network

    mutating func sockets(start: [(fd: Int32, socket: SocketEntry?)], end: [(fd: Int32, socket: SocketEntry?)],
                          errors: [String]) throws -> String {
        let groups = SocketAnalysis.groups(start: start, end: end)
        var w = JSONWriter()
        header(&w, "sockets")
        w.key("start"); w.beginObject(); w.field("count", start.count); w.endObject()
        w.key("end"); w.beginObject(); w.field("count", end.count); w.endObject()
        w.field("unreadableTables", strings: Array(Set(errors)).sorted())
        w.field("groupCount", groups.count)
        w.key("groups"); w.beginArray()
        for g in groups.prefix(Self.maxRows) {
            w.beginObject()
            w.field("protocol", g.proto); w.field("peer", g.peer)
            w.field("start", g.start); w.field("end", g.end); w.field("growth", g.growth)
            w.key("states"); w.beginObject(); for (k, v) in g.states.sorted(by: { $0.key < $1.key }) { w.field(k, v) }; w.endObject()
            w.endObject()
        }
        w.endArray()
        w.key("sockets"); w.beginArray()
        for (fd, s) in end.prefix(Self.maxSockets) {
            w.beginObject()
            w.field("fd", Int(fd))
            if let s {
                w.field("protocol", s.proto); w.field("local", s.local); w.field("remote", s.remote); w.field("state", s.state)
                w.field("txQueue", UInt64?(s.txQueue)); w.field("rxQueue", UInt64?(s.rxQueue)); w.field("inode", UInt64?(s.inode))
            } else { w.field("protocol", "other") }
            w.endObject()
        }
        w.endArray()
        w.endObject()
        try write("sockets.json", w.takeText())
        let total = "sockets: \(Figures.count(end.count)) (\(Figures.signed(end.count - start.count)))"
        guard let top = groups.first, top.growth != 0 else {
            return total + (groups.first.map { ", most to \($0.proto) \($0.peer) (\(Figures.count($0.end)))" } ?? "")
        }
        return "\(total): \(Figures.signed(top.growth)) \(top.proto) to \(top.peer)"
    }
}

extension String {
    func replacingDoubleSpaces() -> String {
        var out = ""
        for c in self { if !(c == " " && out.last == " ") { out.append(c) } }
        return out
    }
}
