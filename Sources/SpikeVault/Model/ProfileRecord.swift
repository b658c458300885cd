/// One stored capture: the seed design's `ProfileRecord`, with the integrity fields it lacked.
public struct ProfileRecord: Sendable, Equatable {
    /// Row id; 0 until the record is saved.
    public var id: Int64
    public var processName: String
    public var pid: Int32
    public var triggerMetric: TriggerMetric
    public var triggerValue: Double
    public var capturedAt: Timestamp
    /// The first artefact's file name, relative to the vault's `artefacts/` directory.
    public var profilePath: String?
    public var durationSeconds: Double
    /// A JSON object, as text.
    public var notes: String
    public var status: CaptureStatus
    /// The process start time in clock ticks since boot (`/proc/PID/stat` field 22), if known.
    public var processStartTime: Int64?
    public var artefacts: [ArtefactInfo]
    /// The host it was taken on (HostIdentity); nil for captures saved before host identity
    /// was recorded. `Vault.save` fills in the vault's identity when nil.
    public var host: String?
    /// The host's machine ID (`/etc/machine-id`), when known.
    public var machineID: String?

    public init(id: Int64 = 0, processName: String, pid: Int32, triggerMetric: TriggerMetric,
                triggerValue: Double, capturedAt: Timestamp = .now(), profilePath: String? = nil,
                durationSeconds: Double = 0, notes: String = "{}", status: CaptureStatus = .complete,
                processStartTime: Int64? = nil, artefacts: [ArtefactInfo] = [],
                host: String? = nil, machineID: String? = nil) {
        self.id = id
        self.processName = processName
        self.pid = pid
        self.triggerMetric = triggerMetric
        self.triggerValue = triggerValue
        self.capturedAt = capturedAt
        self.profilePath = profilePath
        self.durationSeconds = durationSeconds
        self.notes = notes
        self.status = status
        self.processStartTime = processStartTime
        self.artefacts = artefacts
        self.host = host
        self.machineID = machineID
    }

    /// Compressed bytes on disk, over all artefacts.
    public var storedBytes: Int64 { artefacts.reduce(0) { $0 + $1.storedBytes } }
    /// Uncompressed bytes, over all artefacts.
    public var rawBytes: Int64 { artefacts.reduce(0) { $0 + $1.rawBytes } }
}

/// One artefact file of a capture, as stored.
public struct ArtefactInfo: Sendable, Equatable {
    /// What it holds, e.g. `procfs.json`, `oncpu.folded`, `perf.script`.
    public var kind: String
    /// File name inside `artefacts/` (never a path).
    public var path: String
    public var rawBytes: Int64
    public var storedBytes: Int64
    /// `xxh64:` and 16 hex digits, over the raw (uncompressed) bytes.
    public var checksum: String

    public init(kind: String, path: String, rawBytes: Int64, storedBytes: Int64, checksum: String) {
        self.kind = kind
        self.path = path
        self.rawBytes = rawBytes
        self.storedBytes = storedBytes
        self.checksum = checksum
    }
}

/// An artefact to store: raw content from memory or from a file, and its kind.
public struct NewArtefact: Sendable {
    public enum Source: Sendable {
        case bytes([UInt8])
        case file(path: String)
    }
    public var kind: String
    public var source: Source

    public init(kind: String, bytes: [UInt8]) { self.kind = kind; self.source = .bytes(bytes) }
    public init(kind: String, filePath: String) { self.kind = kind; self.source = .file(path: filePath) }

    /// Kinds are short lowercase names that become part of a file name: `[a-z0-9._-]`, 1–64 chars.
    static func validateKind(_ kind: String) throws {
        let ok = !kind.isEmpty && kind.utf8.count <= 64 && kind.first != "."
            && kind.utf8.allSatisfy { c in
                (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                    || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
            }
        if !ok {
            throw SpikeVaultError(.invalidArgument,
                                  "artefact kind '\(kind)' must be 1-64 characters of a-z, 0-9, '.', '_' or '-', not starting with '.'")
        }
    }
}

/// The seed design's `ProfileRecord: Identifiable` (its `id` is the row id, 0 before saving).
extension ProfileRecord: Identifiable {}
