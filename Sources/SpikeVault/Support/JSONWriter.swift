#if canImport(Glibc)
import Glibc
#endif

/// A small, Foundation-free, streaming JSON writer.
///
/// Values are appended in document order; commas and colons are inserted automatically.
/// `text` holds what was written since the last `takeText()`, so a large document can be
/// flushed to a file piece by piece. The writer does not check that the calls form a valid
/// document beyond what its separators need: callers pair `begin*`/`end*` themselves.
///
/// Strings are escaped per RFC 8259: `"` and `\` are escaped, control characters
/// U+0000–U+001F become `\b \f \n \r \t` or `\u00XX`; everything else is emitted as UTF-8.
/// Non-finite doubles (NaN, ±infinity) are written as `null`.
public struct JSONWriter: Sendable {
    /// UTF-8 bytes written since the last `takeText()` (bytes, not a String: appending bytes
    /// is several times cheaper, and the procfs sampler writes thousands of members a second).
    private var buf: [UInt8] = []
    private var needsComma: [Bool] = [false]
    private var afterKey = false

    public init() {}

    /// What was written since the last `takeText()`.
    public var text: String { String(decoding: buf, as: UTF8.self) }

    /// Returns the text written so far and clears the buffer (the nesting state is kept).
    public mutating func takeText() -> String {
        let out = text
        buf.removeAll(keepingCapacity: true)
        return out
    }

    /// Hands the bytes written so far to `body`, then clears the buffer (keeping its capacity).
    public mutating func takeBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        defer { buf.removeAll(keepingCapacity: true) }
        return try buf.withUnsafeBufferPointer { try body($0) }
    }

    private mutating func separate() {
        if afterKey { afterKey = false; return }
        if needsComma[needsComma.count - 1] { buf.append(0x2C) }
        needsComma[needsComma.count - 1] = true
    }

    /// Bytes written since the last `takeText()`/`takeBytes`.
    public var byteCount: Int { buf.count }

    /// Appends `s` verbatim (no separator): for text outside the JSON value, e.g. a final newline.
    public mutating func raw(_ s: StaticString) {
        buf.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    private mutating func digits(_ v: UInt64) { JSONWriter.appendDigits(v, to: &buf) }

    private mutating func signed(_ v: Int64) { JSONWriter.appendInteger(v, to: &buf) }

    static func appendDigits(_ v: UInt64, to out: inout [UInt8]) {
        var x = v
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes >= 20 digits
        withUnsafeMutableBytes(of: &tmp) { t in
            var i = t.count
            repeat { i -= 1; t[i] = UInt8(truncatingIfNeeded: 0x30 &+ x % 10); x /= 10 } while x > 0
            out.append(contentsOf: t[i...])
        }
    }

    /// `v` in decimal, appended to `out` (what `int(_:)` writes).
    static func appendInteger(_ v: Int64, to out: inout [UInt8]) {
        if v < 0 { out.append(0x2D); appendDigits(v.magnitude, to: &out) } else { appendDigits(UInt64(v), to: &out) }
    }

    /// `value` as `double(_:)` writes it, appended to `out`.
    static func appendDouble(_ value: Double, to out: inout [UInt8]) {
        guard value.isFinite else { out.append(contentsOf: "null".utf8); return }
        if value == value.rounded(.towardZero), abs(value) < 1e15 {
            appendInteger(Int64(value), to: &out)  // 3.0 -> "3" (valid JSON, shorter)
        } else {
            out.append(contentsOf: String(value).utf8)  // Swift prints shortest round-trip form
        }
    }

    public mutating func beginObject() { separate(); buf.append(0x7B); needsComma.append(false) }
    public mutating func endObject() { needsComma.removeLast(); buf.append(0x7D) }
    public mutating func beginArray() { separate(); buf.append(0x5B); needsComma.append(false) }
    public mutating func endArray() { needsComma.removeLast(); buf.append(0x5D) }

    /// Writes an object key; the next value call writes its value.
    public mutating func key(_ name: String) {
        separate()
        JSONWriter.appendQuoted(name, to: &buf)
        buf.append(0x3A)
        afterKey = true
    }

    /// Writes an object key known at compile time to need no escaping (a plain ASCII
    /// identifier); skips the escaping scan. For hot loops.
    mutating func key(plain name: StaticString) {
        separate()
        buf.append(0x22)
        raw(name)
        buf.append(0x22)
        buf.append(0x3A)
        afterKey = true
    }

    mutating func field(plain k: StaticString, _ v: String?) { key(plain: k); if let v { string(v) } else { null() } }
    mutating func field(plain k: StaticString, _ v: Int) { key(plain: k); int(v) }
    mutating func field(plain k: StaticString, _ v: UInt64?) { key(plain: k); if let v { uint(v) } else { null() } }
    mutating func field(plain k: StaticString, _ v: Double?) { key(plain: k); if let v { double(v) } else { null() } }

    public mutating func string(_ value: String) { separate(); JSONWriter.appendQuoted(value, to: &buf) }
    public mutating func int(_ value: Int) { separate(); signed(Int64(value)) }
    public mutating func int(_ value: Int64) { separate(); signed(value) }
    public mutating func uint(_ value: UInt64) { separate(); digits(value) }
    public mutating func bool(_ value: Bool) { separate(); if value { raw("true") } else { raw("false") } }
    public mutating func null() { separate(); raw("null") }
    /// Writes `json`, already a valid JSON value, as it is (e.g. stored notes).
    public mutating func rawJSON(_ json: String) { separate(); buf.append(contentsOf: json.utf8) }
    public mutating func double(_ value: Double) {
        separate()
        JSONWriter.appendDouble(value, to: &buf)
    }

    // Convenience "key: value" members; nil optionals are written as null.
    public mutating func field(_ k: String, _ v: String?) { key(k); if let v { string(v) } else { null() } }
    public mutating func field(_ k: String, _ v: Int?) { key(k); if let v { int(v) } else { null() } }
    public mutating func field(_ k: String, _ v: UInt64?) { key(k); if let v { uint(v) } else { null() } }
    public mutating func field(_ k: String, _ v: Double?) { key(k); if let v { double(v) } else { null() } }
    public mutating func field(_ k: String, _ v: Bool?) { key(k); if let v { bool(v) } else { null() } }
    public mutating func field(_ k: String, strings: [String]) {
        key(k); beginArray(); for s in strings { string(s) }; endArray()
    }

    /// Appends `value` as a quoted, escaped JSON string, as UTF-8 bytes. A Swift String is
    /// valid UTF-8, so escaping bytes below 0x20, `"` and `\\` is escaping those scalars.
    static func appendQuoted(_ value: String, to out: inout [UInt8]) {
        out.append(0x22)
        var plain = true
        for b in value.utf8 where b < 0x20 || b == 0x22 || b == 0x5C { plain = false; break }
        if plain {
            out.append(contentsOf: value.utf8)
        } else {
            let hex: StaticString = "0123456789abcdef"
            for b in value.utf8 {
                switch b {
                case 0x22: out.append(0x5C); out.append(0x22)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x08: out.append(0x5C); out.append(0x62)
                case 0x0C: out.append(0x5C); out.append(0x66)
                case 0x0A: out.append(0x5C); out.append(0x6E)
                case 0x0D: out.append(0x5C); out.append(0x72)
                case 0x09: out.append(0x5C); out.append(0x74)
                case 0..<0x20:
                    out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30])  // \u00
                    out.append(hex.utf8Start[Int(b >> 4)])
                    out.append(hex.utf8Start[Int(b & 0xF)])
                default: out.append(b)
                }
            }
        }
        out.append(0x22)
    }

    /// Appends `value` as a quoted, escaped JSON string.
    public static func appendQuoted(_ value: String, to out: inout String) {
        out += "\""
        // Fast path: nothing to escape (the common case) -> append the string as is.
        var plain = true
        for b in value.utf8 where b < 0x20 || b == 0x22 || b == 0x5C { plain = false; break }
        if plain { out += value; out += "\""; return }
        var pending = Substring.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            let v = scalar.value
            if v >= 0x20 && v != 0x22 && v != 0x5C { pending.append(scalar); continue }
            if !pending.isEmpty { out += String(pending); pending = Substring.UnicodeScalarView() }
            switch v {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            default:
                let hex = Array("0123456789abcdef")
                out += "\\u00"
                out.append(hex[Int(v >> 4)])
                out.append(hex[Int(v & 0xF)])
            }
        }
        if !pending.isEmpty { out += String(pending) }
        out += "\""
    }

    /// `value` as a quoted, escaped JSON string.
    public static func quoted(_ value: String) -> String {
        var s = ""
        appendQuoted(value, to: &s)
        return s
    }
}
