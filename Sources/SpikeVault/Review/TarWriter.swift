/// A minimal POSIX ustar writer (regular files only), Foundation-free. Names longer than 100
/// bytes are split into prefix/name at a `/` (up to 255 bytes in all).
struct TarWriter {
    var out: OutputBuffer

    init(fd: Int32, what: String) { out = OutputBuffer(fd: fd, what: what) }

    static func octal(_ value: Int64, width: Int) -> [UInt8] {
        var digits = Array(String(value, radix: 8).utf8)
        while digits.count < width - 1 { digits.insert(UInt8(ascii: "0"), at: 0) }
        return digits + [0]
    }

    static func header(name: String, size: Int64, mtime: Int64, mode: Int64 = 0o644) throws -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], at offset: Int, max: Int) {
            for (i, b) in bytes.prefix(max).enumerated() { h[offset + i] = b }
        }
        var nameBytes = Array(name.utf8)
        var prefix: [UInt8] = []
        if nameBytes.count > 100 {
            guard let cut = nameBytes.indices.last(where: { i in
                nameBytes[i] == UInt8(ascii: "/") && i <= 155 && nameBytes.count - i - 1 <= 100
            }) else {
                throw SpikeVaultError(.invalidArgument, "name too long for a tar entry: \(name)")
            }
            prefix = Array(nameBytes[..<cut])
            nameBytes = Array(nameBytes[(cut + 1)...])
        }
        guard size >= 0 && size < 8_589_934_592 else {
            throw SpikeVaultError(.tooLarge, "\(name) is \(size) bytes; ustar entries hold less than 8 GiB")
        }
        put(nameBytes, at: 0, max: 100)
        put(octal(mode, width: 8), at: 100, max: 8)
        put(octal(0, width: 8), at: 108, max: 8)            // uid
        put(octal(0, width: 8), at: 116, max: 8)            // gid
        put(octal(size, width: 12), at: 124, max: 12)
        put(octal(max(0, mtime), width: 12), at: 136, max: 12)
        put(Array("        ".utf8), at: 148, max: 8)         // checksum placeholder
        h[156] = UInt8(ascii: "0")                           // regular file
        put(Array("ustar".utf8) + [0], at: 257, max: 6)
        put(Array("00".utf8), at: 263, max: 2)
        put(prefix, at: 345, max: 155)
        let sum = h.reduce(0) { $0 + Int64($1) }
        put(octal(sum, width: 7), at: 148, max: 7)           // 6 digits + NUL, then the space stays
        return h
    }

    static func padding(_ size: Int64) -> Int { Int((512 - size % 512) % 512) }

    mutating func addFile(name: String, bytes: [UInt8], mtime: Int64) throws {
        out.append(bytes: try Self.header(name: name, size: Int64(bytes.count), mtime: mtime))
        out.append(bytes: bytes)
        out.append(bytes: [UInt8](repeating: 0, count: Self.padding(Int64(bytes.count))))
        try out.flushIfLarge()
    }

    /// Copies exactly `size` bytes from `fd`; `progress` gets the bytes copied per chunk and
    /// returns false to cancel.
    mutating func addFile(name: String, from fd: Int32, size: Int64, mtime: Int64,
                          progress: (Int64) throws -> Void) throws {
        out.append(bytes: try Self.header(name: name, size: size, mtime: mtime))
        try out.flush()
        var left = size
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while left > 0 {
            let n = try chunk.withUnsafeMutableBytes { p in
                try Posix.read(fd, into: p.baseAddress!, count: Int(min(Int64(p.count), left)), "reading \(name)")
            }
            if n == 0 { throw SpikeVaultError(.io, "\(name) shrank while it was being bundled") }
            out.append(bytes: chunk[0..<n])
            try out.flush()
            left -= Int64(n)
            try progress(Int64(n))
        }
        out.append(bytes: [UInt8](repeating: 0, count: Self.padding(size)))
    }

    /// Two zero blocks end the archive.
    mutating func finish() throws {
        out.append(bytes: [UInt8](repeating: 0, count: 1024))
        try out.flush()
    }
}
