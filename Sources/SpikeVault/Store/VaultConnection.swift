import CSQLite

/// Settings of the vault's own connection, applied at open without writing to a database
/// that already has them: a full disk must not stop an open (docs/retention.md, "Full disk").
extension Database {
    func configureForVault(durability: VaultOptions.Durability) throws {
        // Keep the WAL and shm files when the last connection closes (the WAL is cut to 0
        // bytes, the shm keeps its 32 KiB): a later open then needs no new space, where a
        // fresh shm file would fail on a full disk before the first read.
        var persist: Int32 = 1
        sqlite3_file_control(handle, "main", SQLITE_FCNTL_PERSIST_WAL, &persist)
        if try scalarText("PRAGMA journal_mode") != "wal" {
            // Only a new database takes auto_vacuum (it must be set before WAL writes page 1);
            // on an existing one the pragma rewrites page 1 at every open.
            if try scalarInt("PRAGMA page_count") == 0 { try execute("PRAGMA auto_vacuum = INCREMENTAL") }
            try execute("PRAGMA journal_mode = WAL")
        }
        // The WAL counts in the footprint: after a checkpoint it is cut back to 1 MiB.
        try execute("PRAGMA journal_size_limit = 1048576")
        try execute("PRAGMA foreign_keys = ON")
        // FAST zeroes deleted content only on pages that are written anyway. ON (Debian's
        // build default) also writes every freed page to the WAL: about 20 times the WAL for
        // the same delete, so deleting to free a full disk would need the space it frees.
        try execute("PRAGMA secure_delete = FAST")
        try execute("PRAGMA synchronous = \(durability == .full ? "FULL" : durability == .off ? "OFF" : "NORMAL")")
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)`: the WAL's blocks go back to the filesystem when no
    /// reader holds it (otherwise it does what it can and does not fail). False when the disk
    /// was too full to copy the WAL into the database; the WAL is then left as it was.
    @discardableResult
    func checkpointTruncating() throws -> Bool {
        do {
            try execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return true
        } catch let e as SpikeVaultError where e.status == .noSpace {
            return false
        }
    }
}
