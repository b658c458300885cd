#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SpikeVault

/// The seed design's record, with the seed's types: `capturedAt: Date`, the artefact as a
/// `URL`, `notes: [String: String]?`. A view of `ProfileRecord` (docs/swift-api.md says where
/// and why the two differ); Foundation types live only in this Swift-only target, never in
/// libspikevault.so.
public struct SeedProfileRecord: Identifiable, Sendable, Equatable {
    public var id: Int64
    public var processName: String
    public var pid: Int32
    public var triggerMetric: TriggerMetric
    public var triggerValue: Double
    public var capturedAt: Date
    /// The first artefact's file (decompressed content: read it with `Vault.readArtefact`); nil
    /// for a capture without one (`missing`, `failed`). On save: a file to store, or nil.
    public var profilePath: URL?
    public var durationSeconds: Double
    public var notes: [String: String]?

    public init(id: Int64 = 0, processName: String, pid: Int32, triggerMetric: TriggerMetric, triggerValue: Double,
                capturedAt: Date = Date(), profilePath: URL? = nil, durationSeconds: Double = 0,
                notes: [String: String]? = nil) {
        self.id = id
        self.processName = processName
        self.pid = pid
        self.triggerMetric = triggerMetric
        self.triggerValue = triggerValue
        self.capturedAt = capturedAt
        self.profilePath = profilePath
        self.durationSeconds = durationSeconds
        self.notes = notes
    }
}

extension Timestamp {
    /// The instant as a `Date` (millisecond precision).
    public var date: Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// A `Date` to whole milliseconds, rounded down (`roundingUp`: up).
    public init(_ date: Date, roundingUp: Bool = false) {
        let ms = date.timeIntervalSince1970 * 1000
        self.init(milliseconds: Int64((roundingUp ? ms.rounded(.up) : ms.rounded(.down))))
    }
}

extension ProfileRecord {
    /// `capturedAt` as the seed's `Date`.
    public var capturedAtDate: Date { capturedAt.date }
}

/// The seed design's storage protocol, with its names and types.
public protocol SeedProfileStore: Sendable {
    func migrateIfNeeded() async throws
    @discardableResult
    func save(record: SeedProfileRecord) async throws -> SeedProfileRecord
    func fetchRecent(limit: Int) async throws -> [SeedProfileRecord]
    @discardableResult
    func deleteOlderThan(date: Date) async throws -> Int
}

/// `SeedProfileStore` over a vault: every call runs off the caller's thread (saves on the
/// vault's writer thread).
public final class SQLiteSeedProfileStore: SeedProfileStore {
    public let vault: Vault

    public init(vault: Vault) { self.vault = vault }

    public convenience init(path: String, options: VaultOptions = VaultOptions()) throws {
        self.init(vault: try Vault(path: path, options: options))
    }

    /// Opening a vault migrates it (and adopts a seed database) in one transaction; this
    /// checks that the open database is at this library's schema version.
    public func migrateIfNeeded() async throws {
        let vault = self.vault
        let version = try await Task.detached { try vault.schemaVersion() }.value
        guard version == Vault.currentSchemaVersion else {
            throw SpikeVaultError(.unsupported, "schema version \(version), expected \(Vault.currentSchemaVersion)")
        }
    }

    /// Saves on the vault's writer thread; a `profilePath` file is stored (compressed) as the
    /// capture's artefact, of kind `profile[.<ext>]`.
    @discardableResult
    public func save(record: SeedProfileRecord) async throws -> SeedProfileRecord {
        var r = ProfileRecord(processName: record.processName, pid: record.pid, triggerMetric: record.triggerMetric,
                              triggerValue: record.triggerValue, capturedAt: Timestamp(record.capturedAt),
                              durationSeconds: record.durationSeconds, notes: Vault.notesJSON(record.notes ?? [:]))
        r.id = 0
        var artefacts: [NewArtefact] = []
        if let url = record.profilePath {
            let ext = url.pathExtension.lowercased().filter { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") }
            artefacts.append(NewArtefact(kind: ext.isEmpty ? "profile" : "profile.\(ext.prefix(16))", filePath: url.path))
        }
        let vault = self.vault
        let id: Int64 = try await withCheckedThrowingContinuation { continuation in
            do {
                try vault.saveInBackground(r, artefacts: artefacts) { job in
                    switch job.result {
                    case .success(let id)?: continuation.resume(returning: id)
                    case .failure(let e)?: continuation.resume(throwing: e)
                    case nil: continuation.resume(throwing: SpikeVaultError(.internalError, "save finished without a result"))
                    }
                }
            } catch {
                continuation.resume(throwing: error)
            }
        }
        return try seedRecord(try await Task.detached { try vault.record(id: id) }.value)
    }

    public func fetchRecent(limit: Int) async throws -> [SeedProfileRecord] {
        let vault = self.vault
        let records = try await Task.detached { try vault.recent(limit: limit) }.value
        return try records.map(seedRecord)
    }

    /// Deletes captures taken strictly before `date` (rows, then files); returns how many.
    @discardableResult
    public func deleteOlderThan(date: Date) async throws -> Int {
        let vault = self.vault
        return try await Task.detached { try vault.deleteOlderThan(Timestamp(date, roundingUp: true)) }.value
    }

    /// The seed view of a stored record.
    public func seedRecord(_ r: ProfileRecord) throws -> SeedProfileRecord {
        let url = r.artefacts.isEmpty ? nil : URL(fileURLWithPath: try vault.artefactPath(captureID: r.id))
        let notes = try vault.stringNotes(r.notes)
        return SeedProfileRecord(id: r.id, processName: r.processName, pid: r.pid, triggerMetric: r.triggerMetric,
                                 triggerValue: r.triggerValue, capturedAt: r.capturedAt.date, profilePath: url,
                                 durationSeconds: r.durationSeconds, notes: notes.isEmpty ? nil : notes)
    }
}

extension SQLiteProfileStore {
    /// The seed's `deleteOlderThan(date:)` with a `Date`.
    @discardableResult
    public func deleteOlderThan(date: Date) async throws -> Int {
        try await deleteOlderThan(date: Timestamp(date, roundingUp: true))
    }
}
