/// A background thread that runs maintenance on an interval, first after a delay.
///
/// The work never runs on a caller's thread. `stop()` wakes the thread through a condition
/// variable (its waits are timed, never an hour-long sleep) and joins it, so `Vault.close()`
/// returns as soon as a run in progress reaches its next batch boundary.
final class MaintenanceScheduler: @unchecked Sendable {  // state guarded by `condition`
    private let condition = Condition()
    private var stopRequested = false
    private var thread: WorkerThread?
    private let firstDelayNanoseconds: UInt64
    private let intervalNanoseconds: UInt64
    private let work: @Sendable () -> Void
    /// The thread exists only in the process that started it (not in a fork() child).
    private let ownerPID = getpid()

    init(firstDelaySeconds: Int64, intervalSeconds: Int64, work: @escaping @Sendable () -> Void) {
        firstDelayNanoseconds = UInt64(max(0, firstDelaySeconds)) * 1_000_000_000
        intervalNanoseconds = UInt64(max(1, intervalSeconds)) * 1_000_000_000
        self.work = work
    }

    /// Starts the thread. Throws if the system refuses a thread.
    func start() throws {
        let started = try WorkerThread { [self] in loop() }
        condition.withLock { thread = started }
    }

    private func loop() {
        var deadline = Posix.monotonicNanoseconds() + firstDelayNanoseconds
        while waitUntil(deadline) {
            work()
            deadline = Posix.monotonicNanoseconds() + intervalNanoseconds
        }
    }

    /// Waits until `deadline` (monotonic ns); false when stop was requested.
    private func waitUntil(_ deadline: UInt64) -> Bool {
        condition.withLock {
            while !stopRequested {
                if Posix.monotonicNanoseconds() >= deadline { return true }
                condition.wait(until: deadline)
            }
            return false
        }
    }

    /// Requests the stop and joins the thread (detaches it when called from the thread itself,
    /// e.g. when the last reference to the vault is dropped by a scheduled run). Idempotent.
    func stop() {
        let t = condition.withLock { () -> WorkerThread? in
            stopRequested = true
            defer { thread = nil }
            condition.broadcast()
            return thread
        }
        guard let t, getpid() == ownerPID else { return }
        if t.isCurrent { t.detach() } else { t.join() }
    }
}
