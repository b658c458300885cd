#if canImport(Glibc)
import Glibc
#endif

/// Which processes a rule applies to: process-name (comm) globs to include (empty: all) and
/// to exclude, and uids (empty: any). Globs are fnmatch(3) patterns: `*`, `?`, `[a-z]`.
public struct ProcessFilter: Sendable, Equatable {
    public var include: [String]
    public var exclude: [String]
    public var uids: [UInt32]

    public init(include: [String] = [], exclude: [String] = [], uids: [UInt32] = []) {
        self.include = include; self.exclude = exclude; self.uids = uids
    }

    public var isEmpty: Bool { include.isEmpty && exclude.isEmpty && uids.isEmpty }

    /// True when the process passes: uid listed (or none listed), name matching an include
    /// glob (or none given) and no exclude glob. A nil uid (unknown) fails a uid filter.
    public func admits(comm: String, uid: UInt32?) -> Bool {
        if !uids.isEmpty {
            guard let uid, uids.contains(uid) else { return false }
        }
        if !include.isEmpty && !include.contains(where: { Self.glob($0, comm) }) { return false }
        return !exclude.contains(where: { Self.glob($0, comm) })
    }

    public static func glob(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }
}
