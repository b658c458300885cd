/// A background thread that runs maintenance on an interval, first after a delay.
///
/// The work never runs on a caller's thread. `stop()` wakes the thread through a condition
/// variable (its waits are timed, never an hour-long sleep) and joins it, so `Vault.close()`
/// returns as soon as a run in progress reaches its next batch boundary.
final class MaintenanceScheduler: @unchecked Sendable {  // state guarded by `mutex`
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var stopRequested = false
    private var thread: pthread_t?
    private let firstDelayNanoseconds: UInt64
    private let intervalNanoseconds: UInt64
    private let work: @Sendable () -> Void
    /// The thread exists only in the process that started it (not in a fork() child).
    private let ownerPID = getpid()

    init(firstDelaySeconds: Int64, intervalSeconds: Int64, work: @escaping @Sendable () -> Void) {
        firstDelayNanoseconds = UInt64(max(0, firstDelaySeconds)) * 1_000_000_000
        intervalNanoseconds = UInt64(max(1, intervalSeconds)) * 1_000_000_000
        self.work = work
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    /// Starts the thread. Throws if the system refuses a thread.
    func start() throws {
        let box = Unmanaged.passRetained(self)
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { arg in
            let scheduler = Unmanaged<MaintenanceScheduler>.fromOpaque(arg!).takeRetainedValue()
            scheduler.loop()
            return nil
        }, box.toOpaque())
        if rc != 0 {
            box.release()
            throw SpikeVaultError.errno(rc, "starting the maintenance thread")
        }
        thread = t
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
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !stopRequested {
            let now = Posix.monotonicNanoseconds()
            if now >= deadline { return true }
            var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            _ = pthread_cond_timedwait(cond, mutex, &ts)
        }
        return false
    }

    /// Requests the stop and joins the thread (detaches it when called from the thread itself,
    /// e.g. when the last reference to the vault is dropped by a scheduled run). Idempotent.
    func stop() {
        pthread_mutex_lock(mutex)
        stopRequested = true
        let t = thread
        thread = nil
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
        guard let t, getpid() == ownerPID else { return }
        if pthread_equal(t, pthread_self()) != 0 {
            pthread_detach(t)
        } else {
            pthread_join(t, nil)
        }
    }
}
