import Dispatch
import SpikeVault

/// The seed design's storage protocol, for Swift hosts (e.g. a menu-bar app).
///
/// Every call runs on a background queue and suspends the caller instead of blocking its
/// thread or actor, so it is safe to call from the main actor.
public protocol ProfileStore: Sendable {
    func migrateIfNeeded() async throws
    /// Saves the record (its artefacts given separately) and returns it with its id.
    func save(record: ProfileRecord, artefacts: [NewArtefact]) async throws -> ProfileRecord
    func fetchRecent(limit: Int) async throws -> [ProfileRecord]
    /// Deletes captures taken strictly before `date`, rows and files; returns how many.
    @discardableResult
    func deleteOlderThan(date: Timestamp) async throws -> Int
}

/// `ProfileStore` backed by a `Vault` (SQLite + zstd artefact files).
public final class SQLiteProfileStore: ProfileStore {
    public let vault: Vault
    private let queue = DispatchQueue(label: "spikevault.store", attributes: .concurrent)

    public init(vault: Vault) { self.vault = vault }

    /// Opens (creating if needed) the vault at `path`.
    public convenience init(path: String, options: VaultOptions = VaultOptions()) throws {
        self.init(vault: try Vault(path: path, options: options))
    }

    /// Runs blocking vault work on the store's queue and resumes the caller with its result.
    private func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// Migrations run when the vault opens; this only checks the vault is still usable.
    public func migrateIfNeeded() async throws {
        let vault = self.vault
        _ = try await offload { try vault.recent(limit: 0) }
    }

    public func save(record: ProfileRecord, artefacts: [NewArtefact] = []) async throws -> ProfileRecord {
        let vault = self.vault
        return try await offload { try vault.save(record, artefacts: artefacts) }
    }

    public func fetchRecent(limit: Int) async throws -> [ProfileRecord] {
        let vault = self.vault
        return try await offload { try vault.recent(limit: limit) }
    }

    @discardableResult
    public func deleteOlderThan(date: Timestamp) async throws -> Int {
        let vault = self.vault
        return try await offload { try vault.deleteOlderThan(date) }
    }
}
