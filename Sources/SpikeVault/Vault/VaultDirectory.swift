/// Opening the vault directory safely: create it 0700 if missing (unless opening an existing
/// vault only), refuse a symlink, a directory owned by another user or one that group or
/// others may write to, and hand back fds for it and for `artefacts/`.
///
/// Permissions (docs/trust.md): the vault and `artefacts/` are made 0700 and the database
/// files 0600 whatever the umask. A directory or database file of ours that others may merely
/// read is tightened in place; one that group or others may *write* is refused with
/// `.unsafePath` (someone else may already have planted or replaced files in it).
enum VaultDirectory {
    static let databaseName = "vault.sqlite3"
    static let artefactsName = "artefacts"
    /// SQLite's companions of the database, checked and tightened with it.
    static let databaseFiles = [databaseName, databaseName + "-wal", databaseName + "-shm"]

    static func open(_ path: String, create: Bool = true) throws -> (directory: Int32, artefacts: Int32) {
        guard !path.isEmpty else { throw SpikeVaultError(.invalidArgument, "vault path is empty") }
        guard !path.utf8.contains(0) else { throw SpikeVaultError(.invalidArgument, "vault path contains a NUL byte") }
        if create {
            if mkdir(path, 0o700) != 0 && errno != EEXIST {
                throw SpikeVaultError.errno(errno, "creating vault directory \(path)")
            }
        }
        let dfd: Int32
        do { dfd = try openOwnedDirectory(AT_FDCWD, path, what: "vault directory \(path)") } catch let e as SpikeVaultError
            where !create && e.status == .notFound {
            throw SpikeVaultError(.notFound, "no vault at \(path) (nothing was created)")
        }
        do {
            if !create {
                var st = stat()
                guard fstatat(dfd, databaseName, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                    throw SpikeVaultError(.notFound, "no vault at \(path): \(databaseName) does not exist (nothing was created)")
                }
            }
            try prepareDatabaseFiles(dfd, path)
            if mkdirat(dfd, artefactsName, 0o700) != 0 && errno != EEXIST {
                throw SpikeVaultError.errno(errno, "creating \(path)/\(artefactsName)")
            }
            let afd = try openOwnedDirectory(dfd, artefactsName, what: "\(path)/\(artefactsName)")
            return (dfd, afd)
        } catch {
            Posix.close(dfd)
            throw error
        }
    }

    /// The database file is made by us, 0600, before SQLite opens it (SQLite gives the WAL and
    /// shm files the database's mode); existing ones must be ours and are tightened to 0600.
    private static func prepareDatabaseFiles(_ dfd: Int32, _ path: String) throws {
        let made = openat(dfd, databaseName, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if made >= 0 {
            fchmod(made, 0o600)
            Posix.close(made)
        } else if errno != EEXIST {
            throw SpikeVaultError.errno(errno, "creating \(path)/\(databaseName)")
        }
        for name in databaseFiles {
            var st = stat()
            guard fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let what = "\(path)/\(name)"
            guard (st.st_mode & S_IFMT) == S_IFREG else {
                throw SpikeVaultError(.unsafePath, "\(what) is \(Posix.fileTypeName(st.st_mode)), not the vault's database file")
            }
            guard st.st_uid == geteuid() else { throw Posix.foreignOwner(st.st_uid, what) }
            if st.st_mode & 0o077 != 0 && fchmodat(dfd, name, 0o600, 0) != 0 {
                throw SpikeVaultError.errno(errno, "making \(what) private (mode 0600)")
            }
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
            case ENOENT: throw SpikeVaultError(.notFound, "\(what) does not exist")
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
            throw Posix.foreignOwner(st.st_uid, what)
        }
        if st.st_mode & 0o022 != 0 {
            Posix.close(fd)
            throw SpikeVaultError(.unsafePath, "\(what) is writable by group or others (mode \(String(st.st_mode & 0o7777, radix: 8))); "
                                  + "another user could replace its files: check them, then chmod 700 it")
        }
        if st.st_mode & 0o077 != 0 && fchmod(fd, 0o700) != 0 {
            let e = errno
            Posix.close(fd)
            throw SpikeVaultError.errno(e, "making \(what) private (mode 0700)")
        }
        if faccessat(at, name, W_OK, 0) != 0 {
            let e = errno
            Posix.close(fd)
            throw SpikeVaultError.errno(e, "\(what) is not writable")
        }
        return fd
    }
}
