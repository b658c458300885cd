/// The lock that keeps the orphan sweep away from saves in flight, in every process.
///
/// A save publishes its artefact files before the transaction that references them commits;
/// until then they look like orphans. Each save holds a shared `flock` on `save.lock` (in the
/// vault directory) from before it publishes until after it commits or cleans up, and the
/// orphan sweep holds it exclusively while it lists, compares and deletes. So no file of a
/// save that later commits can be taken for an orphan, whatever the orphan grace. Every holder
/// opens the file anew: `flock` locks belong to an open file description, so two threads of
/// one process exclude each other as two processes do.
enum SaveLock {
    static let fileName = "save.lock"

    /// Opens and locks; close the returned fd to release.
    static func acquire(directory dirfd: Int32, exclusive: Bool) throws -> Int32 {
        let fd = openat(dirfd, fileName, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd < 0 { throw SpikeVaultError.errno(errno, "opening the vault's \(fileName)") }
        while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            if errno == EINTR { continue }
            let e = errno
            Posix.close(fd)
            throw SpikeVaultError.errno(e, "locking the vault's \(fileName)")
        }
        return fd
    }
}
