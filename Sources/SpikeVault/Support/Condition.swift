/// A pthread mutex and condition variable, for threads that must sleep until woken or a
/// deadline passes (Synchronization's Mutex has no wait).
final class Condition: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
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

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits (lock held) until signalled or `deadline` (monotonic ns) passes; false on timeout.
    @discardableResult
    func wait(until deadline: UInt64?) -> Bool {
        guard let deadline else { pthread_cond_wait(cond, mutex); return true }
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        return pthread_cond_timedwait(cond, mutex, &ts) == 0
    }

    func broadcast() { pthread_cond_broadcast(cond) }
}

/// A joinable OS thread running one closure (Foundation's Thread is not available here).
final class WorkerThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: @Sendable () -> Void

    init(_ body: @escaping @Sendable () -> Void) throws {
        self.body = body
        let box = Unmanaged.passRetained(self)
        let rc = pthread_create(&thread, nil, { raw in
            let me = Unmanaged<WorkerThread>.fromOpaque(raw!).takeRetainedValue()
            me.body()
            return nil
        }, box.toOpaque())
        if rc != 0 {
            box.release()
            throw SpikeVaultError(.noMemory, "could not start a worker thread: \(String(cString: strerror(rc)))")
        }
    }

    func join() { pthread_join(thread, nil) }

    /// True when called on this thread itself (which must then not join itself).
    var isCurrent: Bool { pthread_equal(thread, pthread_self()) != 0 }

    /// Lets the thread end on its own, for when it cannot be joined (see `isCurrent`).
    func detach() { pthread_detach(thread) }
}
