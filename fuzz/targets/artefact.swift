// Target (a): the artefact reader (ZstdDecompressor with the vault's limits) on arbitrary
// bytes: truncated frames, huge declared window or content sizes, wrong checksums. Also a
// compress -> decompress round trip of the same bytes, which must give them back.
@testable import SpikeVault
import CZstd
#if canImport(Glibc)
import Glibc
#endif

// An unlinked temp file holds the bytes (the reader takes a file descriptor).
private let memfd: Int32 = {
    var t = Array("/tmp/svfuzz-artefact-XXXXXX".utf8CString)
    let fd = t.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    t.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    return fd
}()

private func load(_ bytes: [UInt8]) {
    _ = ftruncate(memfd, 0)
    _ = bytes.withUnsafeBytes { pwrite(memfd, $0.baseAddress, $0.count, 0) }
    _ = lseek(memfd, 0, SEEK_SET)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let options = VaultOptions()   // the vault's defaults: window log 27, 256 MiB output
    var dec = ZstdDecompressor(windowLogMax: Int32(options.windowLogMax), maxOutputBytes: options.maxArtefactBytes)
    if mode & 1 != 0 { dec.maxOutputBytes = Int64(input.byte()) << 4 }  // a small output limit
    if mode & 2 != 0 { dec.windowLogMax = Int32(10 + input.pick(18)) }
    let expected: String? = mode & 4 != 0 ? "xxh64:" + String(input.u64(), radix: 16) : nil
    let payload = input.rest()

    if mode & 0x80 != 0 {
        // Round trip: what the writer produces, the reader must give back exactly.
        guard let c = try? ZstdCompressor(level: Int32(1 + Int(mode >> 3 & 3))) else { return 0 }
        _ = ftruncate(memfd, 0); _ = lseek(memfd, 0, SEEK_SET)
        guard !payload.isEmpty, (try? c.compress(.bytes(payload), to: memfd)) != nil else { return 0 }
        _ = lseek(memfd, 0, SEEK_SET)
        var out: [UInt8] = []
        var h = XXH64(); payload.withUnsafeBytes { h.update($0) }
        let full = ZstdDecompressor(windowLogMax: 27, maxOutputBytes: 1 << 30)
        let n = try? full.decompress(from: memfd, name: "fuzz", expectedChecksum: h.hexDigest()) { out.append(contentsOf: $0) }
        if n != Int64(payload.count) || out != payload { fatalError("round trip changed the bytes") }
        return 0
    }
    load(payload)
    var produced: Int64 = 0
    do {
        let n = try dec.decompress(from: memfd, name: "fuzz", expectedChecksum: expected) { produced += Int64($0.count) }
        if n != produced || n > dec.maxOutputBytes { fatalError("reported size \(n) != produced \(produced)") }
    } catch let e as SpikeVaultError {
        if produced > dec.maxOutputBytes + Int64(ZSTD_DStreamOutSize()) { fatalError("sink saw more than the limit: \(e)") }
    } catch { fatalError("unexpected error type \(error)") }
    return 0
}
