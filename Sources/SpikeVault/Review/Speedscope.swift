/// Folded stacks as a speedscope file (https://www.speedscope.app/file-format-schema.json):
/// one "sampled" profile whose samples are the distinct stacks (frame indices, root first)
/// and whose weights are their counts, so `samples` and `weights` have equal length.
enum Speedscope {
    static func json(_ folded: FoldedStacks, name: String, redactor: Redactor) -> String {
        var frameIndex: [String: Int] = [:]
        var frames: [String] = []
        var samples: [[Int]] = []
        var weights: [Int] = []
        for stack in folded.counts.keys.sorted() {
            var indices: [Int] = []
            for frame in redactFrames(stack, redactor) {
                if let i = frameIndex[frame] { indices.append(i); continue }
                frameIndex[frame] = frames.count
                indices.append(frames.count)
                frames.append(frame)
            }
            samples.append(indices)
            weights.append(folded.counts[stack]!)
        }
        var w = JSONWriter()
        w.beginObject()
        w.field("$schema", "https://www.speedscope.app/file-format-schema.json")
        w.key("shared")
        w.beginObject()
        w.key("frames")
        w.beginArray()
        for f in frames { w.beginObject(); w.field("name", f); w.endObject() }
        w.endArray()
        w.endObject()
        w.key("profiles")
        w.beginArray()
        w.beginObject()
        w.field("type", "sampled")
        w.field("name", name)
        w.field("unit", "none")
        w.field("startValue", 0)
        w.field("endValue", weights.reduce(into: 0) { $0.addSaturating($1) })
        w.key("samples")
        w.beginArray()
        for s in samples { w.beginArray(); for i in s { w.int(i) }; w.endArray() }
        w.endArray()
        w.key("weights")
        w.beginArray()
        for x in weights { w.int(x) }
        w.endArray()
        w.endObject()
        w.endArray()
        w.field("name", name)
        w.field("activeProfileIndex", 0)
        w.field("exporter", "spikevault")
        w.endObject()
        return w.takeText()
    }
}

/// Stack export formats.
public enum StackFormat: String, Sendable, CaseIterable {
    /// `frame;frame;leaf count` lines, as FlameGraph, inferno and speedscope read them.
    case folded
    /// speedscope's JSON file format.
    case speedscope
    /// pprof's gzip-compressed `profile.proto` (binary: `Vault.pprof`, `exportStacks`).
    case pprof
}

extension Vault {
    /// The capture's stack artefact kind: `kind` when given, else `oncpu.folded`, else the
    /// first artefact whose kind ends in `.folded`.
    func stackKind(_ record: ProfileRecord, _ kind: String?) throws -> String {
        if let kind { return kind }
        let kinds = record.artefacts.map(\.kind)
        if kinds.contains("oncpu.folded") { return "oncpu.folded" }
        if let k = kinds.first(where: { $0.hasSuffix(".folded") }) { return k }
        throw SpikeVaultError(.notFound, "capture \(record.id) has no stack artefact (*.folded); it has: \(kinds.joined(separator: ", "))")
    }

    /// The stacks of a capture's folded artefact in `format` (redacted unless disabled).
    public func stacks(captureID: Int64, kind: String? = nil, format: StackFormat,
                       redactor: Redactor = Redactor()) throws -> String {
        let record = try record(id: captureID)
        let k = try stackKind(record, kind)
        let text = String(decoding: try readArtefact(captureID: captureID, kind: k), as: UTF8.self)
        let folded = FoldedStacks.parse(text)
        switch format {
        case .folded:
            var out = ""
            for (stack, n) in folded.counts.sorted(by: { $0.key < $1.key }) {
                out += redactFrames(stack, redactor).joined(separator: ";") + " \(n)\n"
            }
            return out
        case .speedscope:
            let name = "\(redactor.enabled ? redactor.redact(text: record.processName) : record.processName) (pid \(record.pid)) \(k) \(record.capturedAt)"
            return Speedscope.json(folded, name: name, redactor: redactor)
        case .pprof:
            throw SpikeVaultError(.invalidArgument, "pprof is binary: use Vault.pprof or exportStacks")
        }
    }

    /// Writes `stacks(...)` to `destination` atomically.
    public func exportStacks(captureID: Int64, kind: String? = nil, format: StackFormat, to destination: String,
                             options: ExportOptions = ExportOptions()) throws {
        let bytes = format == .pprof
            ? try pprof(captureID: captureID, kind: kind, redactor: options.redactor)
            : Array(try stacks(captureID: captureID, kind: kind, format: format, redactor: options.redactor).utf8)
        try AtomicFile.write(to: destination, overwrite: options.overwrite) { fd in
            var out = OutputBuffer(fd: fd, what: "writing \(destination)")
            out.append(bytes: bytes)
            try out.flush()
        }
    }
}

/// A folded stack's frames, redacted as an argument vector (a frame that looks like
/// `--token` masks the next one, as in a command line).
func redactFrames(_ stack: String, _ redactor: Redactor) -> [String] {
    let frames = stack.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
    return redactor.enabled ? redactor.redact(arguments: frames) : frames
}
