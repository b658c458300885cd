/// Tunables of a vault. Every field has a default and documented bounds (see `bounds`),
/// mirrored one to one by the C ABI's `sv_option` keys.
public struct VaultOptions: Sendable, Equatable {
    /// How hard saves work to survive a crash or power loss.
    public enum Durability: Int64, Sendable {
        /// No fsync at all: for tests and throwaway vaults.
        case off = 0
        /// Artefact files and their directory are fsynced; SQLite WAL with `synchronous=NORMAL`
        /// (a committed save survives a process crash; a power cut may lose the last commits).
        case normal = 1
        /// As `normal`, with SQLite `synchronous=FULL`.
        case full = 2
    }

    /// zstd level for new artefacts (1–19).
    public var compressionLevel: Int64 = 3
    public var durability: Durability = .normal
    /// How long a writer waits for another process's lock before failing with `.busy`.
    public var busyTimeoutMilliseconds: Int64 = 10_000
    /// Reading refuses an artefact that decompresses to more than this.
    public var maxArtefactBytes: Int64 = 256 << 20
    /// Reading refuses a zstd frame whose window exceeds 2^windowLogMax bytes.
    public var windowLogMax: Int64 = 27
    /// Library threads that run asynchronous captures.
    public var captureWorkers: Int64 = 2
    /// Asynchronous captures that may wait for a worker; more are refused with `.busy`.
    public var captureQueueCapacity: Int64 = 8
    /// A process is not captured again for the same metric within this many seconds.
    public var captureCooldownSeconds: Int64 = 60

    // Retention (see Retention/RetentionPolicy.swift for the rules).
    /// A capture is purged once `now - capturedAt >= maxAgeSeconds` (0 = no age limit).
    public var maxAgeSeconds: Int64 = 72 * 3600
    /// Budget for database + WAL + shm + artefacts, in bytes of blocks actually used
    /// (`st_blocks * 512`). 50 MB = 50,000,000 bytes (SI, as `du --si`). 0 = no budget.
    public var maxFootprintBytes: Int64 = 50_000_000
    /// Captures are evicted (oldest first) while the filesystem has less than this share free.
    /// 0 = no floor.
    public var minFreePercent: Int64 = 5
    /// Background maintenance period; 0 = no scheduler thread (call `maintain()` yourself).
    public var maintenanceIntervalSeconds: Int64 = 3600
    /// Delay before the scheduler's first run after open.
    public var maintenanceFirstDelaySeconds: Int64 = 600
    /// Files in artefacts/ without a row are deleted only when older than this (a save in
    /// another process publishes its file before it commits its row).
    public var orphanGraceSeconds: Int64 = 3600
    /// Background writes (`saveInBackground`, purge and maintain forms) that may wait for the
    /// vault's writer thread; more are refused with `.busy` at once.
    public var writeQueueCapacity: Int64 = 1024
    /// Maintenance refreshes a DuckDB snapshot (`snapshot.duckdb` in the vault) when the last
    /// one is at least this old and the `duckdb` tool is present. 0 = never (the default).
    public var duckdbSnapshotIntervalSeconds: Int64 = 0
    /// Maintenance runs a full `VACUUM` when nothing was saved or deleted for at least this
    /// long (and not again until something changes). 0 = never (the default).
    public var idleVacuumSeconds: Int64 = 0
    /// 1: open an existing vault only; a missing directory or database is `.notFound` and
    /// nothing is created (for read-only tools). 0: create the vault when missing.
    public var openExisting: Int64 = 0
    /// The host name recorded with every capture (default: `gethostname`, see HostIdentity).
    /// Text options are set with `set(_:string:)`; nil keeps the detected value.
    public var hostName: String?
    /// The machine ID recorded with every capture (default: `/etc/machine-id` when readable).
    public var machineID: String?

    public init() {}

    /// The text tunables, by key name (the C ABI's `sv_options_set_string`).
    public static let stringKeys: Set<String> = ["hostName", "machineID"]

    /// Sets a text tunable by name after checking it (HostIdentity's rules); nil restores
    /// the detected value.
    public mutating func set(_ key: String, string value: String?) throws {
        switch key {
        case "hostName":
            if let value, !HostIdentity.isValidHostName(value) {
                throw SpikeVaultError(.invalidArgument,
                                      "option hostName must be 1-253 characters of A-Z a-z 0-9 . _ - starting with a letter or digit")
            }
            hostName = value
        case "machineID":
            if let value, !HostIdentity.isValidMachineID(value) {
                throw SpikeVaultError(.invalidArgument, "option machineID must be 1-64 characters of A-Z a-z 0-9 - _")
            }
            machineID = value
        default:
            throw SpikeVaultError(.invalidArgument, "\(key) is not a text option (text options: hostName, machineID)")
        }
    }

    /// Inclusive bounds and default for each tunable, by key name.
    public static let bounds: [String: (min: Int64, max: Int64, defaultValue: Int64)] = [
        "compressionLevel": (1, 19, 3),
        "durability": (0, 2, 1),
        "busyTimeoutMilliseconds": (0, 600_000, 10_000),
        "maxArtefactBytes": (1, 1 << 40, 256 << 20),
        "windowLogMax": (10, 31, 27),
        "captureWorkers": (1, 16, 2),
        "captureQueueCapacity": (0, 1024, 8),
        "captureCooldownSeconds": (0, 86_400, 60),
        "maxAgeSeconds": (0, 100 * 365 * 86400, 72 * 3600),
        "maxFootprintBytes": (0, 1 << 50, 50_000_000),
        "minFreePercent": (0, 90, 5),
        "maintenanceIntervalSeconds": (0, 30 * 86400, 3600),
        "maintenanceFirstDelaySeconds": (0, 30 * 86400, 600),
        "orphanGraceSeconds": (0, 30 * 86400, 3600),
        "openExisting": (0, 1, 0),
        "writeQueueCapacity": (1, 65_536, 1024),
        "duckdbSnapshotIntervalSeconds": (0, 365 * 86400, 0),
        "idleVacuumSeconds": (0, 365 * 86400, 0),
    ]

    /// Sets a tunable by name after checking its bounds.
    public mutating func set(_ key: String, _ value: Int64) throws {
        guard let b = Self.bounds[key] else {
            if Self.stringKeys.contains(key) {
                throw SpikeVaultError(.invalidArgument, "option \(key) is text: set it with sv_options_set_string")
            }
            throw SpikeVaultError(.invalidArgument, "unknown option \(key)")
        }
        guard value >= b.min && value <= b.max else {
            throw SpikeVaultError(.invalidArgument, "option \(key) = \(value) is outside \(b.min)...\(b.max)")
        }
        switch key {
        case "compressionLevel": compressionLevel = value
        case "durability": durability = Durability(rawValue: value) ?? .normal
        case "busyTimeoutMilliseconds": busyTimeoutMilliseconds = value
        case "maxArtefactBytes": maxArtefactBytes = value
        case "windowLogMax": windowLogMax = value
        case "captureWorkers": captureWorkers = value
        case "captureQueueCapacity": captureQueueCapacity = value
        case "captureCooldownSeconds": captureCooldownSeconds = value
        case "maxAgeSeconds": maxAgeSeconds = value
        case "maxFootprintBytes": maxFootprintBytes = value
        case "minFreePercent": minFreePercent = value
        case "maintenanceIntervalSeconds": maintenanceIntervalSeconds = value
        case "maintenanceFirstDelaySeconds": maintenanceFirstDelaySeconds = value
        case "orphanGraceSeconds": orphanGraceSeconds = value
        case "openExisting": openExisting = value
        case "writeQueueCapacity": writeQueueCapacity = value
        case "duckdbSnapshotIntervalSeconds": duckdbSnapshotIntervalSeconds = value
        case "idleVacuumSeconds": idleVacuumSeconds = value
        default: break  // unreachable: `bounds` rejected unknown keys above
        }
    }

    public func get(_ key: String) throws -> Int64 {
        switch key {
        case "compressionLevel": return compressionLevel
        case "durability": return durability.rawValue
        case "busyTimeoutMilliseconds": return busyTimeoutMilliseconds
        case "maxArtefactBytes": return maxArtefactBytes
        case "windowLogMax": return windowLogMax
        case "captureWorkers": return captureWorkers
        case "captureQueueCapacity": return captureQueueCapacity
        case "captureCooldownSeconds": return captureCooldownSeconds
        case "maxAgeSeconds": return maxAgeSeconds
        case "maxFootprintBytes": return maxFootprintBytes
        case "minFreePercent": return minFreePercent
        case "maintenanceIntervalSeconds": return maintenanceIntervalSeconds
        case "maintenanceFirstDelaySeconds": return maintenanceFirstDelaySeconds
        case "orphanGraceSeconds": return orphanGraceSeconds
        case "openExisting": return openExisting
        case "writeQueueCapacity": return writeQueueCapacity
        case "duckdbSnapshotIntervalSeconds": return duckdbSnapshotIntervalSeconds
        case "idleVacuumSeconds": return idleVacuumSeconds
        default: throw SpikeVaultError(.invalidArgument, "unknown option \(key)")
        }
    }
}
