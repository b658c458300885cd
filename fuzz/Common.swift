// Shared by every fuzz target (compiled into each): a reader that turns the fuzzer's bytes
// into choices, numbers and strings, and a scratch directory per process.
#if canImport(Glibc)
import Glibc
#endif

struct FuzzInput {
    let bytes: [UInt8]
    var pos = 0
    init(_ data: UnsafePointer<UInt8>, _ size: Int) { bytes = Array(UnsafeBufferPointer(start: data, count: size)) }
    var atEnd: Bool { pos >= bytes.count }
    mutating func byte() -> UInt8 { guard pos < bytes.count else { return 0 }; defer { pos += 1 }; return bytes[pos] }
    mutating func pick(_ n: Int) -> Int { n <= 1 ? 0 : Int(byte()) % n }
    mutating func u32() -> UInt32 { var v: UInt32 = 0; for _ in 0..<4 { v = v << 8 | UInt32(byte()) }; return v }
    mutating func u64() -> UInt64 { UInt64(u32()) << 32 | UInt64(u32()) }
    /// An interesting Int64: boundaries, small values, or raw bits.
    mutating func int64() -> Int64 {
        switch pick(8) {
        case 0: return [0, 1, -1, Int64.max, Int64.min, Int64(Int32.max), Int64(Int32.min), 1 << 40][pick(8)]
        case 1, 2: return Int64(Int8(bitPattern: byte()))
        case 3: return Int64(u32())
        default: return Int64(bitPattern: u64())
        }
    }
    mutating func double() -> Double {
        switch pick(6) {
        case 0: return [0, -0.0, .nan, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 1e-300][pick(8)]
        case 1: return Double(Int8(bitPattern: byte()))
        case 2: return Double(u32()) / 1000
        default: return Double(bitPattern: u64())
        }
    }
    /// Up to `max` raw bytes (length from the stream); may be invalid UTF-8 or hold NULs.
    mutating func blob(max: Int = 256) -> [UInt8] {
        let n = min(Int(byte()) | (pick(4) == 0 ? Int(byte()) << 8 : 0), max, bytes.count - pos)
        guard n > 0 else { return [] }
        defer { pos += n }
        return Array(bytes[pos..<pos + n])
    }
    /// The rest of the input.
    mutating func rest() -> [UInt8] { defer { pos = bytes.count }; return pos < bytes.count ? Array(bytes[pos...]) : [] }
}

/// A temporary directory for this fuzzing process, under $TMPDIR (fuzz/run.sh points it into
/// .build-fuzz/tmp and empties it before each run) or /tmp.
func fuzzScratchDirectory(_ name: String) -> String {
    let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    var template = Array("\(base)/svfuzz-\(name)-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { buf in
        guard let p = mkdtemp(buf.baseAddress!) else { fatalError("mkdtemp") }
        return String(cString: p)
    }
}

/// Calls `body` with a NUL-terminated copy of `bytes` (cut at the first NUL as C would).
func withCString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
    var z = bytes.map { CChar(bitPattern: $0) }
    z.append(0)
    return z.withUnsafeBufferPointer { body($0.baseAddress!) }
}
