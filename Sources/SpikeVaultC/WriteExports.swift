import SpikeVault

typealias WriteCallback = @convention(c) (OpaquePointer?, Int32, Int64, UnsafeMutableRawPointer?) -> Void

/// Queues `body`'s job and hands out its sv_job (when `out_job` is given), wiring the C callback.
private func startWrite(_ vault: OpaquePointer?, _ callback: WriteCallback?, _ user_data: UnsafeMutableRawPointer?,
                        _ out_job: UnsafeMutablePointer<OpaquePointer?>?,
                        _ body: (Vault, (@Sendable (WriteJob) -> Void)?) throws -> WriteJob) -> Int32 {
    guarded {
        out_job?.pointee = nil
        let v = try Vault.from(vault)
        let box = JobBox()
        let handle: OpaquePointer? = out_job == nil ? nil : Handles.shared.register(box)
        let handleBits = UInt(bitPattern: Int(bitPattern: handle))
        let userBits = UInt(bitPattern: user_data)
        var completion: (@Sendable (WriteJob) -> Void)?
        if let callback {
            completion = { job in
                let (status, value) = writeStatus(job.result)
                callback(OpaquePointer(bitPattern: handleBits), status, value, UnsafeMutableRawPointer(bitPattern: userBits))
            }
        }
        do {
            box.write = try body(v, completion)
        } catch {
            if let handle { _ = try? JobBox.remove(handle) }
            throw error
        }
        out_job?.pointee = handle
    }
}

func writeStatus(_ result: Result<Int64, SpikeVaultError>?) -> (Int32, Int64) {
    switch result {
    case .success(let value)?: return (sv_status.ok.rawValue, value)
    case .failure(let e)?:
        ErrorState.set(e.message)
        return (sv_status(e.status).rawValue, 0)
    case nil: return (sv_status.timeout.rawValue, 0)
    }
}

/// Saves a record in the background, as sv_vault_save does, on the vault's writer thread, and
/// returns at once: the record's fields and artefact buffers are copied now (artefact files
/// are read when the save runs), so the caller may free or reuse the record after the call.
/// The calling thread only checks the record (in memory) and queues; it never waits for the
/// disk or the database lock. `callback` (may be NULL) is called exactly once, ON THE
/// VAULT'S WRITER THREAD, with the job (NULL when out_job is NULL), the save's status, the new
/// capture id (0 unless SV_OK) and `user_data`; it must return promptly and must not close the
/// vault. Jobs run in the order queued. *out_job (may be NULL) receives a handle for
/// sv_job_wait / sv_job_cancel that the caller frees with sv_job_free. Errors at start, with no
/// callback: the record errors of sv_vault_save, SV_ERR_BUSY when SV_OPT_WRITE_QUEUE_CAPACITY
/// jobs are already waiting, SV_ERR_CLOSED once the vault is closing. sv_vault_close runs every
/// queued job (and its callback) before it returns. Thread-safe.
@c(sv_vault_save_start)
public func sv_vault_save_start(_ vault: OpaquePointer?, _ record: OpaquePointer?, _ callback: (@convention(c) (OpaquePointer?, Int32, Int64, UnsafeMutableRawPointer?) -> Void)?,
                                _ user_data: UnsafeMutableRawPointer?, _ out_job: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    startWrite(vault, callback, user_data, out_job) { v, completion in
        let box = try RecordBox.from(record)
        try box.requireComplete()
        return try v.saveInBackground(box.record, artefacts: box.artefacts, completion: completion)
    }
}

/// Deletes the captures taken strictly before `cutoff_unix_ms` in the background, as
/// sv_vault_delete_older_than does; the callback's value is the number deleted. Callback,
/// out_job, queue and close rules as for sv_vault_save_start. Thread-safe.
@c(sv_vault_purge_start)
public func sv_vault_purge_start(_ vault: OpaquePointer?, _ cutoff_unix_ms: Int64, _ callback: (@convention(c) (OpaquePointer?, Int32, Int64, UnsafeMutableRawPointer?) -> Void)?,
                                 _ user_data: UnsafeMutableRawPointer?, _ out_job: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    startWrite(vault, callback, user_data, out_job) { v, completion in
        try v.deleteOlderThanInBackground(Timestamp(milliseconds: cutoff_unix_ms), completion: completion)
    }
}

/// Runs one maintenance pass (as sv_vault_maintain) in the background; the callback's value
/// is the number of captures purged (by age and by size). Callback, out_job, queue and close
/// rules as for sv_vault_save_start. Thread-safe.
@c(sv_vault_maintain_start)
public func sv_vault_maintain_start(_ vault: OpaquePointer?, _ callback: (@convention(c) (OpaquePointer?, Int32, Int64, UnsafeMutableRawPointer?) -> Void)?,
                                    _ user_data: UnsafeMutableRawPointer?, _ out_job: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    startWrite(vault, callback, user_data, out_job) { v, completion in try v.maintainInBackground(completion: completion) }
}
