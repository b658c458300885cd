import Synchronization
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Darwin)
@_exported import Darwin
#endif

/// Small wrappers over POSIX calls that retry on EINTR and turn failures into SpikeVaultError.
enum Posix {
    /// The NUL-terminated name of a readdir(3) entry, read in place. Never copy `d_name` out
    /// of the dirent (`withUnsafeBytes(of: e.pointee.d_name)`, `e.pointee.d_name.0`): glibc
    /// packs entries by `d_reclen`, so an entry at the end of its buffer can be shorter than
    /// `sizeof(struct dirent)` and a 256-byte copy reads past the heap block (found by ASan).
    @inline(__always) static func direntName(_ e: UnsafeMutablePointer<dirent>) -> UnsafePointer<UInt8> {
        UnsafeRawPointer(e).advanced(by: direntNameOffset).assumingMemoryBound(to: UInt8.self)
    }
    static let direntNameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!

    /// The name of a readdir(3) entry as a String (see `direntName`).
    static func direntString(_ e: UnsafeMutablePointer<dirent>) -> String {
        String(cString: direntName(e))
    }

    static func writeAll(_ fd: Int32, _ data: UnsafeRawBufferPointer, _ what: String) throws {
        guard var p = data.baseAddress else { return }
        var left = data.count
        while left > 0 {
            let n = write(fd, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {  // a caller's non-blocking pipe: wait as write(2) would
                    var ready = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    if poll(&ready, 1, -1) >= 0 || errno == EINTR { continue }
                }
                throw SpikeVaultError.errno(errno, what)
            }
            p += n; left -= n
        }
    }

    /// Reads up to `count` bytes; returns 0 only at end of file.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, _ what: String) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer, count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw SpikeVaultError.errno(errno, what)
        }
    }

    static func fsync(_ fd: Int32, _ what: String) throws {
        if Glibc.fsync(fd) != 0 { throw SpikeVaultError.errno(errno, what) }
    }

    static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// Starts writing `fd`'s dirty pages back without waiting (Linux `sync_file_range` with
    /// `SYNC_FILE_RANGE_WRITE`; a no-op elsewhere). Durability still needs `fsync`: this only
    /// lets a batch's files go to disk together, so that the first `fsync` commits the block
    /// allocations of all of them in one journal transaction and the later ones find little
    /// left to do. Errors are ignored (the `fsync` that follows reports them).
    static func startWriteback(_ fd: Int32) {
        #if os(Linux)
        if let f = syncFileRange { _ = f(fd, 0, 0, 2 /* SYNC_FILE_RANGE_WRITE */) }
        #endif
    }

    /// `fsync`s every descriptor, several at once when there are many (up to 4 threads: this
    /// one and 3 short-lived helpers): fsyncs that wait together share the device's cache
    /// flushes, where one after the other each waits for its own. Returns when every fsync
    /// has returned; throws the first failure (naming `what`) after all have run.
    static func fsyncAll(_ fds: [Int32], _ what: String) throws {
        let helpers = fds.count >= 8 ? min(3, fds.count / 8) : 0
        guard helpers > 0 else {
            for fd in fds { try fsync(fd, what) }
            return
        }
        let shared = FsyncWork(fds)
        var threads: [WorkerThread] = []
        for _ in 0..<helpers {
            guard let t = try? WorkerThread({ shared.run() }) else { break }  // no thread: fewer helpers
            threads.append(t)
        }
        shared.run()
        for t in threads { t.join() }
        if let e = shared.failure.withLock({ $0 }) { throw SpikeVaultError.errno(e, what) }
    }

    private final class FsyncWork: Sendable {
        let fds: [Int32]
        let next = Atomic<Int>(0)
        let failure = Mutex<Int32?>(nil)

        init(_ fds: [Int32]) { self.fds = fds }

        func run() {
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                guard i < fds.count else { return }
                if Glibc.fsync(fds[i]) != 0 {
                    let e = errno
                    failure.withLock { if $0 == nil { $0 = e } }
                }
            }
        }
    }

    #if os(Linux)
    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    /// Looked up once: the Glibc module does not import the GNU-only declaration.
    private static let syncFileRange: SyncFileRange? = {
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
        return unsafeBitCast(sym, to: SyncFileRange.self)
    }()
    #endif

    /// Monotonic clock in nanoseconds, for durations.
    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Opens `name` (relative to `dirfd`, or a path with `AT_FDCWD`) read-only, non-blocking and
    /// without following a final symlink, then checks it is a regular file (and, with
    /// `ownedBy`, owned by that uid) before anything reads it. A FIFO, socket, device,
    /// directory or link fails at once with `.unsafePath`; a missing file with `.notFound`.
    /// `refusal` is the status for a symlink or a non-regular file: `.unsafePath` for the vault's own
    /// files (someone put it there), `.invalidArgument` for a file the host handed us.
    static func openRegularFile(at dirfd: Int32, _ name: String, what: String, ownedBy owner: uid_t? = nil,
                                refusal: Status = .unsafePath) throws -> Int32 {
        let rfd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC)
        if rfd < 0 {
            switch errno {
            case ELOOP: throw SpikeVaultError(refusal, "\(what) is a symlink (links are not followed)")
            case ENOENT: throw SpikeVaultError(.notFound, "\(what) does not exist")
            default: throw SpikeVaultError.errno(errno, "opening \(what)")
            }
        }
        var st = stat()
        guard fstat(rfd, &st) == 0 else {
            let e = errno
            close(rfd)
            throw SpikeVaultError.errno(e, "stat \(what)")
        }
        if (st.st_mode & S_IFMT) != S_IFREG {
            close(rfd)
            throw SpikeVaultError(refusal, "\(what) is not a regular file (\(fileTypeName(st.st_mode)))")
        }
        if let owner, st.st_uid != owner {
            close(rfd)
            throw foreignOwner(st.st_uid, what)
        }
        // Regular files never block; clear the flag so reads behave as usual.
        _ = fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) & ~O_NONBLOCK)
        return rfd
    }

    /// The refusal for a vault file or directory another user owns.
    static func foreignOwner(_ uid: uid_t, _ what: String) -> SpikeVaultError {
        SpikeVaultError(.unsafePath, "\(what) is owned by uid \(uid), not by this user (uid \(geteuid()))")
    }

    static func fileTypeName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFDIR: return "a directory"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symlink"
        default: return "not a regular file"
        }
    }

    /// Returns true when `s` is a plain file name: no slash, not `.`/`..`, not empty, no NUL.
    static func isPlainBasename(_ s: String) -> Bool {
        !s.isEmpty && s != "." && s != ".." && !s.utf8.contains(UInt8(ascii: "/")) && !s.utf8.contains(0)
    }
}
