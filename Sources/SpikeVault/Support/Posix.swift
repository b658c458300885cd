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

    /// Monotonic clock in nanoseconds, for durations.
    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Returns true when `s` is a plain file name: no slash, not `.`/`..`, not empty, no NUL.
    static func isPlainBasename(_ s: String) -> Bool {
        !s.isEmpty && s != "." && s != ".." && !s.utf8.contains(UInt8(ascii: "/")) && !s.utf8.contains(0)
    }
}
