/// `history.json`, the artefact a monitor-fired capture gets (schema in docs/monitor.md,
/// "History"). Times are relative to the trigger (`t`, seconds, negative before it) and
/// absolute (`time`, the library's UTC text form). Names come from the process and are
/// escaped as JSON strings; they are data, never used as paths.
enum HistoryJSON {
    static let version = 1

    static func encode(_ r: ProcessRing, triggerMs: Int64, intervalSeconds: Double, historySeconds: Double) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.field("version", version)
        w.field("pid", Int(r.pid))
        w.field("startTimeTicks", r.startTimeTicks)
        w.field("processName", r.comm)
        w.field("intervalSeconds", intervalSeconds)
        w.field("historySeconds", historySeconds)
        w.field("triggerTime", Timestamp(milliseconds: triggerMs).description)
        w.field("samplesTrimmedByMemory", Int(r.trimmedByMemory))
        w.field("stackIntervalSeconds", Double(r.stackIntervalMs) / 1000)
        w.field("stackSnapshots", r.stacks.filter { $0.timeMs <= triggerMs }.count)
        w.field("stackFailures", r.stackFailures)
        w.field("lastStackError", r.lastStackError)
        w.key("threadNames")
        w.beginObject()
        for (tid, name) in r.threadNames.sorted(by: { $0.key < $1.key }) { w.field(String(tid), name) }
        w.endObject()
        w.key("samples")
        w.beginArray()
        for s in r.live where s.timeMs <= triggerMs {
            w.beginObject()
            w.field("t", Double(s.timeMs - triggerMs) / 1000)
            w.field("time", Timestamp(milliseconds: s.timeMs).description)
            w.field("cpuPercent", s.cpuPercent < 0 ? nil : rounded(Double(s.cpuPercent)))
            w.field("rssBytes", s.rssBytes)
            w.field("readBytes", s.readBytes == HistorySample.unknown ? nil : s.readBytes)
            w.field("writeBytes", s.writeBytes == HistorySample.unknown ? nil : s.writeBytes)
            w.field("fds", s.fds < 0 ? nil : Int(s.fds))
            w.field("threadCount", Int(s.threadCount))
            w.key("threads")
            w.beginArray()
            for t in s.threads {
                w.beginObject()
                w.field("tid", Int(t.tid))
                w.field("cpuPercent", t.cpuPercent < 0 ? nil : rounded(Double(t.cpuPercent)))
                w.field("state", String(decoding: [t.state], as: UTF8.self))
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.takeBytes { Array($0) }
    }

    private static func rounded(_ v: Double) -> Double { (v * 10).rounded() / 10 }
}
