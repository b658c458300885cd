/// XXH64 (seed 0), the checksum zstd itself uses, kept per artefact over the raw bytes so a
/// read can prove it returns exactly what was stored. Incremental, so files stream through it.
struct XXH64 {
    private static let p1: UInt64 = 11_400_714_785_074_694_791
    private static let p2: UInt64 = 14_029_467_366_897_019_727
    private static let p3: UInt64 = 1_609_587_929_392_839_161
    private static let p4: UInt64 = 9_650_029_242_287_828_579
    private static let p5: UInt64 = 2_870_177_450_012_600_261

    private var v1 = p1 &+ p2, v2 = p2, v3: UInt64 = 0, v4 = 0 &- p1
    private var buffer = [UInt8](repeating: 0, count: 32)
    private var buffered = 0
    private var total: UInt64 = 0

    init() {}

    private static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }
    private static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        rotl(acc &+ input &* p2, 31) &* p1
    }
    private static func merge(_ acc: UInt64, _ val: UInt64) -> UInt64 {
        (acc ^ round(0, val)) &* p1 &+ p4
    }
    private static func load64(_ p: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    private static func load32(_ p: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
    }

    private mutating func consumeStripe(_ p: UnsafeRawPointer) {
        v1 = Self.round(v1, Self.load64(p, 0))
        v2 = Self.round(v2, Self.load64(p, 8))
        v3 = Self.round(v3, Self.load64(p, 16))
        v4 = Self.round(v4, Self.load64(p, 24))
    }

    mutating func update(_ data: UnsafeRawBufferPointer) {
        guard var p = data.baseAddress, data.count > 0 else { return }
        var count = data.count
        total &+= UInt64(count)
        if buffered > 0 {
            let take = min(32 - buffered, count)
            buffer.withUnsafeMutableBytes { $0.baseAddress!.advanced(by: buffered).copyMemory(from: p, byteCount: take) }
            buffered += take; p += take; count -= take
            if buffered < 32 { return }
            buffer.withUnsafeBytes { consumeStripe($0.baseAddress!) }
            buffered = 0
        }
        while count >= 32 { consumeStripe(p); p += 32; count -= 32 }
        if count > 0 {
            buffer.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: p, byteCount: count) }
            buffered = count
        }
    }

    func digest() -> UInt64 {
        var h: UInt64
        if total >= 32 {
            h = Self.rotl(v1, 1) &+ Self.rotl(v2, 7) &+ Self.rotl(v3, 12) &+ Self.rotl(v4, 18)
            h = Self.merge(h, v1); h = Self.merge(h, v2); h = Self.merge(h, v3); h = Self.merge(h, v4)
        } else {
            h = v3 &+ Self.p5
        }
        h &+= total
        return buffer.withUnsafeBytes { raw -> UInt64 in
            let p = raw.baseAddress!
            var i = 0
            while i + 8 <= buffered {
                h ^= Self.round(0, Self.load64(p, i))
                h = Self.rotl(h, 27) &* Self.p1 &+ Self.p4
                i += 8
            }
            if i + 4 <= buffered {
                h ^= Self.load32(p, i) &* Self.p1
                h = Self.rotl(h, 23) &* Self.p2 &+ Self.p3
                i += 4
            }
            while i < buffered {
                h ^= UInt64(raw[i]) &* Self.p5
                h = Self.rotl(h, 11) &* Self.p1
                i += 1
            }
            h ^= h >> 33; h &*= Self.p2
            h ^= h >> 29; h &*= Self.p3
            h ^= h >> 32
            return h
        }
    }

    /// The digest as the text stored in the database: `xxh64:` and 16 lowercase hex digits.
    func hexDigest() -> String {
        let hex = String(digest(), radix: 16)
        return "xxh64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
