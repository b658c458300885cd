import Synchronization

/// The vault's `artefacts/` directory, reached only through its file descriptor.
///
/// Every name handed in is checked to be a plain basename, and every open, stat and unlink
/// is relative to the directory fd with symlinks refused, so a tampered database row can
/// never make the library read or delete outside this directory.
final class ArtefactDirectory: @unchecked Sendable {
    let fd: Int32
    let path: String
    static let tempPrefix = ".tmp-"
    static let tempPrefixBytes: StaticString = ".tmp-"

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { Posix.close(fd) }

    private static let sequence = Atomic<UInt64>(0)

    /// Creates a new temp file (`O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600). Its name carries the
    /// writer's pid so that the open-time sweep spares files of live writers.
    func createTemp() throws -> (fd: Int32, name: String) {
        for _ in 0..<16 {
            let name = "\(Self.tempPrefix)\(getpid())-\(Self.sequence.add(1, ordering: .relaxed).newValue)-\(Posix.monotonicNanoseconds() % 1_000_000_007)"
            let tfd = openat(fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if tfd >= 0 {
                fchmod(tfd, 0o600)  // whatever the umask: artefacts are private
                return (tfd, name)
            }
            if errno != EEXIST { throw SpikeVaultError.errno(errno, "creating temp file in \(path)") }
        }
        throw SpikeVaultError(.io, "could not create a unique temp file in \(path)")
    }

    /// Gives `tempName` its final name without ever replacing an existing file: the first free
    /// one of `stem.suffix`, `stem-2.suffix`, … Returns the name used.
    func publish(_ tempName: String, stem: String, suffix: String) throws -> String {
        var attempt = 1
        while true {
            let name = attempt == 1 ? "\(stem).\(suffix)" : "\(stem)-\(attempt).\(suffix)"
            if linkat(fd, tempName, fd, name, 0) == 0 {
                unlinkat(fd, tempName, 0)
                return name
            }
            if errno != EEXIST || attempt > 1000 { throw SpikeVaultError.errno(errno, "publishing artefact \(name)") }
            attempt += 1
        }
    }

    func sync() throws { try Posix.fsync(fd, "syncing directory \(path)") }

    /// Removes a temp file this process created; errors are ignored (it is already failing).
    func discard(_ name: String) { unlinkat(fd, name, 0) }

    /// Opens a stored artefact for reading after validating its name and type. The open is
    /// non-blocking and refuses links, so a FIFO or device planted under an artefact's name
    /// is refused at once instead of blocking the caller, and nothing is read before the
    /// descriptor is known to be a regular file owned by this user.
    func openForReading(_ name: String) throws -> Int32 {
        guard Posix.isPlainBasename(name) else {
            throw SpikeVaultError(.unsafePath, "artefact path '\(name)' is not a plain file name inside artefacts/")
        }
        return try Posix.openRegularFile(at: fd, name, what: "artefact \(name)", ownedBy: geteuid())
    }

    enum RemoveResult: Equatable { case removed(bytes: Int64), absent, refused(String) }

    /// Deletes one artefact by basename: only a regular file directly inside this directory.
    func remove(_ name: String) -> RemoveResult {
        guard Posix.isPlainBasename(name) else { return .refused("not a plain file name: \(name)") }
        var st = stat()
        if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
            return errno == ENOENT ? .absent : .refused("cannot stat \(name): \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return .refused("\(name) is not a regular file") }
        if unlinkat(fd, name, 0) != 0 {
            return errno == ENOENT ? .absent : .refused("cannot delete \(name): \(String(cString: strerror(errno)))")
        }
        return .removed(bytes: Int64(st.st_blocks) * 512)
    }

    /// Names of the entries in the directory (not `.`/`..`); with `prefix`, only those that
    /// start with it, compared on the raw bytes (a vault of 100,000 artefacts then makes 100,000
    /// byte compares at open, not 100,000 Strings).
    func entryNames(prefix: StaticString? = nil) throws -> [String] {
        let dupfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dupfd >= 0, let dir = fdopendir(dupfd) else {
            if dupfd >= 0 { Posix.close(dupfd) }
            throw SpikeVaultError.errno(errno, "listing \(path)")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            if let prefix, !Self.startsWith(Posix.direntName(entry), prefix) { continue }
            let name = Posix.direntString(entry)
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Whether the NUL-terminated `name` starts with `prefix` (stops at the first difference,
    /// so never reads past the name's NUL).
    private static func startsWith(_ name: UnsafePointer<UInt8>, _ prefix: StaticString) -> Bool {
        for k in 0..<prefix.utf8CodeUnitCount where name[k] != prefix.utf8Start[k] { return false }
        return true
    }

    /// Deletes temp files left by writers that no longer run (a crash mid-save), or that are
    /// older than an hour whatever their pid says. Returns how many were removed.
    func sweepTemps() throws -> Int {
        var removed = 0
        let now = time(nil)
        for name in try entryNames(prefix: Self.tempPrefixBytes) where name.hasPrefix(Self.tempPrefix) {
            let parts = name.dropFirst(Self.tempPrefix.count).split(separator: "-")
            let writer = parts.first.flatMap { pid_t($0) } ?? 0
            var st = stat()
            guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let writerGone = writer <= 0 || (kill(writer, 0) != 0 && errno == ESRCH)
            let stale = now - st.st_mtim.tv_sec > 3600
            guard writerGone || stale else { continue }
            if case .removed = remove(name) { removed += 1 }
        }
        return removed
    }
}

