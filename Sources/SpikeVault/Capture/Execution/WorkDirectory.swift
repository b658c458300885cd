import Synchronization

/// Scratch directories where capture backends write their raw output, under `<vault>/work/`
/// (same filesystem as the vault, mode 0700). Each is named `<owner pid>-<sequence>` so the
/// open-time sweep removes only those of processes that no longer run.
struct WorkDirectory {
    static let folderName = "work"
    private static let sequence = Atomic<UInt64>(0)

    let path: String

    /// Creates a fresh scratch directory for one capture.
    static func create(in vaultPath: String) throws -> WorkDirectory {
        let root = vaultPath + "/" + folderName
        if mkdir(root, 0o700) != 0 && errno != EEXIST { throw SpikeVaultError.errno(errno, "creating \(root)") }
        let name = "\(getpid())-\(sequence.add(1, ordering: .relaxed).newValue)-\(Posix.monotonicNanoseconds() % 1_000_000)"
        let path = root + "/" + name
        if mkdir(path, 0o700) != 0 { throw SpikeVaultError.errno(errno, "creating \(path)") }
        return WorkDirectory(path: path)
    }

    /// Deletes the directory and the plain files in it (backends write no subdirectories).
    func remove() { Self.removeFlat(path) }

    private static func removeFlat(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return }
        let dir = ArtefactDirectory(fd: fd, path: path)
        for name in (try? dir.entryNames()) ?? [] { unlinkat(fd, name, 0) }
        rmdir(path)
    }

    /// Removes scratch directories left by processes that are gone (a crash mid-capture).
    static func sweep(vaultPath: String) -> Int {
        let root = vaultPath + "/" + folderName
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        let names = (try? ArtefactDirectory(fd: fd, path: root).entryNames()) ?? []
        var removed = 0
        for name in names {
            guard let owner = name.split(separator: "-").first.flatMap({ pid_t($0) }) else { continue }
            if owner != getpid() && kill(owner, 0) != 0 && errno == ESRCH {
                removeFlat(root + "/" + name)
                removed += 1
            }
        }
        return removed
    }
}
