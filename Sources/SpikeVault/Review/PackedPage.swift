/// A page of records packed as one JSON document, for bindings that would otherwise make a
/// dozen foreign calls per row (Python's ctypes): one call hands over a whole page, one
/// `json.loads` reads it.
///
/// The document is an array with one array per capture, positional to stay small:
/// `[id, processName, pid, triggerMetric, triggerValue, capturedAtMs, durationSeconds, status,
///   processStartTime|null, notes, [[kind, path, rawBytes, storedBytes, checksum], ...],
///   host|null, machineId|null]`
/// `triggerMetric` and `status` are the stored names (`"cpu"`, `"complete"`), `notes` is the
/// stored JSON object as a string (parsed by the reader, so one malformed row cannot spoil the
/// page), numbers are JSON numbers (a whole double may be written without a fraction).
public enum PackedPage {
    public static let fieldCount = 13

    public static func encode(_ records: [ProfileRecord]) -> [UInt8] {
        var w = JSONWriter()
        w.beginArray()
        for r in records {
            w.beginArray()
            w.int(r.id)
            w.string(r.processName)
            w.int(Int64(r.pid))
            w.string(r.triggerMetric.rawValue)
            w.double(r.triggerValue)
            w.int(r.capturedAt.milliseconds)
            w.double(r.durationSeconds)
            w.string(r.status.rawValue)
            if let start = r.processStartTime { w.int(start) } else { w.null() }
            w.string(r.notes)
            w.beginArray()
            for a in r.artefacts {
                w.beginArray()
                w.string(a.kind)
                w.string(a.path)
                w.int(a.rawBytes)
                w.int(a.storedBytes)
                w.string(a.checksum)
                w.endArray()
            }
            w.endArray()
            if let host = r.host { w.string(host) } else { w.null() }
            if let id = r.machineID { w.string(id) } else { w.null() }
            w.endArray()
        }
        w.endArray()
        return w.takeBytes { Array($0) }
    }
}
