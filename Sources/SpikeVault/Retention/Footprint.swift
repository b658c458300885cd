/// The space a vault occupies, in bytes of allocated blocks (`st_blocks * 512`).
public struct Footprint: Sendable, Equatable {
    /// `vault.sqlite3`, `-wal` and `-shm` together.
    public var databaseBytes: Int64 = 0
    /// Every entry of `artefacts/` (published files, temp files and orphans alike).
    public var artefactBytes: Int64 = 0
    public var artefactFiles: Int = 0
    public var totalBytes: Int64 { databaseBytes + artefactBytes }
}

/// Free space of the filesystem holding the vault, as unprivileged users see it.
struct FreeSpace: Sendable, Equatable {
    var totalBytes: Int64
    var availableBytes: Int64
}

extension Footprint {
    /// What a file of `storedBytes` allocates on a filesystem of 4 KiB blocks: the estimate
    /// for artefact rows whose file was not measured (raw SQL, rows from before schema 4).
    static func estimatedAllocation(_ storedBytes: Int64) -> Int64 {
        storedBytes <= 0 ? 0 : ((storedBytes + 4095) / 4096) * 4096
    }
}

enum FootprintMeter {
    static let databaseFiles = [VaultDirectory.databaseName, VaultDirectory.databaseName + "-wal",
                                VaultDirectory.databaseName + "-shm"]

    /// Allocated bytes of the open file `fd` (0 if fstat fails).
    static func allocatedBytes(fd: Int32) -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return 0 }
        return Int64(st.st_blocks) * 512
    }

    /// Allocated bytes of `name` inside the directory `dirFD` (0 if absent). Never follows symlinks.
    static func allocatedBytes(_ dirFD: Int32, _ name: String) -> Int64 {
        var st = stat()
        guard fstatat(dirFD, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return 0 }
        return Int64(st.st_blocks) * 512
    }

    /// Database, WAL and shm: three `fstatat` calls.
    static func databaseBytes(vaultFD: Int32) -> Int64 {
        databaseFiles.reduce(0) { $0 + allocatedBytes(vaultFD, $1) }
    }

    /// The full measurement: the database files plus one `fstatat` per entry of artefacts/.
    static func measure(vaultFD: Int32, artefacts: ArtefactDirectory) throws -> Footprint {
        var f = Footprint()
        f.databaseBytes = databaseBytes(vaultFD: vaultFD)
        for name in try artefacts.entryNames() {
            f.artefactBytes += allocatedBytes(artefacts.fd, name)
            f.artefactFiles += 1
        }
        return f
    }

    static func freeSpace(_ fd: Int32) -> FreeSpace? {
        var s = statvfs()
        guard fstatvfs(fd, &s) == 0 else { return nil }
        return FreeSpace(totalBytes: Int64(s.f_blocks) * Int64(s.f_frsize),
                         availableBytes: Int64(s.f_bavail) * Int64(s.f_frsize))
    }
}
