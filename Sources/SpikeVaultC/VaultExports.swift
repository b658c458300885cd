import SpikeVault

/// Opens the vault directory at `path` (UTF-8), creating it with mode 0700 if missing, and
/// its database and artefacts/ inside (files 0600 whatever the umask). A path that is a
/// symlink, a directory owned by another user or writable by group or others, or a vault
/// file owned by another user gives SV_ERR_UNSAFE_PATH; a directory or file of ours that is
/// merely readable by others is tightened. With SV_OPT_OPEN_EXISTING set to 1 nothing is
/// created: no vault there gives SV_ERR_NOT_FOUND. `options` may be NULL for the defaults; it is
/// copied. On success *out_vault receives a handle the caller owns and closes with
/// sv_vault_close. The handle is thread-safe: share it across threads. A handle inherited
/// through fork() gives SV_ERR_FORKED in the child: open the vault again there.
@c(sv_vault_open)
public func sv_vault_open(_ path: UnsafePointer<CChar>?, _ options: OpaquePointer?,
                          _ out_vault: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        let out = try requireOut(out_vault, "out_vault")
        out.pointee = nil
        let p = try cString(path, "path")
        var opts = VaultOptions()
        if options != nil { opts = try OptionsBox.from(options).options }
        out.pointee = Handles.shared.register(try Vault(path: p, options: opts))
    }
}

/// Closes a vault and releases its handle: runs every queued background write (sv_vault_save_start
/// and friends, each callback included), cancels its captures and waits for their callbacks,
/// then closes the database. NULL is a no-op (SV_OK); closing twice gives SV_ERR_CLOSED and
/// changes nothing. Cursors opened on the vault stay readable. Do not call while another thread
/// is still using the same handle, nor from a capture or background-write callback. In a child process that
/// inherited the handle through fork(), the handle is released without touching the parent's
/// database and the call returns SV_ERR_FORKED.
@c(sv_vault_close)
public func sv_vault_close(_ vault: OpaquePointer?) -> Int32 {
    guarded {
        guard let v = try Vault.remove(vault) else { return }
        let inherited = v.isInheritedThroughFork
        v.close()
        if inherited {
            throw SpikeVaultError(.forked, "vault \(v.path) was inherited through fork(); released without closing the parent's database")
        }
    }
}

/// Saves a record and its artefacts: each artefact is compressed into artefacts/, made
/// durable, then the rows are inserted in one transaction, so either the whole capture is
/// stored or nothing is. On success *out_id (may be NULL) receives the new capture id.
/// The record is not consumed. Thread-safe.
@c(sv_vault_save)
public func sv_vault_save(_ vault: OpaquePointer?, _ record: OpaquePointer?, _ out_id: UnsafeMutablePointer<Int64>?) -> Int32 {
    Vault.with(vault) { v in
        let box = try RecordBox.from(record)
        try box.requireComplete()
        let saved = try v.save(box.record, artefacts: box.artefacts)
        out_id?.pointee = saved.id
    }
}

/// Saves `count` records (1..10000) all or nothing, with one transaction and one directory
/// sync for the whole batch: every record is checked first (an incomplete or bad record gives
/// its status, and sv_errmsg names its index), and on any failure nothing of the batch is
/// stored. On success out_ids (may be NULL; else room for `count` ids) receives the new ids
/// in order. Errors: SV_ERR_NULL_ARGUMENT (records NULL, or a NULL entry),
/// SV_ERR_INVALID_ARGUMENT (count 0 or over 10000, a handle that is not a record). The records
/// are not consumed; the caller may free them and the array when this returns. Thread-safe.
@c(sv_vault_save_many)
public func sv_vault_save_many(_ vault: OpaquePointer?, _ records: UnsafePointer<OpaquePointer?>?, _ count: UInt,
                               _ out_ids: UnsafeMutablePointer<Int64>?) -> Int32 {
    Vault.with(vault) { v in
        guard count >= 1 && count <= UInt(Vault.maxSaveBatch) else {
            throw SpikeVaultError(.invalidArgument, "count must be 1-\(Vault.maxSaveBatch), got \(count)")
        }
        guard let records else { throw SpikeVaultError(.nullArgument, "records is NULL") }
        var batch: [(record: ProfileRecord, artefacts: [NewArtefact])] = []
        batch.reserveCapacity(Int(count))
        for i in 0..<Int(count) {
            guard let handle = records[i] else { throw SpikeVaultError(.nullArgument, "records[\(i)] is NULL") }
            do {
                let box = try Handles.shared.lookup(handle, as: RecordBox.self, "record")
                try box.requireComplete()
                batch.append((box.record, box.artefacts))
            } catch let e as SpikeVaultError {
                throw SpikeVaultError(e.status, "records[\(i)]: \(e.message)")
            }
        }
        let saved = try v.saveMany(batch)
        if let out_ids { for (i, r) in saved.enumerated() { out_ids[i] = r.id } }
    }
}

/// Opens a cursor over the one capture with `id`; SV_ERR_NOT_FOUND if there is none. The caller
/// owns *out_cursor and closes it with sv_cursor_close. Thread-safe.
@c(sv_vault_get)
public func sv_vault_get(_ vault: OpaquePointer?, _ id: Int64, _ out_cursor: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    Vault.with(vault) { v in
        let out = try requireOut(out_cursor, "out_cursor")
        out.pointee = nil
        out.pointee = Handles.shared.register(CursorBox([try v.record(id: id)]))
    }
}

/// Opens a cursor over the newest `limit` captures, newest first (limit 0..1000000; negative
/// gives SV_ERR_INVALID_ARGUMENT). Streams like sv_vault_query (same snapshot semantics).
/// The caller owns *out_cursor and closes it with sv_cursor_close. Thread-safe.
@c(sv_vault_recent)
public func sv_vault_recent(_ vault: OpaquePointer?, _ limit: Int64, _ out_cursor: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    Vault.with(vault) { v in
        let out = try requireOut(out_cursor, "out_cursor")
        out.pointee = nil
        guard limit >= 0 && limit <= 1_000_000 else {
            throw SpikeVaultError(.invalidArgument, "limit must be between 0 and 1000000, got \(limit)")
        }
        if limit <= Int64(RecordCursor.defaultPageSize) {
            // One page: one query is one snapshot, the rows the streaming cursor would return
            // (it reads its first page at open), without its bound query and page bookkeeping.
            out.pointee = Handles.shared.register(CursorBox(rows: try v.recentRows(limit: Int(limit))))
        } else {
            out.pointee = Handles.shared.register(CursorBox(streaming: try v.recentCursor(limit: Int(limit))))
        }
    }
}

/// Deletes every capture taken strictly before `cutoff_unix_ms` (milliseconds since the Unix
/// epoch, UTC): the rows in one transaction, then their files, and only regular files inside
/// artefacts/. *out_deleted (may be NULL) receives the number of captures deleted. Thread-safe.
@c(sv_vault_delete_older_than)
public func sv_vault_delete_older_than(_ vault: OpaquePointer?, _ cutoff_unix_ms: Int64,
                                       _ out_deleted: UnsafeMutablePointer<Int64>?) -> Int32 {
    Vault.with(vault) { v in
        // Evaluated first: `out?.pointee = try f()` would skip the call when out is NULL.
        let deleted = try v.deleteOlderThan(Timestamp(milliseconds: cutoff_unix_ms))
        out_deleted?.pointee = Int64(deleted)
    }
}

/// Deletes capture `id`: its rows in one transaction, then its files (only regular files inside
/// artefacts/), as retention purges do. SV_ERR_INVALID_ARGUMENT for id < 1, SV_ERR_NOT_FOUND
/// if there is no such capture; a capture naming an unsafe file is quarantined instead and
/// gives SV_ERR_UNSAFE_PATH. Thread-safe.
@c(sv_vault_delete)
public func sv_vault_delete(_ vault: OpaquePointer?, _ id: Int64) -> Int32 {
    Vault.with(vault) { v in try v.delete(captureID: id) }
}

/// Reads an artefact of capture `id` back into memory, decompressed and verified (zstd frame
/// checksum and the stored xxh64). `kind` selects the artefact; NULL means the capture's first.
/// On success *out_data receives a buffer of *out_size bytes that the caller frees with
/// sv_free. Corrupt, truncated or foreign data gives SV_ERR_CORRUPT; more than
/// SV_OPT_MAX_ARTEFACT_BYTES gives SV_ERR_TOO_LARGE. Thread-safe.
@c(sv_vault_read_artefact)
public func sv_vault_read_artefact(_ vault: OpaquePointer?, _ id: Int64, _ kind: UnsafePointer<CChar>?,
                                   _ out_data: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                   _ out_size: UnsafeMutablePointer<UInt>?) -> Int32 {
    giveArtefact(vault, out_data, out_size) { v in try v.readArtefact(captureID: id, kind: try optionalCString(kind, "kind")) }
}

/// As sv_vault_read_artefact, with the contents redacted as in a redacted bundle (every string
/// of a *.json artefact, every frame of a *.folded one, other text line by line: secrets in
/// arguments, credentials in URLs, keys and tokens, the home directory and user name). Content
/// that is not UTF-8 text cannot be redacted and gives SV_ERR_UNSUPPORTED. The buffer is freed
/// with sv_free. Thread-safe.
@c(sv_vault_read_artefact_redacted)
public func sv_vault_read_artefact_redacted(_ vault: OpaquePointer?, _ id: Int64, _ kind: UnsafePointer<CChar>?,
                                            _ out_data: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                            _ out_size: UnsafeMutablePointer<UInt>?) -> Int32 {
    giveArtefact(vault, out_data, out_size) { v in
        try v.readArtefact(captureID: id, kind: try optionalCString(kind, "kind"), redactor: Redactor())
    }
}

/// The shared tail of the two artefact reads: outputs cleared first (so they are NULL/0 on
/// any error), then the bytes handed over in a malloc'd buffer the caller frees with sv_free.
private func giveArtefact(_ vault: OpaquePointer?, _ out_data: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                          _ out_size: UnsafeMutablePointer<UInt>?, _ read: (Vault) throws -> [UInt8]) -> Int32 {
    Vault.with(vault) { v in
        let data = try requireOut(out_data, "out_data")
        let size = try requireOut(out_size, "out_size")
        data.pointee = nil
        size.pointee = 0
        let bytes = try read(v)
        guard let buffer = malloc(max(bytes.count, 1)) else { throw SpikeVaultError(.noMemory, "allocating \(bytes.count) bytes") }
        bytes.withUnsafeBytes { if let base = $0.baseAddress { buffer.copyMemory(from: base, byteCount: bytes.count) } }
        data.pointee = buffer
        size.pointee = UInt(bytes.count)
    }
}

/// Writes an artefact of capture `id`, decompressed and verified, to the file `dest_path`,
/// which must not exist (SV_ERR_ALREADY_EXISTS otherwise). The file appears complete or not at
/// all. `kind` selects the artefact; NULL means the capture's first. Thread-safe.
@c(sv_vault_export_artefact)
public func sv_vault_export_artefact(_ vault: OpaquePointer?, _ id: Int64, _ kind: UnsafePointer<CChar>?,
                                     _ dest_path: UnsafePointer<CChar>?) -> Int32 {
    Vault.with(vault) { v in
        let dest = try cString(dest_path, "dest_path")
        try v.exportArtefact(captureID: id, kind: try optionalCString(kind, "kind"), to: dest)
    }
}

/// Gives the absolute path of an artefact file (still compressed), e.g. to reveal it in a file
/// manager. `kind` NULL means the capture's first. A stored name that is not the library's own
/// plain file name (quarantined row) gives SV_ERR_UNSAFE_PATH: the path is always inside
/// artefacts/. *out_path receives a string the caller frees with sv_free. Thread-safe.
@c(sv_vault_artefact_path)
public func sv_vault_artefact_path(_ vault: OpaquePointer?, _ id: Int64, _ kind: UnsafePointer<CChar>?,
                                   _ out_path: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    Vault.with(vault) { v in
        let out = try requireOut(out_path, "out_path")
        out.pointee = nil
        out.pointee = strdup(try v.artefactPath(captureID: id, kind: try optionalCString(kind, "kind")))
    }
}
