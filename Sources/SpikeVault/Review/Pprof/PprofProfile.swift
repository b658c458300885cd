/// Folded stacks as a pprof profile (github.com/google/pprof, proto/profile.proto), encoded
/// here with `ProtobufWriter` and compressed with `Gzip`. Field numbers are the .proto's:
///
/// Profile: sample_type 1, sample 2, location 4, function 5, string_table 6, time_nanos 9,
/// duration_nanos 10, period_type 11, period 12, comment 13, default_sample_type 14.
/// ValueType: type 1, unit 2. Sample: location_id 1 (packed), value 2 (packed), label 3.
/// Label: key 1, str 2, num 3. Location: id 1, line 4. Line: function_id 1.
/// Function: id 1, name 2, system_name 3.
///
/// One function and one location per distinct frame name (folded stacks carry no addresses
/// or files); a sample's locations are leaf first, as pprof wants; string 0 is "".
struct PprofProfile {
    /// What the counts mean, from the artefact's kind and the capture's sampling period.
    struct Metadata {
        var kind: String
        var processName: String
        var pid: Int32
        var trigger: String
        var host: String?
        var captureID: Int64
        var timeNanos: Int64
        var durationNanos: Int64
        /// Nanoseconds one sample stands for, when the sampling rate is known.
        var periodNanos: Int64?
    }

    /// The second sample type for a known period: on-CPU and off-CPU stacks by kind
    /// (`oncpu.*` → cpu, `offcpu.*` → off-cpu), none for other kinds (e.g. history.folded).
    static func timeValueType(kind: String) -> String? {
        if kind.hasPrefix("oncpu.") { return "cpu" }
        if kind.hasPrefix("offcpu.") { return "off-cpu" }
        return nil
    }

    private var strings: [String] = [""]
    private var stringIndex: [String: Int64] = ["": 0]

    private mutating func intern(_ s: String) -> Int64 {
        if let i = stringIndex[s] { return i }
        let i = Int64(strings.count)
        strings.append(s)
        stringIndex[s] = i
        return i
    }

    /// The uncompressed profile.proto bytes. `frames` splits a folded stack into its frames,
    /// root first (already redacted by the caller when it must be).
    static func encode(_ folded: FoldedStacks, _ meta: Metadata, frames: (String) -> [String]) -> [UInt8] {
        var p = PprofProfile()
        var profile = ProtobufWriter()

        func valueType(_ type: String, _ unit: String) -> ProtobufWriter {
            var v = ProtobufWriter()
            v.int(1, p.intern(type))
            v.int(2, p.intern(unit))
            return v
        }
        let timeType = meta.periodNanos.flatMap { period in timeValueType(kind: meta.kind).map { ($0, period) } }
        profile.message(1, valueType("samples", "count"))
        if let (type, _) = timeType { profile.message(1, valueType(type, "nanoseconds")) }

        let labelProcess = p.intern("process"), labelPid = p.intern("pid")
        let labelTrigger = p.intern("trigger"), labelHost = p.intern("host")
        let process = p.intern(meta.processName), trigger = p.intern(meta.trigger)
        let host = meta.host.map { p.intern($0) }
        var labels = ProtobufWriter()
        func label(_ key: Int64, str: Int64 = 0, num: Int64 = 0) {
            var l = ProtobufWriter()
            l.int(1, key)
            l.int(2, str)
            l.int(3, num)
            labels.message(3, l)
        }
        label(labelProcess, str: process)
        label(labelPid, num: Int64(meta.pid))
        label(labelTrigger, str: trigger)
        if let host { label(labelHost, str: host) }

        var functionOf: [String: UInt64] = [:]
        var functions = ProtobufWriter()
        var locations = ProtobufWriter()
        for stack in folded.counts.keys.sorted() {
            let count = folded.counts[stack]!
            var ids: [UInt64] = []
            for frame in frames(stack).reversed() {
                if let id = functionOf[frame] { ids.append(id); continue }
                let id = UInt64(functionOf.count + 1)
                functionOf[frame] = id
                let name = p.intern(frame)
                var f = ProtobufWriter()
                f.int(1, Int64(id))
                f.int(2, name)
                f.int(3, name)
                functions.message(5, f)
                var line = ProtobufWriter()
                line.int(1, Int64(id))
                var loc = ProtobufWriter()
                loc.int(1, Int64(id))
                loc.message(4, line)
                locations.message(4, loc)
                ids.append(id)
            }
            var sample = ProtobufWriter()
            sample.packed(1, ids)
            var values = [UInt64(count)]
            if let (_, period) = timeType {
                values.append(UInt64(bitPattern: Int64(count).multipliedReportingOverflow(by: period).partialValue))
            }
            sample.packed(2, values)
            var s = sample.bytes
            s.append(contentsOf: labels.bytes)
            profile.bytesField(2, s)
        }
        var all = profile.bytes
        all.append(contentsOf: locations.bytes)
        all.append(contentsOf: functions.bytes)
        profile = ProtobufWriter()
        let comments = ["spikevault capture \(meta.captureID) \(meta.kind)",
                        "process: \(meta.processName)", "pid: \(meta.pid)", "trigger: \(meta.trigger)"]
            + (meta.host.map { ["host: \($0)"] } ?? [])
        let commentIDs = comments.map { p.intern($0) }
        var periodType: ProtobufWriter?
        if let (type, _) = timeType { periodType = valueType(type, "nanoseconds") }
        for s in p.strings { profile.string(6, s) }
        profile.int(9, meta.timeNanos)
        profile.int(10, meta.durationNanos)
        if let periodType, let (_, period) = timeType {
            profile.message(11, periodType)
            profile.int(12, period)
        }
        for c in commentIDs { profile.int(13, c) }  // repeated int64, unpacked (both are valid)
        all.append(contentsOf: profile.bytes)
        return all
    }
}
