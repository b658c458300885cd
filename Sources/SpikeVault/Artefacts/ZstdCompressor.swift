import CZstd

/// Streaming zstd compression into a file descriptor, with the frame content checksum on.
/// A compressor is reused across artefacts (its context holds large tables); it is not
/// thread-safe, so the vault keeps a small pool of them.
final class ZstdCompressor: @unchecked Sendable {  // used by one thread at a time (pooled)
    fileprivate let context: OpaquePointer
    private var output: [UInt8]
    private var input: [UInt8]

    init(level: Int32) throws {
        guard let cctx = ZSTD_createCCtx() else { throw SpikeVaultError(.noMemory, "creating zstd context") }
        context = cctx
        output = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
        input = [UInt8](repeating: 0, count: ZSTD_CStreamInSize())
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level), "setting level")
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1), "enabling checksum")
    }

    deinit { ZSTD_freeCCtx(context) }

    private func check(_ code: Int, _ what: String) throws {
        if ZSTD_isError(code) != 0 {
            throw SpikeVaultError(.internalError, "zstd \(what): \(String(cString: ZSTD_getErrorName(code)))")
        }
    }

    /// Result of compressing one artefact.
    struct Result { var rawBytes: Int64; var storedBytes: Int64; var checksum: String }

    /// Compresses `source` into `fd` as one frame.
    func compress(_ source: NewArtefact.Source, to fd: Int32) throws -> Result {
        ZSTD_CCtx_reset(context, ZSTD_reset_session_only)
        var hash = XXH64()
        var stored: Int64 = 0
        var raw: Int64 = 0
        switch source {
        case .bytes(let bytes):
            raw = Int64(bytes.count)
            ZSTD_CCtx_setPledgedSrcSize(context, UInt64(bytes.count))
            try bytes.withUnsafeBytes { buf in
                hash.update(buf)
                stored += try feed(buf, end: true, to: fd)
            }
        case .file(let path):
            let input = try Posix.openRegularFile(at: AT_FDCWD, path, what: "artefact source \(path)", refusal: .invalidArgument)
            defer { Posix.close(input) }
            while true {
                let n = try self.input.withUnsafeMutableBytes { buf in
                    try Posix.read(input, into: buf.baseAddress!, count: buf.count, "reading \(path)")
                }
                try self.input.withUnsafeBytes { buf in
                    let chunk = UnsafeRawBufferPointer(rebasing: buf[0..<n])
                    hash.update(chunk)
                    stored += try feed(chunk, end: n == 0, to: fd)
                }
                raw += Int64(n)
                if n == 0 { break }
            }
        }
        return Result(rawBytes: raw, storedBytes: stored, checksum: hash.hexDigest())
    }

    /// Pushes `chunk` through the stream; with `end`, flushes and closes the frame.
    private func feed(_ chunk: UnsafeRawBufferPointer, end: Bool, to fd: Int32) throws -> Int64 {
        var written: Int64 = 0
        var inBuf = ZSTD_inBuffer(src: chunk.baseAddress, size: chunk.count, pos: 0)
        let directive = end ? ZSTD_e_end : ZSTD_e_continue
        while true {
            let remaining: Int = try output.withUnsafeMutableBytes { out in
                var outBuf = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                let r = ZSTD_compressStream2(context, &outBuf, &inBuf, directive)
                try check(r, "compressing")
                try Posix.writeAll(fd, UnsafeRawBufferPointer(rebasing: out[0..<outBuf.pos]), "writing artefact")
                written += Int64(outBuf.pos)
                return r
            }
            let consumed = inBuf.pos == inBuf.size
            if end ? remaining == 0 : consumed { return written }
        }
    }
}

extension ZstdCompressor {
    /// One frame of `bytes` in memory (content checksum on), for rewritten copies such as the
    /// redacted artefacts of a bundle.
    func compress(bytes: [UInt8]) throws -> [UInt8] {
        ZSTD_CCtx_reset(context, ZSTD_reset_session_only)
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
        let n = out.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in ZSTD_compress2(context, dst.baseAddress, dst.count, src.baseAddress, src.count) }
        }
        if ZSTD_isError(n) != 0 {
            throw SpikeVaultError(.internalError, "zstd compressing: \(String(cString: ZSTD_getErrorName(n)))")
        }
        out.removeSubrange(n...)
        return out
    }
}
