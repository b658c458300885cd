/// Opening the vault directory safely: create it 0700 if missing, refuse a symlink or a
/// directory owned by another user, and hand back fds for it and for `artefacts/`.
enum VaultDirectory {
    static let databaseName = "vault.sqlite3"
    static let artefactsName = "artefacts"

    static func open(_ path: String) throws -> (directory: Int32, artefacts: Int32) {
        guard !path.isEmpty else { throw SpikeVaultError(.invalidArgument, "vault path is empty") }
        guard !path.utf8.contains(0) else { throw SpikeVaultError(.invalidArgument, "vault path contains a NUL byte") }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw SpikeVaultError.errno(errno, "creating vault directory \(path)")
        }
        let dfd = try openOwnedDirectory(AT_FDCWD, path, what: "vault directory \(path)")
        if mkdirat(dfd, artefactsName, 0o700) != 0 && errno != EEXIST {
            let e = errno
            Posix.close(dfd)
            throw SpikeVaultError.errno(e, "creating \(path)/\(artefactsName)")
        }
        do {
            let afd = try openOwnedDirectory(dfd, artefactsName, what: "\(path)/\(artefactsName)")
            return (dfd, afd)
        } catch {
            Posix.close(dfd)
            throw error
        }
    }

    /// Opens a directory refusing symlinks (O_NOFOLLOW) and foreign owners.
    private static func openOwnedDirectory(_ at: Int32, _ name: String, what: String) throws -> Int32 {
        let fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            switch errno {
            case ELOOP: throw SpikeVaultError(.unsafePath, "\(what) is a symlink; open its target instead")
            case ENOTDIR:
                var st = stat()
                if fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == S_IFLNK {
                    throw SpikeVaultError(.unsafePath, "\(what) is a symlink; open its target instead")
                }
                throw SpikeVaultError(.invalidArgument, "\(what) is not a directory")
            default: throw SpikeVaultError.errno(errno, "opening \(what)")
            }
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            Posix.close(fd)
            throw SpikeVaultError.errno(e, "stat \(what)")
        }
        if st.st_uid != geteuid() {
            Posix.close(fd)
            throw SpikeVaultError(.unsafePath, "\(what) is owned by uid \(st.st_uid), not by this user (uid \(geteuid()))")
        }
        if faccessat(at, name, W_OK, 0) != 0 {
            let e = errno
            Posix.close(fd)
            throw SpikeVaultError.errno(e, "\(what) is not writable")
        }
        return fd
    }
}
