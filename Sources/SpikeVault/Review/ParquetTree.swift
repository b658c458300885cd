import Glibc

/// The Parquet tree's own bookkeeping (docs/fleet.md, "Parquet"): its `_spikevault` directory,
/// the lock that serialises exports into one tree, and the removal of a vault's earlier files
/// when an export starts over.
enum ParquetTree {
    /// `root/_spikevault`, created 0700 when missing; a symlink or a file there is refused,
    /// so the marker and the lock are never written outside the tree.
    static func markerDirectory(_ root: String) throws -> String {
        let dir = root + "/_spikevault"
        if mkdir(dir, 0o700) != 0 && errno != EEXIST { throw SpikeVaultError.errno(errno, "creating \(dir)") }
        var st = stat()
        guard lstat(dir, &st) == 0 else { throw SpikeVaultError.errno(errno, "checking \(dir)") }
        guard (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == geteuid() else {
            throw SpikeVaultError(.unsafePath, "\(dir) is not a directory of ours (a symlink or file is refused)")
        }
        return dir
    }

    /// An exclusive flock on `_spikevault/export.lock`, held for a whole export: two exports
    /// into one tree at once (threads or processes) would otherwise both start from the same
    /// watermark and write overlapping id ranges under different names. Close the fd to release.
    static func lock(_ markerDir: String) throws -> Int32 {
        let path = markerDir + "/export.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd < 0 { throw SpikeVaultError.errno(errno, "opening \(path)") }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let e = errno
            Posix.close(fd)
            throw SpikeVaultError.errno(e, "locking \(path)")
        }
        return fd
    }

    /// Removes this vault's files (`captures-<key>-…`, `stacks-<key>-…`) from the tree before
    /// an export that starts over from the first capture: when the marker or the watermark
    /// row was lost or tampered with while the files stayed, rewriting everything beside them
    /// would count every capture twice. Walks `table/host=*/date=*/` without following
    /// symlinks; other vaults' files are left alone.
    static func removeFiles(of key: String, in root: String) throws {
        for table in ["captures", "stacks"] {
            let prefix = table + "-" + key + "-"
            for host in subdirectories(root + "/" + table) {
                for date in subdirectories(host) {
                    for name in entries(date) where name.hasPrefix(prefix) && name.hasSuffix(".parquet") {
                        let path = date + "/" + name
                        if unlink(path) != 0 && errno != ENOENT { throw SpikeVaultError.errno(errno, "removing \(path)") }
                    }
                }
            }
        }
    }

    private static func entries(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { out.append(name) }
        }
        return out
    }

    private static func subdirectories(_ dir: String) -> [String] {
        entries(dir).map { dir + "/" + $0 }.filter { path in
            var st = stat()
            return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
        }
    }
}
