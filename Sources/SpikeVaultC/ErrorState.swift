import SpikeVault

/// Per-thread detail of the last failure, behind `sv_errmsg()`.
enum ErrorState {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    nonisolated(unsafe) private static let noError: UnsafePointer<CChar> = UnsafePointer(strdup("no error")!)

    static var current: UnsafePointer<CChar> {
        guard let p = pthread_getspecific(key) else { return noError }
        return UnsafePointer(p.assumingMemoryBound(to: CChar.self))
    }

    static func set(_ message: String) {
        let old = pthread_getspecific(key)
        pthread_setspecific(key, strdup(message))
        free(old)
    }
}

/// Runs one C entry point: maps a thrown error to its status and records its message.
/// Every exported function that can fail goes through here, so no Swift error escapes to C.
func guarded(_ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return sv_status.ok.rawValue
    } catch let error as SpikeVaultError {
        ErrorState.set(error.message)
        return sv_status(error.status).rawValue
    } catch {
        ErrorState.set("unexpected error: \(error)")
        return sv_status.internalError.rawValue
    }
}

/// For accessors that return a value rather than a status: on failure, record the message
/// and return `fallback`.
func guardedValue<T>(_ fallback: T, _ body: () throws -> T) -> T {
    do {
        return try body()
    } catch let error as SpikeVaultError {
        ErrorState.set(error.message)
        return fallback
    } catch {
        ErrorState.set("unexpected error: \(error)")
        return fallback
    }
}

/// A C string argument as a Swift String: NULL and invalid UTF-8 are refused.
func cString(_ p: UnsafePointer<CChar>?, _ what: String) throws -> String {
    guard let p else { throw SpikeVaultError(.nullArgument, "\(what) is NULL") }
    guard let s = String(validatingCString: p) else {
        throw SpikeVaultError(.encoding, "\(what) is not valid UTF-8")
    }
    return s
}

/// An optional C string argument: NULL means absent.
func optionalCString(_ p: UnsafePointer<CChar>?, _ what: String) throws -> String? {
    guard p != nil else { return nil }
    return try cString(p, what)
}

/// Checks an out-parameter is non-NULL before any work is done.
func requireOut<T>(_ p: UnsafeMutablePointer<T>?, _ what: String) throws -> UnsafeMutablePointer<T> {
    guard let p else { throw SpikeVaultError(.nullArgument, "\(what) is NULL") }
    return p
}
