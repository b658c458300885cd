#if canImport(Glibc)
import Glibc
#endif

/// How a spawned tool ended.
public struct ToolResult: Sendable, Equatable {
    /// Exit code when the tool exited normally.
    public var exitStatus: Int32?
    /// Terminating signal when it was killed.
    public var signal: Int32?
    public var timedOut: Bool
    public var cancelled: Bool
    public var elapsedSeconds: Double
    /// waitpid gave ECHILD: the host reaped the child (a `SIGCHLD` set to `SIG_IGN` makes the
    /// kernel auto-reap, or the host waits for -1). The exit status is then unknown; callers
    /// decide from the tool's output whether it worked.
    public var reapedByHost: Bool = false

    public var succeeded: Bool { exitStatus == 0 && !timedOut && !cancelled }

    public var summary: String {
        if timedOut { return "timed out after \(Int(elapsedSeconds.rounded())) s and was killed" }
        if cancelled { return "was cancelled" }
        if let s = exitStatus { return "exited with status \(s)" }
        if let s = signal { return "was killed by signal \(s)" }
        if reapedByHost { return "was reaped by the host (SIGCHLD ignored or a wait for any child), exit status unknown" }
        return "ended in an unknown way"
    }
}

/// A child process started by `ToolRunner.spawn`, leader of its own process group.
/// Call `wait` (or `kill` then `wait`) exactly once; the owner must always reap it.
public final class SpawnedProcess: @unchecked Sendable {
    public let pid: pid_t
    public let argv: [String]
    private var reaped: ToolResult?
    private let started = CaptureSys.monotonicSeconds()

    init(pid: pid_t, argv: [String]) { self.pid = pid; self.argv = argv }

    /// Sends SIGKILL to the child's whole process group (no-op once reaped).
    public func kill() {
        guard reaped == nil else { return }
        _ = Glibc.kill(-pid, SIGKILL)
        _ = Glibc.kill(pid, SIGKILL)
    }

    /// Non-blocking: true if the child has exited and was reaped by this call or earlier.
    public func poll() -> ToolResult? {
        if let r = reaped { return r }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { return finish(status, timedOut: false, cancelled: false) }
        return nil
    }

    /// Waits for the child (only this pid, never -1). After `timeoutSeconds` or when `cancel`
    /// is set, SIGKILLs the process group and reaps the child. Stragglers left in the group
    /// after the leader exits are killed too.
    @discardableResult
    public func wait(timeoutSeconds: Double = .infinity, cancel: CancelFlag? = nil) -> ToolResult {
        if let r = reaped { return r }
        let deadline = started + timeoutSeconds
        var pause = 0.001
        while true {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return finish(status, timedOut: false, cancelled: false) }
            if r < 0 && errno != EINTR {
                // ECHILD: not our child any more, the host reaped it. Wait until its process
                // group is empty (its descendants are gone too), then report an unknown exit.
                let echild = errno == ECHILD
                // The pid itself may already be reused: only the group (ours) is signalled.
                while echild && Glibc.kill(-pid, 0) == 0 && CaptureSys.monotonicSeconds() < deadline
                        && cancel?.isCancelled != true {
                    CaptureSys.sleep(seconds: 0.01)
                }
                _ = Glibc.kill(-pid, SIGKILL)
                let res = ToolResult(exitStatus: nil, signal: nil, timedOut: false, cancelled: cancel?.isCancelled == true,
                                     elapsedSeconds: CaptureSys.monotonicSeconds() - started, reapedByHost: echild)
                reaped = res
                return res
            }
            let timedOut = CaptureSys.monotonicSeconds() >= deadline
            let cancelled = cancel?.isCancelled == true
            if timedOut || cancelled {
                kill()
                var st: Int32 = 0
                while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
                return finish(st, timedOut: timedOut && !cancelled, cancelled: cancelled)
            }
            CaptureSys.sleep(seconds: pause)
            pause = min(pause * 2, 0.01)
        }
    }

    private func finish(_ status: Int32, timedOut: Bool, cancelled: Bool) -> ToolResult {
        // Leader is gone; a group with its id can only hold our descendants: clean them up.
        _ = Glibc.kill(-pid, SIGKILL)
        let exited = (status & 0x7f) == 0
        let res = ToolResult(exitStatus: exited ? (status >> 8) & 0xff : nil,
                             signal: exited ? nil : status & 0x7f,
                             timedOut: timedOut, cancelled: cancelled,
                             elapsedSeconds: CaptureSys.monotonicSeconds() - started)
        reaped = res
        return res
    }

    deinit {
        // Last resort: never leave a child behind.
        if reaped == nil { kill(); var st: Int32 = 0; _ = waitpid(pid, &st, 0) }
    }
}

/// Spawns external tools safely: `posix_spawn` with an argv array (never a shell), the child
/// in its own process group, stdin from /dev/null, stdout/stderr to files (or /dev/null),
/// default signal dispositions and an empty signal mask in the child. The caller's signal
/// handlers are never changed and only the spawned pid is ever waited for.
///
/// A tool that is not found (no such file in PATH, or not executable) throws `.notFound`
/// naming the tool; `.unsupported` is reserved for backends that do not exist on this OS.
public enum ToolRunner {
    /// Resolves a tool name through PATH (names containing `/` are checked as given).
    public static func resolve(_ tool: String) -> String? {
        if tool.isEmpty { return nil }
        if tool.contains("/") { return access(tool, X_OK) == 0 ? tool : nil }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = dir + "/" + tool
            var st = stat()
            if stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    /// Starts `argv` (argv[0] resolved through PATH). The caller must `wait` on the result.
    ///
    /// `environment` entries replace (or add to) the caller's environment in the child only;
    /// the caller's `environ` is never modified.
    public static func spawn(_ argv: [String], stdoutPath: String? = nil, stderrPath: String? = nil,
                             environment: [String: String] = [:]) throws -> SpawnedProcess {
        guard let tool = argv.first, !tool.isEmpty else {
            throw SpikeVaultError(.invalidArgument, "empty argv")
        }
        if argv.contains(where: { $0.utf8.contains(0) }) {
            throw SpikeVaultError(.invalidArgument, "an argument of '\(tool)' contains a NUL byte")
        }
        guard let path = resolve(tool) else {
            throw SpikeVaultError(.notFound, "tool '\(tool)' not found in PATH")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if let stderrPath, stderrPath == stdoutPath {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }
        // The host's descriptors (sockets, pipes, database files not opened O_CLOEXEC) are not
        // the tool's business: the child gets 0-2 only (glibc >= 2.34; looked up at run time,
        // as Swift's Glibc module does not declare this GNU extension).
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attr, 0)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM] {
            sigaddset(&defaults, s)
        }
        posix_spawnattr_setsigdefault(&attr, &defaults)

        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cargs.append(nil)
        defer { for p in cargs { free(p) } }
        var envp: [UnsafeMutablePointer<CChar>?] = childEnvironment(overrides: environment).map { strdup($0) }
        envp.append(nil)
        defer { for p in envp { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, cargs, envp)
        if rc != 0 {
            if rc == ENOENT || rc == EACCES || rc == ENOEXEC {
                throw SpikeVaultError(.notFound, "tool '\(tool)' (\(path)) cannot be executed: \(String(cString: strerror(rc)))")
            }
            throw SpikeVaultError.errno(rc, "cannot spawn '\(tool)'")
        }
        return SpawnedProcess(pid: pid, argv: argv)
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = {
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(sym, to: AddCloseFrom.self)
    }()

    /// The caller's environment (`NAME=value` strings) with `overrides` applied.
    static func childEnvironment(overrides: [String: String]) -> [String] {
        var out: [String] = []
        var p = environ
        while let entry = p.pointee {
            let text = String(cString: entry)
            let name = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? text
            if overrides[name] == nil { out.append(text) }
            p += 1
        }
        for (k, v) in overrides.sorted(by: { $0.key < $1.key }) where !k.isEmpty && !k.contains("=") {
            out.append("\(k)=\(v)")
        }
        return out
    }

    /// Spawns `argv`, waits up to `timeoutSeconds` (then SIGKILLs the group), honouring `cancel`.
    public static func run(_ argv: [String], stdoutPath: String? = nil, stderrPath: String? = nil,
                           environment: [String: String] = [:],
                           timeoutSeconds: Double, cancel: CancelFlag? = nil) throws -> ToolResult {
        let child = try spawn(argv, stdoutPath: stdoutPath, stderrPath: stderrPath, environment: environment)
        return child.wait(timeoutSeconds: timeoutSeconds, cancel: cancel)
    }
}
