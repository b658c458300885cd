/// Status codes shared by the Swift core and the C ABI (`sv_status`).
///
/// Negative values are errors, zero is success, small positive values are cursor states.
/// The raw values are ABI: never renumber a case, only add new ones.
public enum Status: Int32, Sendable, CaseIterable {
    case ok = 0
    case row = 1
    case done = 2
    case invalidArgument = -1
    case nullArgument = -2
    case encoding = -3
    case io = -4
    case noSpace = -5
    case permission = -6
    case notFound = -7
    case corrupt = -8
    case tooLarge = -9
    case database = -10
    case closed = -11
    case busy = -12
    case unsupported = -13
    case noSuchProcess = -14
    case unsafePath = -15
    case timeout = -16
    case cancelled = -17
    case empty = -18
    case noMemory = -19
    case forked = -20
    case internalError = -21
    case alreadyExists = -22
    case cooldown = -23

    /// Static, human-readable description of the code (never the detail of one failure).
    public var text: String {
        switch self {
        case .ok: return "not an error"
        case .row: return "a row is available"
        case .done: return "no more rows"
        case .invalidArgument: return "invalid argument"
        case .nullArgument: return "a required pointer argument was NULL"
        case .encoding: return "string is not valid UTF-8"
        case .io: return "input/output error"
        case .noSpace: return "no space left on device"
        case .permission: return "permission denied"
        case .notFound: return "not found"
        case .corrupt: return "artefact or database content is corrupt"
        case .tooLarge: return "data exceeds the configured size limit"
        case .database: return "database error"
        case .closed: return "the vault is closed"
        case .busy: return "busy: the capture queue is full or the database is locked"
        case .unsupported: return "not supported on this platform or build"
        case .noSuchProcess: return "no such process"
        case .unsafePath: return "path refused as unsafe (symlink, foreign owner or outside the vault)"
        case .timeout: return "timed out"
        case .cancelled: return "cancelled"
        case .empty: return "empty input"
        case .noMemory: return "out of memory"
        case .forked: return "handle was opened in a parent process before fork()"
        case .internalError: return "internal error"
        case .alreadyExists: return "the destination already exists"
        case .cooldown: return "this process was captured for this metric too recently (cooldown)"
        }
    }
}

/// The one error type the core throws: a status plus the detail of this failure.
public struct SpikeVaultError: Error, Sendable, CustomStringConvertible {
    public let status: Status
    public let message: String

    public init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.text): \(message)" }

    /// Maps an errno value from a failed system call to the matching status.
    public static func errno(_ code: Int32, _ what: String) -> SpikeVaultError {
        let reason = String(cString: strerror(code))
        let status: Status
        switch code {
        case ENOSPC, EDQUOT, EFBIG: status = .noSpace
        case EACCES, EPERM, EROFS: status = .permission
        case ENOENT, ENOTDIR: status = .notFound
        case EEXIST: status = .alreadyExists
        case ELOOP: status = .unsafePath
        case ENOMEM: status = .noMemory
        default: status = .io
        }
        return SpikeVaultError(status, "\(what): \(reason)")
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
