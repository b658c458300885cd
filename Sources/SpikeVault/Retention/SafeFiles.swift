/// How a file name taken from the database may be acted on.
enum FileVerdict: Equatable {
    /// A regular file directly inside artefacts/, with its allocated bytes.
    case regular(bytes: Int64)
    /// Nothing by that name (the file vanished, or was never written).
    case absent
    /// Not a plain basename, or a symlink, directory, device…: never deleted through.
    case unsafe(String)
}

extension ArtefactDirectory {
    /// Classifies a name from the database without following symlinks.
    func verdict(_ name: String) -> FileVerdict {
        guard Posix.isPlainBasename(name) else { return .unsafe("'\(name)' is not a plain file name inside artefacts/") }
        guard !name.hasPrefix(Self.tempPrefix) else { return .unsafe("'\(name)' is a temp file name") }
        var st = stat()
        if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
            return errno == ENOENT ? .absent : .unsafe("cannot stat \(name): \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            return .unsafe((st.st_mode & S_IFMT) == S_IFLNK ? "\(name) is a symlink" : "\(name) is not a regular file")
        }
        return .regular(bytes: Int64(st.st_blocks) * 512)
    }
}
