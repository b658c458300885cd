#if canImport(Glibc)
import Glibc
#endif

/// Who a pid was at trigger time: enough to refuse attributing data to a different process
/// that later reuses the pid (`sameProcess(as:)` compares pid and start time).
public struct ProcessIdentity: Sendable, Equatable {
    public var pid: Int32
    public var comm: String
    public var state: Character
    public var ppid: Int32
    /// Field 22 of `/proc/PID/stat`: clock ticks since boot.
    public var startTimeTicks: UInt64
    /// Real uid (first value of `Uid:` in `/proc/PID/status`).
    public var uid: UInt32?
    /// All four uids of `Uid:` (real, effective, saved, filesystem).
    public var uids: [UInt32]
    /// `readlink /proc/PID/exe`, raw bytes; nil when unreadable (kernel thread, permission).
    public var exeBytes: [UInt8]?
    /// `/proc/PID/cmdline` split at NUL, bytes kept exactly.
    public var cmdlineBytes: [[UInt8]]

    public init(pid: Int32, comm: String, state: Character, ppid: Int32, startTimeTicks: UInt64,
                uid: UInt32?, uids: [UInt32], exeBytes: [UInt8]?, cmdlineBytes: [[UInt8]]) {
        self.pid = pid; self.comm = comm; self.state = state; self.ppid = ppid
        self.startTimeTicks = startTimeTicks; self.uid = uid; self.uids = uids
        self.exeBytes = exeBytes; self.cmdlineBytes = cmdlineBytes
    }

    /// The exe path, losslessly escaped (see `LosslessText`).
    public var exe: String? { exeBytes.map(LosslessText.escape) }

    /// The arguments, losslessly escaped (see `LosslessText`).
    public var cmdline: [String] { cmdlineBytes.map(LosslessText.escape) }

    /// Same pid and same start time: the same process (pids are reused, start times are not
    /// for one pid within a boot's tick resolution).
    public func sameProcess(as other: ProcessIdentity) -> Bool {
        pid == other.pid && startTimeTicks == other.startTimeTicks
    }

    /// Splits the bytes of `/proc/PID/cmdline` at NUL; a trailing NUL ends the last argument.
    public static func splitCmdline(_ bytes: [UInt8]) -> [[UInt8]] {
        if bytes.isEmpty { return [] }
        var parts = bytes.split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
        if bytes.last == 0 { parts.removeLast() }
        return parts
    }

    /// Reads the identity of a live pid.
    /// - Throws: `.noSuchProcess` if the pid does not exist or is a zombie;
    ///   `.permission` if the caller may not inspect it (see `accessRefusal`).
    public static func read(pid: Int32) throws -> ProcessIdentity {
        guard pid > 0 else { throw SpikeVaultError(.invalidArgument, "pid must be positive, got \(pid)") }
        let base = "/proc/\(pid)"
        let procStat: ProcStat
        switch CaptureSys.read(base + "/stat") {
        case .failed(let e) where e == ENOENT || e == ESRCH:
            throw SpikeVaultError(.noSuchProcess, "no process with pid \(pid)")
        case .failed(let e) where e == EACCES || e == EPERM:
            throw SpikeVaultError(.permission, "cannot read \(base)/stat: permission denied (the target is not inspectable by this user)")
        case .failed(let e):
            throw SpikeVaultError.errno(e, "cannot read \(base)/stat")
        case .ok(let bytes):
            guard let s = ProcStat.parse(bytes: bytes) else {
                throw SpikeVaultError(.internalError, "cannot parse \(base)/stat")
            }
            procStat = s
        }
        if procStat.hasExited {
            throw SpikeVaultError(.noSuchProcess, "process \(pid) (\(procStat.comm)) has exited (state \(procStat.state))")
        }
        let status = CaptureSys.readText(base + "/status").map(ProcKeyValue.parse) ?? [:]
        let uids = ProcKeyValue.integers(status["Uid"]).map { UInt32(truncatingIfNeeded: $0) }
        let owner = CaptureSys.ownerUID(base)
        if let why = accessRefusal(callerEUID: geteuid(), targetUIDs: uids, procOwner: owner) {
            throw SpikeVaultError(.permission, "process \(pid) (\(procStat.comm)): \(why)")
        }
        let cmd = CaptureSys.read(base + "/cmdline").bytes ?? []
        return ProcessIdentity(pid: pid, comm: procStat.comm, state: procStat.state, ppid: procStat.ppid,
                               startTimeTicks: procStat.startTimeTicks, uid: uids.first, uids: uids,
                               exeBytes: CaptureSys.readLink(base + "/exe"),
                               cmdlineBytes: splitCmdline(cmd))
    }

    /// Pure dumpability decision. Root may inspect anything. Otherwise every uid of the target
    /// (real, effective, saved, fs) must be the caller's, and `/proc/PID` must be owned by the
    /// caller: the kernel makes it root-owned when the target is not dumpable (set-uid,
    /// set-gid or `prctl(PR_SET_DUMPABLE, 0)`). Returns the refusal reason, or nil if allowed.
    public static func accessRefusal(callerEUID: UInt32, targetUIDs: [UInt32], procOwner: UInt32?) -> String? {
        if callerEUID == 0 { return nil }
        if let other = targetUIDs.first(where: { $0 != callerEUID }) {
            return "runs as uid \(other), the caller is uid \(callerEUID) and not root; it cannot be profiled"
        }
        if let owner = procOwner, owner != callerEUID {
            return "is not dumpable by uid \(callerEUID) (set-uid/set-gid or PR_SET_DUMPABLE=0; /proc entry owned by uid \(owner))"
        }
        return nil
    }
}

/// Result of re-checking a pid against the identity recorded at trigger time.
public enum IdentityCheck: Sendable, Equatable {
    case same
    case exited(String)
    case reused(String)

    /// Pure: compares the current stat (nil = pid gone) against the original identity.
    public static func evaluate(original: ProcessIdentity, current: ProcStat?) -> IdentityCheck {
        guard let current else { return .exited("process \(original.pid) exited") }
        if current.pid != original.pid || current.startTimeTicks != original.startTimeTicks {
            return .reused("pid \(original.pid) was reused by another process (start time \(original.startTimeTicks) -> \(current.startTimeTicks), comm \(current.comm))")
        }
        if current.hasExited { return .exited("process \(original.pid) exited (state \(current.state))") }
        return .same
    }

    /// Reads `/proc/PID/stat` now and evaluates it.
    public static func check(_ original: ProcessIdentity) -> IdentityCheck {
        let stat = CaptureSys.read("/proc/\(original.pid)/stat").bytes.flatMap(ProcStat.parse(bytes:))
        return evaluate(original: original, current: stat)
    }

    public var reason: String? {
        switch self {
        case .same: return nil
        case .exited(let r), .reused(let r): return r
        }
    }
}
