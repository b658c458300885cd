#if canImport(Glibc)
import Glibc
#endif

/// What `network` means for the monitor: the number of sockets a process holds open (its
/// fds whose `/proc/PID/fd/N` link reads `socket:[inode]`). Per-process traffic is not in
/// `/proc` (only per network namespace, shared by every process in it), while a socket count
/// is per process and catches the usual spikes: connection leaks, accept storms, fan-out.
/// Costs one readlink per fd, so it is read only when a rule uses `network`.
enum NetworkMetric {
    /// Sockets of the process whose `/proc` entry is `pidDir` relative to `procFD`;
    /// nil with the errno when the fd directory cannot be listed.
    static func socketCount(procFD: Int32, pidName: UnsafePointer<CChar>) -> (Int?, Int32) {
        var path = [CChar](repeating: 0, count: 32)
        var n = 0
        while pidName[n] != 0 && n < 16 { path[n] = pidName[n]; n += 1 }
        for c in "/fd".utf8 { path[n] = CChar(bitPattern: c); n += 1 }
        let dfd = openat(procFD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd < 0 { return (nil, errno) }
        guard let dir = fdopendir(dfd) else { let e = errno; close(dfd); return (nil, e) }
        defer { closedir(dir) }
        var count = 0
        var link = [CChar](repeating: 0, count: 64)
        let prefix = Array("socket:[".utf8)
        while let entry = readdir(dir) {
            let isSocket: Bool = UnsafeRawPointer(Posix.direntName(entry)).withMemoryRebound(to: CChar.self, capacity: 1) { name in
                if name[0] == CChar(bitPattern: UInt8(ascii: ".")) { return false }
                let len = readlinkat(dirfd(dir), name, &link, link.count)
                guard len >= prefix.count else { return false }
                for i in 0..<prefix.count where UInt8(bitPattern: link[i]) != prefix[i] { return false }
                return true
            }
            if isSocket { count += 1 }
        }
        return (count, 0)
    }
}
