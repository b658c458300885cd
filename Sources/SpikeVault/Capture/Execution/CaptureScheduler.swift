/// Runs capture jobs on a fixed pool of library threads with a bounded queue, and keeps the
/// per-process cooldown. A full queue is refused at once (`.busy`) rather than blocking the host.
final class CaptureScheduler: @unchecked Sendable {
    private let condition = Condition()
    private var queue: [CaptureJob] = []
    private var running: [CaptureJob] = []
    private var threads: [WorkerThread] = []
    private var stopping = false
    private var lastAccepted: [CooldownKey: UInt64] = [:]
    private let queueCapacity: Int
    private let cooldownNanoseconds: UInt64
    private let perform: @Sendable (CaptureJob) -> Result<ProfileRecord, SpikeVaultError>

    struct CooldownKey: Hashable { var pid: Int32; var startTime: UInt64; var metric: TriggerMetric }

    init(workers: Int, queueCapacity: Int, cooldownSeconds: Double,
         perform: @escaping @Sendable (CaptureJob) -> Result<ProfileRecord, SpikeVaultError>) {
        self.queueCapacity = queueCapacity
        self.cooldownNanoseconds = UInt64(max(0, cooldownSeconds) * 1e9)
        self.perform = perform
        self.workerCount = workers
    }

    private let workerCount: Int

    /// Starts the worker threads on first use, so a vault that never captures has none.
    private func startWorkersLocked() throws {
        guard threads.isEmpty else { return }
        for _ in 0..<workerCount { threads.append(try WorkerThread { [unowned self] in self.workLoop() }) }
    }

    /// Checks and records the cooldown for `key`; throws `.cooldown` if it was used too recently.
    func claimCooldown(_ key: CooldownKey) throws {
        try condition.withLock { try claimCooldownLocked(key) }
    }

    private func claimCooldownLocked(_ key: CooldownKey) throws {
        let now = Posix.monotonicNanoseconds()
        if cooldownNanoseconds > 0, let last = lastAccepted[key], now &- last < cooldownNanoseconds {
            let ago = Double(now &- last) / 1e9
            throw SpikeVaultError(.cooldown, "pid \(key.pid) was captured for \(key.metric.rawValue) \(Int(ago)) s ago; "
                                  + "the cooldown is \(Int(Double(cooldownNanoseconds) / 1e9)) s")
        }
        lastAccepted[key] = now
        if lastAccepted.count > 4096 {  // forget expired entries so the map stays small
            lastAccepted = lastAccepted.filter { now &- $0.value < cooldownNanoseconds }
        }
    }

    /// Queues a job; `.busy` when every worker is busy and the queue is full.
    func submit(_ job: CaptureJob, cooldownKey: CooldownKey) throws {
        try condition.withLock {
            guard !stopping else { throw SpikeVaultError(.closed, "the vault is closing; no new captures") }
            let idle = workerCount - running.count
            guard queue.count < queueCapacity + max(0, idle) else {
                throw SpikeVaultError(.busy, "capture queue is full (\(workerCount) running, \(queueCapacity) queued); try again later")
            }
            try claimCooldownLocked(cooldownKey)
            try startWorkersLocked()
            queue.append(job)
            condition.broadcast()
        }
    }

    private func workLoop() {
        while true {
            let next: CaptureJob? = condition.withLock {
                while queue.isEmpty && !stopping { condition.wait(until: nil) }
                guard !stopping, !queue.isEmpty else { return nil }
                let job = queue.removeFirst()
                running.append(job)
                return job
            }
            guard let job = next else { return }
            if job.cancelFlag.isCancelled || !job.markRunning() {
                job.finish(.failure(SpikeVaultError(.cancelled, "capture cancelled before it started")))
            } else {
                job.finish(perform(job))
            }
            condition.withLock { running.removeAll { $0 === job } }
        }
    }

    /// Cancels queued and running jobs, waits for the workers to finish, and joins them.
    /// Every accepted job's completion has run when this returns.
    func shutdown() {
        let (queued, active, workers) = condition.withLock { () -> ([CaptureJob], [CaptureJob], [WorkerThread]) in
            stopping = true
            let q = queue
            queue.removeAll()
            condition.broadcast()
            return (q, running, threads)
        }
        for job in active { job.cancel() }
        for job in queued {
            job.cancel()
            job.finish(.failure(SpikeVaultError(.cancelled, "capture cancelled: the vault was closed")))
        }
        for t in workers { t.join() }
    }
}
