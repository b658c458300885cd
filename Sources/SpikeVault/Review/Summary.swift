/// "Copy summary": a short report of one capture, as plain text or JSON. Redacted by default.
public enum SummaryFormat: String, Sendable { case text, json }

struct CaptureSummary {
    struct Stack { var frames: [String]; var samples: Int; var percent: Double }
    struct Thread { var tid: Int64; var name: String; var cpuPercent: Double; var cpuSeconds: Double }

    var record: ProfileRecord
    var processName: String
    var backendsRun: [String] = []
    var backendsSkipped: [(String, String)] = []
    var exe: String?
    var cmdline: [String] = []
    var stackKind: String?
    var totalSamples = 0
    var stacks: [Stack] = []
    var threads: [Thread] = []
    /// The metric collectors' answer for the trigger metric, and each collector's (notes).
    var answer: String?
    var answers: [(String, String)] = []
    var redacted: Bool

    static func localTime(_ t: Timestamp) -> String {
        var secs = time_t(t.milliseconds.floorDiv(1000))
        var parts = tm()
        localtime_r(&secs, &parts)
        func pad(_ v: Int, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        let off = parts.tm_gmtoff
        let sign = off < 0 ? "-" : "+"
        let a = abs(off)
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2)) "
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))"
            + " \(sign)\(pad(a / 3600, 2))\(pad(a % 3600 / 60, 2))"
    }

    static func bytes(_ n: Int64) -> String {
        if n < 1024 { return "\(n) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var v = Double(n) / 1024
        var u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        return "\(fixed(v, 1)) \(units[u])"
    }

    static func fixed(_ v: Double, _ digits: Int) -> String {
        guard v.isFinite else { return "n/a" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = Int64((abs(v) * scale).rounded())
        let whole = r / Int64(scale)
        let frac = r % Int64(scale)
        var f = String(frac)
        while f.count < digits { f = "0" + f }
        return (v < 0 && r != 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + f : "")
    }

    var text: String {
        let r = record
        // Everything that came from the process is escaped (VisibleText): a name or frame
        // cannot move the cursor, retitle a terminal or forge a line of this report.
        let v = VisibleText.escape
        var s = "SpikeVault capture \(r.id): \(v(processName)) (pid \(r.pid))\n"
        if let answer { s += "Answer:     \(v(answer))\n" }
        s += "Trigger:    \(r.triggerMetric.rawValue) = \(Self.fixed(r.triggerValue, 2))\n"
        s += "Captured:   \(r.capturedAt) UTC / \(Self.localTime(r.capturedAt)) local\n"
        s += "Duration:   \(Self.fixed(r.durationSeconds, 2)) s, status \(r.status.rawValue)\n"
        if let host = r.host {
            s += "Host:       \(v(host))" + (!redacted ? r.machineID.map { " (machine \(v($0)))" } ?? "" : "") + "\n"
        }
        s += "Backends:   \(backendsRun.isEmpty ? "(none recorded)" : v(backendsRun.joined(separator: ", ")))"
        if !backendsSkipped.isEmpty {
            s += "; skipped " + backendsSkipped.map { "\(v($0.0)) (\(v($0.1)))" }.joined(separator: ", ")
        }
        s += "\n"
        if let exe { s += "Executable: \(v(exe))\n" }
        if !cmdline.isEmpty { s += "Command:    \(cmdline.map(v).joined(separator: " "))\n" }
        s += "Size:       \(Self.bytes(r.rawBytes)) raw, \(Self.bytes(r.storedBytes)) stored in \(r.artefacts.count) artefact(s)\n"
        for a in r.artefacts {
            s += "  - \(v(a.kind)): \(Self.bytes(a.rawBytes)) (\(Self.bytes(a.storedBytes)) stored)\n"
        }
        if let k = stackKind {
            s += "Top stacks (\(v(k)), \(totalSamples) samples):\n"
            for st in stacks {
                let shown = st.frames.reversed().prefix(4).map(v).joined(separator: " <- ")
                s += "  \(Self.fixed(st.percent, 1))%  \(st.samples)  \(shown)\(st.frames.count > 4 ? " <- ..." : "")\n"
            }
        }
        if !threads.isEmpty {
            s += "Busiest threads (procfs.json):\n"
            for t in threads {
                s += "  \(Self.fixed(t.cpuPercent, 1))% CPU  tid \(t.tid) \(v(t.name)) (\(Self.fixed(t.cpuSeconds, 2)) s)\n"
            }
        }
        if answers.count > 1 || (answers.count == 1 && answers[0].1 != answer) {
            s += "Collectors:\n"
            for (c, a) in answers { s += "  \(v(c)): \(v(a))\n" }
        }
        if redacted { s += "(redacted: home directory, user name and secrets in arguments are masked)\n" }
        return s
    }

    var json: String {
        let r = record
        var w = JSONWriter()
        w.beginObject()
        w.field("id", Int(r.id))
        w.field("processName", processName)
        w.field("pid", Int(r.pid))
        w.field("triggerMetric", r.triggerMetric.rawValue)
        w.field("triggerValue", r.triggerValue)
        w.field("answer", answer)
        w.key("answers")
        w.beginObject()
        for (c, a) in answers { w.field(c, a) }
        w.endObject()
        w.field("capturedAt", r.capturedAt.description)
        w.field("capturedAtUTC", r.capturedAt.description)
        w.field("capturedAtLocal", Self.localTime(r.capturedAt))
        w.field("durationSeconds", r.durationSeconds)
        w.field("status", r.status.rawValue)
        w.field("host", r.host)
        w.field("machineId", redacted ? nil : r.machineID)
        w.field("backendsRun", strings: backendsRun)
        w.key("backendsSkipped")
        w.beginArray()
        for (b, why) in backendsSkipped { w.beginObject(); w.field("backend", b); w.field("reason", why); w.endObject() }
        w.endArray()
        w.field("exe", exe)
        w.field("cmdline", strings: cmdline)
        w.field("rawBytes", Int(r.rawBytes))
        w.field("storedBytes", Int(r.storedBytes))
        w.key("artefacts")
        w.beginArray()
        for a in r.artefacts {
            w.beginObject()
            w.field("kind", a.kind)
            w.field("rawBytes", Int(a.rawBytes))
            w.field("storedBytes", Int(a.storedBytes))
            w.endObject()
        }
        w.endArray()
        w.field("stackKind", stackKind)
        w.field("totalSamples", totalSamples)
        w.key("topStacks")
        w.beginArray()
        for st in stacks {
            w.beginObject()
            w.field("frames", strings: st.frames)
            w.field("samples", st.samples)
            w.field("percent", st.percent)
            w.endObject()
        }
        w.endArray()
        w.key("busiestThreads")
        w.beginArray()
        for t in threads {
            w.beginObject()
            w.field("tid", Int(t.tid))
            w.field("name", t.name)
            w.field("cpuPercent", t.cpuPercent)
            w.field("cpuSeconds", t.cpuSeconds)
            w.endObject()
        }
        w.endArray()
        w.field("redacted", redacted)
        w.endObject()
        return w.takeText()
    }
}

extension Vault {
    /// A short report of capture `id`: process, pid, trigger, time in UTC and local time,
    /// duration, backends run, sizes, the top 5 stacks (from `oncpu.folded` or another
    /// `*.folded`) and the 5 busiest threads (from `procfs.json`'s summary). Redacted unless
    /// `redactor` is disabled.
    public func summary(id: Int64, format: SummaryFormat, redactor: Redactor = Redactor()) throws -> String {
        let record = try record(id: id)
        var s = CaptureSummary(record: record, processName: redactor.redact(text: record.processName),
                               redacted: redactor.enabled)
        let notes = record.notes
        try withDatabase { db in
            let list = try db.statement("SELECT value FROM json_each(?1, ?2)")
            func strings(_ path: String) throws -> [String] {
                list.bind(1, notes)
                list.bind(2, path)
                defer { list.reset() }
                var out: [String] = []
                while try list.step() { out.append(list.text(0) ?? "") }
                return out
            }
            s.backendsRun = try strings("$.capture.backendsRun")
            s.cmdline = redactor.redact(arguments: try strings("$.capture.cmdline"))
            let skipped = try db.statement(
                "SELECT json_extract(value, '$.backend'), json_extract(value, '$.reason') FROM json_each(?1, '$.capture.backendsSkipped')")
            skipped.bind(1, notes)
            while try skipped.step() {
                s.backendsSkipped.append((skipped.text(0) ?? "?", redactor.redact(text: skipped.text(1) ?? "")))
            }
            skipped.reset()
            let answers = try db.statement("SELECT key, value FROM json_each(?1, '$.capture.metric.answers')")
            answers.bind(1, notes)
            while try answers.step() {
                s.answers.append((answers.text(0) ?? "?", redactor.redact(text: answers.text(1) ?? "")))
            }
            answers.reset()
            let headline = try db.statement("SELECT json_extract(?1, '$.capture.metric.headline')")
            headline.bind(1, notes)
            if try headline.step(), let h = headline.text(0) { s.answer = redactor.redact(text: h) }
            headline.reset()
            let exe = try db.statement("SELECT json_extract(?1, '$.capture.exe')")
            exe.bind(1, notes)
            if try exe.step(), let e = exe.text(0) { s.exe = redactor.redact(text: e) }
            exe.reset()
        }
        if let kind = try? stackKind(record, nil) {
            let folded = FoldedStacks.parse(String(decoding: try readArtefact(captureID: id, kind: kind), as: UTF8.self))
            s.stackKind = kind
            s.totalSamples = folded.totalSamples
            let top = folded.counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(5)
            s.stacks = top.map { stack, n in
                CaptureSummary.Stack(
                    frames: redactFrames(stack, redactor),
                    samples: n, percent: folded.totalSamples > 0 ? Double(n) * 100 / Double(folded.totalSamples) : 0)
            }
        }
        if record.artefacts.contains(where: { $0.kind == "procfs.json" }) {
            // The timeline is the process's data as stored: malformed JSON or odd entries give
            // no busiest threads, not a failed summary.
            let doc = String(decoding: try readArtefact(captureID: id, kind: "procfs.json"), as: UTF8.self)
            s.threads = try withDatabase { db in
                let st = try db.statement("""
                    SELECT json_extract(value, '$.tid'), json_extract(value, '$.name'),
                           json_extract(value, '$.cpuPercent'), json_extract(value, '$.cpuSeconds')
                    FROM json_each(CASE WHEN json_valid(?1) THEN ?1 END, '$.summary.threads')
                    WHERE type = 'object'
                    ORDER BY json_extract(value, '$.cpuPercent') DESC, json_extract(value, '$.tid') LIMIT 5
                    """)
                st.bind(1, doc)
                defer { st.reset() }
                var out: [CaptureSummary.Thread] = []
                while try st.step() {
                    out.append(.init(tid: st.int64(0), name: redactor.redact(text: st.text(1) ?? ""),
                                     cpuPercent: st.double(2), cpuSeconds: st.double(3)))
                }
                return out
            }
        }
        return format == .text ? s.text : s.json
    }
}
