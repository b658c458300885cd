/// Captures read straight from a query of `RecordStore.columns` into one block of
/// NUL-terminated UTF-8 texts: no Swift string per field, and a text handed to C is a pointer
/// into the block, valid as long as the rows. The C cursor (`sv_vault_recent`) reads these; the
/// values are exactly those `RecordStore.collect` would give (`record(_:)` builds that record).
///
/// Texts are copied as stored when they are ASCII; anything else goes through the same UTF-8
/// repair as `Statement.text` (invalid sequences become U+FFFD). A NULL where `collect` has a
/// default (process name "", notes "{}", artefact kind, path and checksum "") gets that default.
/// Immutable once built; share freely.
public final class PackedRecords: @unchecked Sendable {
    /// A text in the block: `offset` of its first byte (-1 for NULL) and its length in bytes
    /// (the block also holds a NUL after it). An embedded NUL is kept, as `Statement.text` keeps it.
    struct Text {
        var offset: Int
        var count: Int
        static let null = Text(offset: -1, count: 0)
    }

    public struct Capture: Sendable {
        public let id: Int64
        public let pid: Int32
        public let triggerMetric: TriggerMetric
        public let triggerValue: Double
        public let capturedAt: Timestamp
        public let durationSeconds: Double
        public let status: CaptureStatus
        public let processStartTime: Int64?
        let processName: Text, profilePath: Text, notes: Text, host: Text, machineID: Text
        let firstArtefact: Int
        public fileprivate(set) var artefactCount: Int
    }

    struct Artefact {
        let kind: Text, path: Text, checksum: Text
        let rawBytes: Int64, storedBytes: Int64
    }

    // Constants once built (no exclusivity checks on the accessors' paths).
    public let captures: [Capture]
    private let artefacts: [Artefact]
    private let block: UnsafeMutablePointer<CChar>

    public var count: Int { captures.count }

    /// Steps `st` (a query of `RecordStore.columns`, ordered so that a capture's rows are
    /// adjacent) to the end and resets it. Throws `.corrupt` as `collect` does.
    init(_ st: Statement) throws {
        var b = Builder()
        do {
            try b.read(st)
        } catch {
            b.block.deallocate()
            throw error
        }
        captures = b.captures
        artefacts = b.artefacts
        block = b.block
    }

    deinit { block.deallocate() }

    // MARK: Reading

    /// The NUL-terminated text of capture `i`'s field; valid as long as these rows.
    public func processName(_ i: Int) -> UnsafePointer<CChar> { pointer(captures[i].processName) }
    public func notes(_ i: Int) -> UnsafePointer<CChar> { pointer(captures[i].notes) }
    /// nil when the column is NULL.
    public func host(_ i: Int) -> UnsafePointer<CChar>? { optionalPointer(captures[i].host) }
    public func machineID(_ i: Int) -> UnsafePointer<CChar>? { optionalPointer(captures[i].machineID) }

    /// Artefact `a` (0-based, below `captures[i].artefactCount`) of capture `i`.
    public func artefactKind(_ i: Int, _ a: Int) -> UnsafePointer<CChar> { pointer(artefact(i, a).kind) }
    public func artefactPath(_ i: Int, _ a: Int) -> UnsafePointer<CChar> { pointer(artefact(i, a).path) }
    public func artefactChecksum(_ i: Int, _ a: Int) -> UnsafePointer<CChar> { pointer(artefact(i, a).checksum) }
    public func artefactRawBytes(_ i: Int, _ a: Int) -> Int64 { artefact(i, a).rawBytes }
    public func artefactStoredBytes(_ i: Int, _ a: Int) -> Int64 { artefact(i, a).storedBytes }

    /// Capture `i` as `RecordStore.collect` returns it.
    public func record(_ i: Int) -> ProfileRecord {
        let c = captures[i]
        var r = ProfileRecord(id: c.id, processName: string(c.processName) ?? "", pid: c.pid, triggerMetric: c.triggerMetric,
                              triggerValue: c.triggerValue, capturedAt: c.capturedAt, profilePath: string(c.profilePath),
                              durationSeconds: c.durationSeconds, notes: string(c.notes) ?? "{}", status: c.status,
                              processStartTime: c.processStartTime, host: string(c.host), machineID: string(c.machineID))
        r.artefacts.reserveCapacity(c.artefactCount)
        for a in 0..<c.artefactCount {
            let x = artefact(i, a)
            r.artefacts.append(ArtefactInfo(kind: string(x.kind) ?? "", path: string(x.path) ?? "", rawBytes: x.rawBytes,
                                            storedBytes: x.storedBytes, checksum: string(x.checksum) ?? ""))
        }
        return r
    }

    private func artefact(_ i: Int, _ a: Int) -> Artefact { artefacts[captures[i].firstArtefact + a] }

    private func pointer(_ t: Text) -> UnsafePointer<CChar> { UnsafePointer(block + max(t.offset, 0)) }

    private func optionalPointer(_ t: Text) -> UnsafePointer<CChar>? { t.offset < 0 ? nil : UnsafePointer(block + t.offset) }

    private func string(_ t: Text) -> String? {
        guard t.offset >= 0 else { return nil }
        return UnsafeRawPointer(block + t.offset).withMemoryRebound(to: UInt8.self, capacity: t.count) {
            String(decoding: UnsafeBufferPointer(start: $0, count: t.count), as: UTF8.self)
        }
    }

    private struct Builder {
        var captures: [Capture] = []
        var artefacts: [Artefact] = []
        // Room for a page of 50-100 typical captures without growing (each growth copies).
        var capacity = 16384
        var block = UnsafeMutablePointer<CChar>.allocate(capacity: 16384)
        var used = 0

        mutating func read(_ st: Statement) throws {
            defer { st.reset() }
            while try st.step() {
                let id = st.int64(0)
                if captures.last?.id != id {
                    guard let metric = PackedRecords.metric(st.textBytes(3)), let status = PackedRecords.status(st.textBytes(9)) else {
                        throw SpikeVaultError(.corrupt, "capture \(id) has an unknown metric or status")
                    }
                    guard let at = st.textBytes(5).flatMap({ Timestamp(sqlBytes: $0) }) else {
                        _ = try st.timestamp(5)  // throws its .corrupt message
                        throw SpikeVaultError(.corrupt, "capture \(id) has an unreadable capture time")
                    }
                    captures.append(Capture(
                        id: id, pid: Int32(truncatingIfNeeded: st.int64(2)), triggerMetric: metric,
                        triggerValue: st.double(4), capturedAt: at, durationSeconds: st.double(7), status: status,
                        processStartTime: st.isNull(10) ? nil : st.int64(10),
                        processName: add(st.textBytes(1), default: ""), profilePath: add(st.textBytes(6)),
                        notes: add(st.textBytes(8), default: "{}"), host: add(st.textBytes(16)),
                        machineID: add(st.textBytes(17)), firstArtefact: artefacts.count, artefactCount: 0))
                }
                if !st.isNull(11) {
                    artefacts.append(Artefact(kind: add(st.textBytes(11), default: ""), path: add(st.textBytes(12), default: ""),
                                              checksum: add(st.textBytes(15), default: ""),
                                              rawBytes: st.int64(13), storedBytes: st.int64(14)))
                    captures[captures.count - 1].artefactCount += 1
                }
            }
        }

        // MARK: Building

        mutating func add(_ bytes: UnsafeBufferPointer<UInt8>?, default fallback: StaticString) -> Text {
            if let bytes { return add(bytes) }
            return fallback.withUTF8Buffer { append($0) }
        }

        mutating func add(_ bytes: UnsafeBufferPointer<UInt8>?) -> Text {
            guard let bytes else { return .null }
            // ASCII is valid UTF-8 as it is; anything else is repaired exactly as Statement.text does.
            if !bytes.contains(where: { $0 >= 0x80 }) { return append(bytes) }
            var repaired = String(decoding: bytes, as: UTF8.self)
            return repaired.withUTF8 { append($0) }
        }

        mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) -> Text {
            let need = used + bytes.count + 1
            if need > capacity {
                var grown = capacity * 2
                while grown < need { grown *= 2 }
                let bigger = UnsafeMutablePointer<CChar>.allocate(capacity: grown)
                bigger.update(from: block, count: used)
                block.deallocate()
                block = bigger
                capacity = grown
            }
            let start = used
            if let base = bytes.baseAddress, bytes.count > 0 {
                UnsafeMutableRawPointer(block + start).copyMemory(from: base, byteCount: bytes.count)
            }
            block[start + bytes.count] = 0
            used = need
            return Text(offset: start, count: bytes.count)
        }
    }

    // Stored names of the enums, compared as bytes (no string made per row).
    private static let metrics: [([UInt8], TriggerMetric)] = TriggerMetric.allCases.map { (Array($0.rawValue.utf8), $0) }
    private static let statuses: [([UInt8], CaptureStatus)] = CaptureStatus.allCases.map { (Array($0.rawValue.utf8), $0) }

    private static func metric(_ b: UnsafeBufferPointer<UInt8>?) -> TriggerMetric? {
        guard let b else { return nil }
        return metrics.first { $0.0.elementsEqual(b) }?.1
    }

    private static func status(_ b: UnsafeBufferPointer<UInt8>?) -> CaptureStatus? {
        guard let b else { return nil }
        return statuses.first { $0.0.elementsEqual(b) }?.1
    }
}
