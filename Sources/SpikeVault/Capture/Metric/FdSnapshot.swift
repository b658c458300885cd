#if canImport(Glibc)
import Glibc
#endif

/// One open descriptor of a process, from `/proc/PID/fd/N` (readlink) and `/proc/PID/fdinfo/N`.
struct OpenFd: Sendable, Equatable {
    var fd: Int32
    /// The link target as text (hostile: a file name may hold anything).
    var target: String
    var kind: String
    /// `pos:` from fdinfo (nil when unreadable).
    var pos: UInt64?
    /// The socket inode for `socket:[N]`.
    var socketInode: UInt64?

    /// file, socket, pipe, anon_inode, device, memfd, deleted, other.
    static func kind(of target: String) -> String {
        if target.hasPrefix("socket:[") { return "socket" }
        if target.hasPrefix("pipe:[") { return "pipe" }
        if target.hasPrefix("anon_inode:") { return "anon_inode" }
        if target.hasPrefix("/memfd:") { return "memfd" }
        if target.hasPrefix("/dev/") { return "device" }
        if target.hasPrefix("/") { return target.hasSuffix(" (deleted)") ? "deleted" : "file" }
        return "other"
    }

    /// The grouping pattern: the path with digit/hex runs collapsed; for sockets and pipes
    /// the kind (their inode numbers say nothing), for anon inodes their type.
    var pattern: String {
        switch kind {
        case "socket": return "socket"
        case "pipe": return "pipe"
        case "anon_inode": return target
        default: return NamePattern.collapse(target)
        }
    }
}

/// The descriptors of a process at one moment.
struct FdSnapshot: Sendable {
    var fds: [OpenFd] = []
    var error: String?

    /// Reads every fd; descriptors closed while listing are skipped. `withPositions` also
    /// reads fdinfo (one more open per fd).
    static func read(pid: Int32, withPositions: Bool) -> FdSnapshot {
        var snap = FdSnapshot()
        let (names, err) = CaptureSys.listDirectory("/proc/\(pid)/fd")
        guard let names else {
            snap.error = "cannot list /proc/\(pid)/fd: \(String(cString: strerror(err)))"
            return snap
        }
        for name in names {
            guard let fd = Int32(name), let link = CaptureSys.readLink("/proc/\(pid)/fd/\(name)") else { continue }
            let target = String(decoding: link, as: UTF8.self)
            var entry = OpenFd(fd: fd, target: target, kind: OpenFd.kind(of: target))
            if entry.kind == "socket" { entry.socketInode = UInt64(target.dropFirst(8).dropLast()) }
            if withPositions, let info = CaptureSys.readText("/proc/\(pid)/fdinfo/\(name)") {
                for line in info.split(separator: "\n") where line.hasPrefix("pos:") {
                    entry.pos = UInt64(line.dropFirst(4).trimmingASCIIWhitespaceSub())
                }
            }
            snap.fds.append(entry)
        }
        snap.fds.sort { $0.fd < $1.fd }
        return snap
    }

    /// Number of fds now (cheap: one directory listing, no readlink).
    static func count(pid: Int32) -> Int? {
        CaptureSys.listDirectory("/proc/\(pid)/fd").0?.count
    }
}

/// A group of fds with the same kind and pattern, counted at start and end.
struct FdGroup: Sendable, Equatable {
    var kind: String
    var pattern: String
    var start: Int
    var end: Int
    var example: String
    var growth: Int { end - start }
}

enum FdAnalysis {
    /// Groups sorted by growth (largest first), then by end count, then by pattern.
    static func groups(start: FdSnapshot, end: FdSnapshot) -> [FdGroup] {
        var byKey: [String: FdGroup] = [:]
        for (snap, isEnd) in [(start, false), (end, true)] {
            for f in snap.fds {
                let key = f.kind + "\u{0}" + f.pattern
                var g = byKey[key] ?? FdGroup(kind: f.kind, pattern: f.pattern, start: 0, end: 0, example: f.target)
                if isEnd { g.end += 1; g.example = f.target } else { g.start += 1 }
                byKey[key] = g
            }
        }
        return byKey.values.sorted {
            if $0.growth != $1.growth { return $0.growth > $1.growth }
            if $0.end != $1.end { return $0.end > $1.end }
            return $0.pattern < $1.pattern
        }
    }
}
