/// Background writes: every write a host can make, on the vault's writer thread
/// (docs/storage.md, "Background writes"). The calling thread only validates the arguments
/// (in memory, without the database lock) and queues; it never waits for the disk.
extension Vault {
    /// Queues a save of `record` with `artefacts` (both copied). Bad input is refused here,
    /// with no job made; errors of the save itself arrive in the job's result.
    /// - Throws: `.busy` when the queue is full (`VaultOptions.writeQueueCapacity`), `.closed`.
    @discardableResult
    public func saveInBackground(_ record: ProfileRecord, artefacts: [NewArtefact],
                                 completion: (@Sendable (WriteJob) -> Void)? = nil) throws -> WriteJob {
        try validateWithoutDatabase(record, artefacts)
        return try enqueue(.save, completion) { vault in try vault.save(record, artefacts: artefacts).id }
    }

    /// Queues `deleteOlderThan(cutoff)`; the result is how many captures went.
    @discardableResult
    public func deleteOlderThanInBackground(_ cutoff: Timestamp,
                                            completion: (@Sendable (WriteJob) -> Void)? = nil) throws -> WriteJob {
        try enqueue(.purge, completion) { vault in Int64(try vault.deleteOlderThan(cutoff)) }
    }

    /// Queues a maintenance pass; the result is the captures purged (age and size).
    @discardableResult
    public func maintainInBackground(completion: (@Sendable (WriteJob) -> Void)? = nil) throws -> WriteJob {
        try enqueue(.maintain, completion) { vault in
            let r = try vault.maintain()
            return r.purgedByAge + r.purgedBySize
        }
    }

    /// Background writes accepted and not yet started.
    public var pendingBackgroundWrites: Int { writeQueue.withLock { $0 }?.pending ?? 0 }

    private func enqueue(_ kind: WriteJob.Kind, _ completion: (@Sendable (WriteJob) -> Void)?,
                         _ body: @escaping @Sendable (Vault) throws -> Int64) throws -> WriteJob {
        guard !isInheritedThroughFork else {
            throw SpikeVaultError(.forked, "this vault was opened by another process; open it again in process \(getpid())")
        }
        let job = WriteJob(kind: kind, work: { [weak self] in
            guard let self else { return .failure(SpikeVaultError(.closed, "the vault was released")) }
            do { return .success(try body(self)) }
            catch let e as SpikeVaultError { return .failure(e) }
            catch { return .failure(SpikeVaultError(.internalError, "\(error)")) }
        }, completion: completion)
        let queue = try writeQueue.withLock { existing -> WriteQueue in
            if let existing { return existing }
            guard !writesClosed.load(ordering: .acquiring) else { throw SpikeVaultError(.closed, "the vault at \(path) is closed") }
            let made = WriteQueue(capacity: Int(options.writeQueueCapacity))
            existing = made
            return made
        }
        try queue.submit(job)
        return job
    }

    /// Refuses new background writes and runs every queued one (called by `close`).
    func drainBackgroundWrites(wait: Bool = true) {
        writesClosed.store(true, ordering: .releasing)
        writeQueue.withLock { $0 }?.drain(wait: wait)
    }
}
