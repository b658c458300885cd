import CZstd

/// Streaming zstd decompression from a file descriptor with bounded memory: the window is
/// capped by `windowLogMax` and the output by `maxOutputBytes`. Corrupt, truncated or
/// foreign input is reported as `.corrupt`, never trusted.
struct ZstdDecompressor {
    var windowLogMax: Int32 = 27
    var maxOutputBytes: Int64

    /// Decompresses all frames of `fd`, passing each chunk of output to `sink`, and checks the
    /// raw content against `expectedChecksum` (`xxh64:…`) when given. `input`, when given, sees
    /// every compressed byte as read (to keep the exact frame that was verified). Returns the raw size.
    func decompress(from fd: Int32, name: String, expectedChecksum: String?,
                    input tap: ((UnsafeRawBufferPointer) -> Void)? = nil,
                    sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Int64 {
        guard let dctx = ZSTD_createDCtx() else { throw SpikeVaultError(.noMemory, "creating zstd context") }
        defer { ZSTD_freeDCtx(dctx) }
        _ = ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, windowLogMax)

        var input = [UInt8](repeating: 0, count: ZSTD_DStreamInSize())
        var output = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
        var hash = XXH64()
        var total: Int64 = 0
        var sawInput = false
        var lastHint = 0

        // Runs the decoder over `inBuf`, handing output to the sink; returns bytes produced.
        func step(_ inBuf: inout ZSTD_inBuffer) throws -> Int {
            try output.withUnsafeMutableBytes { outRaw in
                var outBuf = ZSTD_outBuffer(dst: outRaw.baseAddress, size: outRaw.count, pos: 0)
                let r = ZSTD_decompressStream(dctx, &outBuf, &inBuf)
                if ZSTD_isError(r) != 0 { throw Self.failure(r, name) }
                lastHint = r
                total += Int64(outBuf.pos)
                if total > maxOutputBytes {
                    throw SpikeVaultError(.tooLarge,
                                          "artefact \(name) decompresses to more than the limit of \(maxOutputBytes) bytes")
                }
                let chunk = UnsafeRawBufferPointer(rebasing: outRaw[0..<outBuf.pos])
                hash.update(chunk)
                try sink(chunk)
                return outBuf.pos
            }
        }

        while true {
            let n = try input.withUnsafeMutableBytes {
                try Posix.read(fd, into: $0.baseAddress!, count: $0.count, "reading artefact \(name)")
            }
            if n == 0 { break }
            sawInput = true
            try input.withUnsafeBytes { inRaw in
                tap?(UnsafeRawBufferPointer(rebasing: inRaw[0..<n]))
                var inBuf = ZSTD_inBuffer(src: inRaw.baseAddress, size: n, pos: 0)
                while inBuf.pos < inBuf.size { _ = try step(&inBuf) }
            }
        }
        // The decoder may still hold output after the last input byte: drain it.
        while lastHint != 0 {
            var empty = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
            if try step(&empty) == 0 { break }
        }
        if !sawInput { throw SpikeVaultError(.corrupt, "artefact \(name) is empty (0 bytes): not a zstd frame") }
        if lastHint != 0 { throw SpikeVaultError(.corrupt, "artefact \(name) is truncated: the zstd frame is incomplete") }
        if let expectedChecksum, hash.hexDigest() != expectedChecksum {
            throw SpikeVaultError(.corrupt,
                                  "artefact \(name) content checksum \(hash.hexDigest()) does not match the recorded \(expectedChecksum)")
        }
        return total
    }

    private static func failure(_ code: Int, _ name: String) -> SpikeVaultError {
        let reason = String(cString: ZSTD_getErrorName(code))
        let kind = ZSTD_getErrorCode(code)
        if kind == ZSTD_error_frameParameter_windowTooLarge || kind == ZSTD_error_memory_allocation {
            return SpikeVaultError(.tooLarge, "artefact \(name) needs a larger zstd window than allowed: \(reason)")
        }
        return SpikeVaultError(.corrupt, "artefact \(name) is not a valid zstd stream: \(reason)")
    }
}
