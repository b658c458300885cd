#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Whether the kernel lets this process use perf events, decided from the effective uid,
/// the effective capabilities (CAP_PERFMON, CAP_SYS_ADMIN) and
/// `/proc/sys/kernel/perf_event_paranoid`. `auto` consults it before choosing perf; a vault
/// computes it once (`CaptureContext`).
public struct PerfAccess: Sendable, Equatable {
    /// perf may sample the caller's own (same-uid) processes.
    public var allowed: Bool
    /// The sched tracepoints (off-CPU stacks) may be recorded.
    public var tracepoints: Bool
    /// Why perf is refused, or why off-CPU stacks are unavailable; nil when both are allowed.
    public var reason: String?

    static let capSysAdmin = 21
    static let capPerfmon = 38

    /// Pure decision. `paranoid` nil: the file is missing (no perf events in this kernel).
    /// Paranoid levels (kernel docs): 2 allows user-space sampling of own processes, -1 also
    /// raw tracepoints; Debian's 3 forbids every unprivileged use.
    public static func decide(euid: uid_t, capEff: UInt64?, paranoid: Int?, schedTracepointExists: Bool) -> PerfAccess {
        guard let paranoid else {
            return PerfAccess(allowed: false, tracepoints: false,
                              reason: "perf events unavailable: /proc/sys/kernel/perf_event_paranoid does not exist")
        }
        let caps = capEff ?? 0
        let privileged = euid == 0 || caps & (1 << UInt64(capPerfmon)) != 0 || caps & (1 << UInt64(capSysAdmin)) != 0
        let noTP = schedTracepointExists ? nil : "sched:sched_switch is not in tracefs (no off-CPU stacks)"
        if privileged {
            return PerfAccess(allowed: true, tracepoints: schedTracepointExists, reason: noTP)
        }
        if paranoid >= 3 {
            return PerfAccess(allowed: false, tracepoints: false,
                              reason: "perf refused: /proc/sys/kernel/perf_event_paranoid is \(paranoid) (3 forbids unprivileged use) and the caller (uid \(euid)) has neither CAP_PERFMON nor CAP_SYS_ADMIN")
        }
        if paranoid >= 0 {
            return PerfAccess(allowed: true, tracepoints: false,
                              reason: "no off-CPU stacks: sched tracepoints need perf_event_paranoid -1 or CAP_PERFMON (paranoid is \(paranoid), uid \(euid))")
        }
        return PerfAccess(allowed: true, tracepoints: schedTracepointExists, reason: noTP)
    }

    /// Reads the facts of this process and the kernel, then `decide`s.
    public static func probe() -> PerfAccess {
        let paranoid = CaptureSys.readText("/proc/sys/kernel/perf_event_paranoid").flatMap { Int($0.trimmingASCIIWhitespace()) }
        var capEff: UInt64?
        for line in (CaptureSys.readText("/proc/self/status") ?? "").split(separator: "\n") where line.hasPrefix("CapEff:") {
            capEff = UInt64(line.dropFirst(7).trimmingASCIIWhitespaceSub(), radix: 16)
        }
        let tp = ["/sys/kernel/tracing/events/sched/sched_switch", "/sys/kernel/debug/tracing/events/sched/sched_switch"]
            .contains { CaptureSys.isDirectory($0) }
        return decide(euid: geteuid(), capEff: capEff, paranoid: paranoid, schedTracepointExists: tp)
    }
}

/// State shared by the captures of one vault: the perf access decision, probed on first use
/// and kept for the vault's life (privileges of a running host rarely change; reopen the
/// vault after changing them).
public final class CaptureContext: Sendable {
    private let perf = Mutex<PerfAccess?>(nil)
    private let prober: @Sendable () -> PerfAccess

    public init(prober: @escaping @Sendable () -> PerfAccess = PerfAccess.probe) { self.prober = prober }

    /// The cached decision (probing once).
    public func perfAccess() -> PerfAccess {
        perf.withLock { cached in
            if let c = cached { return c }
            let p = prober()
            cached = p
            return p
        }
    }
}
