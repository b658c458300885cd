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
    public private(set) var text: String = ""
    private var needsComma: [Bool] = [false]
    private var afterKey = false

    public init() {}

    /// Returns the text written so far and clears the buffer (the nesting state is kept).
    public mutating func takeText() -> String {
        let out = text
        text = ""
        return out
    }

    private mutating func separate() {
        if afterKey { afterKey = false; return }
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
    }

    public mutating func beginObject() { separate(); text += "{"; needsComma.append(false) }
    public mutating func endObject() { needsComma.removeLast(); text += "}" }
    public mutating func beginArray() { separate(); text += "["; needsComma.append(false) }
    public mutating func endArray() { needsComma.removeLast(); text += "]" }

    /// Writes an object key; the next value call writes its value.
    public mutating func key(_ name: String) {
        separate()
        JSONWriter.appendQuoted(name, to: &text)
        text += ":"
        afterKey = true
    }

    public mutating func string(_ value: String) { separate(); JSONWriter.appendQuoted(value, to: &text) }
    public mutating func int(_ value: Int) { separate(); text += String(value) }
    public mutating func int(_ value: Int64) { separate(); text += String(value) }
    public mutating func uint(_ value: UInt64) { separate(); text += String(value) }
    public mutating func bool(_ value: Bool) { separate(); text += value ? "true" : "false" }
    public mutating func null() { separate(); text += "null" }
    /// Writes `json`, already a valid JSON value, as it is (e.g. stored notes).
    public mutating func raw(_ json: String) { separate(); text += json }
    public mutating func double(_ value: Double) {
        separate()
        guard value.isFinite else { text += "null"; return }
        if value == value.rounded(.towardZero), abs(value) < 1e15 {
            text += String(Int64(value))           // 3.0 -> "3" (valid JSON, shorter)
        } else {
            text += String(value)                  // Swift prints shortest round-trip form
        }
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

    /// Appends `value` as a quoted, escaped JSON string.
    public static func appendQuoted(_ value: String, to out: inout String) {
        out += "\""
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
