/// Writing a file outside the vault so that it appears complete or not at all, and never
/// replaces an existing file: write a hidden temp beside it, fsync, then `link` into place.
/// With `overwrite`, an existing regular file is replaced atomically (`rename`) instead; a
/// directory or symlink at the destination is still refused.
enum AtomicFile {
    static func write(to destination: String, overwrite: Bool = false, _ body: (Int32) throws -> Void) throws {
        guard !destination.isEmpty else { throw SpikeVaultError(.invalidArgument, "destination path is empty") }
        var st = stat()
        if lstat(destination, &st) == 0 && (!overwrite || (st.st_mode & S_IFMT) != S_IFREG) {
            throw SpikeVaultError(.alreadyExists, "\(destination) already exists; remove it or choose another path")
        }
        let slash = destination.lastIndex(of: "/")
        let dir = slash.map { String(destination[..<$0]) } ?? "."
        let base = slash.map { String(destination[destination.index(after: $0)...]) } ?? destination
        let temp = (dir.isEmpty ? "" : dir + "/") + ".\(base).tmp-\(getpid())-\(Posix.monotonicNanoseconds())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        if fd < 0 { throw SpikeVaultError.errno(errno, "creating \(destination)") }
        do {
            defer { Posix.close(fd) }
            try body(fd)
            try Posix.fsync(fd, "syncing \(destination)")
        } catch {
            unlink(temp)
            throw error
        }
        if overwrite {
            if rename(temp, destination) != 0 {
                let e = errno
                unlink(temp)
                throw SpikeVaultError.errno(e, "replacing \(destination)")
            }
            return
        }
        defer { unlink(temp) }
        if link(temp, destination) != 0 { throw SpikeVaultError.errno(errno, "creating \(destination)") }
    }
}
