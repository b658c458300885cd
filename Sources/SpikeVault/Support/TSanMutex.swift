#if SPIKEVAULT_TSAN
#if canImport(Glibc)
import Glibc
#endif

/// Only in ThreadSanitizer builds (`make check-tsan` passes `-DSPIKEVAULT_TSAN`): shadows
/// Synchronization's `Mutex` inside this module with a pthread mutex of the same API.
/// Synchronization's Mutex locks with futex system calls inside the prebuilt standard library,
/// which TSan does not see, so every access it protects is reported as a race between two
/// threads that in fact held the lock in turn. pthread_mutex_lock is intercepted by TSan.
/// Release builds never compile this file's contents.
final class Mutex<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    init(_ initialValue: consuming sending Value) {
        value = initialValue
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<Result, E: Error>(_ body: (inout sending Value) throws(E) -> sending Result) throws(E) -> sending Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
#endif
