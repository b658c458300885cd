/// gzip (RFC 1952) around a DEFLATE stream (RFC 1951) written here, because the library
/// links only libsqlite3 and libzstd (docs/fleet.md, "pprof"): one block with the fixed
/// Huffman codes and greedy LZ77 matching over a 32 KiB window with hash chains. Not as
/// small as zlib's dynamic codes, but much smaller than stored blocks, and any gzip reader
/// (Go's compress/gzip in `go tool pprof`, Python's gzip, zcat) reads it.
enum Gzip {
    static func compress(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]  // no flags, mtime 0, OS unknown
        out.reserveCapacity(input.count / 3 + 64)
        Deflate.fixed(input, into: &out)
        let crc = CRC32.checksum(input)
        for s in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: crc >> UInt32(s))) }
        let size = UInt32(truncatingIfNeeded: input.count)
        for s in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: size >> UInt32(s))) }
        return out
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as gzip's trailer needs.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }
}

/// A DEFLATE encoder using one final block with the fixed Huffman codes (RFC 1951, 3.2.6).
enum Deflate {
    private struct BitWriter {
        var out: [UInt8]
        var acc: UInt64 = 0
        var count: UInt64 = 0

        /// Appends the low `n` bits of `value`, least significant first.
        mutating func bits(_ value: UInt32, _ n: Int) {
            acc |= UInt64(value) << count
            count += UInt64(n)
            while count >= 8 {
                out.append(UInt8(truncatingIfNeeded: acc))
                acc >>= 8
                count -= 8
            }
        }

        /// Appends a Huffman code of `n` bits, most significant bit first.
        mutating func code(_ value: UInt32, _ n: Int) {
            var r: UInt32 = 0
            var v = value
            for _ in 0..<n { r = (r << 1) | (v & 1); v >>= 1 }
            bits(r, n)
        }

        mutating func finish() {
            if count > 0 { out.append(UInt8(truncatingIfNeeded: acc)) }
            acc = 0
            count = 0
        }
    }

    private static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                            35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                                             3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
                                          257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
                                          8193, 12289, 16385, 24577]
    private static let distExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
                                           7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    /// The fixed literal/length code of symbol `sym` (0...287).
    private static func literal(_ w: inout BitWriter, _ sym: Int) {
        switch sym {
        case 0...143: w.code(UInt32(0x30 + sym), 8)
        case 144...255: w.code(UInt32(0x190 + sym - 144), 9)
        case 256...279: w.code(UInt32(sym - 256), 7)
        default: w.code(UInt32(0xC0 + sym - 280), 8)
        }
    }

    private static func match(_ w: inout BitWriter, length: Int, distance: Int) {
        var li = lengthBase.count - 1
        while lengthBase[li] > length { li -= 1 }
        literal(&w, 257 + li)
        if lengthExtra[li] > 0 { w.bits(UInt32(length - lengthBase[li]), lengthExtra[li]) }
        var di = distBase.count - 1
        while distBase[di] > distance { di -= 1 }
        w.code(UInt32(di), 5)
        if distExtra[di] > 0 { w.bits(UInt32(distance - distBase[di]), distExtra[di]) }
    }

    static let window = 32768
    private static let hashBits = 15
    private static let maxChain = 32

    static func fixed(_ input: [UInt8], into out: inout [UInt8]) {
        var w = BitWriter(out: out)
        out = []
        w.bits(1, 1)  // BFINAL
        w.bits(1, 2)  // BTYPE 01: fixed Huffman codes
        let n = input.count
        var head = [Int32](repeating: -1, count: 1 << hashBits)
        var prev = [Int32](repeating: -1, count: window)
        input.withUnsafeBufferPointer { p in
            func hash(_ i: Int) -> Int {
                let h = (UInt32(p[i]) << 16) | (UInt32(p[i + 1]) << 8) | UInt32(p[i + 2])
                return Int((h &* 2_654_435_761) >> UInt32(32 - hashBits))
            }
            func insert(_ i: Int) {
                guard i + 2 < n else { return }
                let h = hash(i)
                prev[i & (window - 1)] = head[h]
                head[h] = Int32(i)
            }
            var i = 0
            while i < n {
                var bestLen = 0
                var bestDist = 0
                if i + 2 < n {
                    var cand = Int(head[hash(i)])
                    var chain = 0
                    let maxLen = min(258, n - i)
                    while cand >= 0, i - cand <= window, chain < maxChain {
                        if p[cand + bestLen] == p[i + bestLen] || bestLen == 0 {
                            var l = 0
                            while l < maxLen, p[cand + l] == p[i + l] { l += 1 }
                            if l > bestLen { bestLen = l; bestDist = i - cand; if l == maxLen { break } }
                        }
                        let next = Int(prev[cand & (window - 1)])
                        if next >= cand { break }  // a slot overwritten by a newer position
                        cand = next
                        chain += 1
                    }
                }
                if bestLen >= 3 {
                    match(&w, length: bestLen, distance: bestDist)
                    for k in i..<(i + bestLen) { insert(k) }
                    i += bestLen
                } else {
                    literal(&w, Int(p[i]))
                    insert(i)
                    i += 1
                }
            }
        }
        literal(&w, 256)  // end of block
        w.finish()
        out = w.out
    }
}
