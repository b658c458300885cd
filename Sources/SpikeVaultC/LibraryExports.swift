import SpikeVault

/// Static C strings for the status texts and the version, made once.
private enum StaticText {
    nonisolated(unsafe) static let statuses: [Int32: UnsafePointer<CChar>] = Dictionary(
        uniqueKeysWithValues: Status.allCases.map { (sv_status($0).rawValue, UnsafePointer(strdup($0.text)!)) })
    nonisolated(unsafe) static let unknownStatus = UnsafePointer(strdup("unknown status code")!)
    nonisolated(unsafe) static let version = UnsafePointer(strdup(LibraryVersion.string)!)
}

/// Returns the runtime library version as MAJOR*10000 + MINOR*100 + PATCH, to compare with
/// the header's SV_VERSION_NUMBER. Thread-safe; never fails.
@c(sv_version_number)
public func sv_version_number() -> Int32 { LibraryVersion.number }

/// Returns the runtime library version as "MAJOR.MINOR.PATCH". The string is static: do not
/// free it. Thread-safe; never fails.
@c(sv_version_string)
public func sv_version_string() -> UnsafePointer<CChar> { StaticText.version }

/// Returns a static English description of a status code (unknown codes get a generic text).
/// Do not free it. Thread-safe; never fails.
@c(sv_status_string)
public func sv_status_string(_ status: Int32) -> UnsafePointer<CChar> {
    StaticText.statuses[status] ?? StaticText.unknownStatus
}

/// Returns the detail message of the last failed call made on this thread ("no error" if none).
/// Never NULL. The string belongs to the library and stays valid until the next failing call
/// on the same thread; copy it to keep it. Thread-local, so threads never see each other's errors.
@c(sv_errmsg)
public func sv_errmsg() -> UnsafePointer<CChar> { ErrorState.current }

/// Frees memory the library handed to the caller (for example the buffer of
/// sv_vault_read_artefact). NULL is a no-op. Never pass memory from another allocator.
/// Thread-safe.
@c(sv_free)
public func sv_free(_ memory: UnsafeMutableRawPointer?) { free(memory) }
