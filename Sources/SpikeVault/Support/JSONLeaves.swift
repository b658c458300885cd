/// The string values of a JSON document, found without SQLite: what `json_tree` lists as
/// `type = 'text'` rows, in the same document order, with the same parent and key, plus where
/// each literal sits in the text so it can be replaced in place.
///
/// Strict RFC 8259 only. Anything else (JSON5, a lone surrogate escape, nesting deeper than
/// `maxDepth`, trailing text) gives nil, and the caller falls back to SQLite's JSON1, whose
/// answer is then the one that counts. Exports redact a notes document per row, and one
/// `json_tree` statement per row cost more than the rest of the export.
struct JSONLeaves {
    struct Leaf {
        /// Index of the containing array or object in `containerIsArray`; -1 for a bare string document.
        var parent: Int
        /// The member name when the parent is an object (decoded), else nil.
        var key: String?
        /// The decoded value.
        var text: String
        /// Byte range of the literal, quotes included.
        var range: Range<Int>
    }

    var leaves: [Leaf] = []
    var containerIsArray: [Bool] = []
    /// Whether any whitespace sits between tokens (a compact copy then differs from the text).
    var hasWhitespace = false

    static let maxDepth = 1000

    init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        var p = Parser(b: bytes)
        guard p.document(into: &self) else { return nil }
    }

    /// `bytes` with whitespace between tokens removed and the literal of leaf `i` replaced by
    /// `replacement[i]` (quoted and escaped) where one is given.
    static func rewrite(_ bytes: UnsafeBufferPointer<UInt8>, _ leaves: [Leaf], replacements: [Int: String],
                        compact: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        var i = 0
        var next = 0  // the next leaf, in document (and byte) order
        while i < bytes.count {
            let c = bytes[i]
            if next < leaves.count && leaves[next].range.lowerBound == i {
                let r = leaves[next].range
                if let text = replacements[next] { JSONWriter.appendQuoted(text, to: &out) } else { out.append(contentsOf: bytes[r]) }
                next += 1
                i = r.upperBound
            } else if c == 0x22 {  // a key: copied as it is
                let end = JSONLeaves.literalEnd(bytes, from: i)
                out.append(contentsOf: bytes[i..<end])
                i = end
            } else {
                if !(compact && Parser.isSpace(c)) { out.append(c) }
                i += 1
            }
        }
        return out
    }

    /// The index after the closing quote of the string literal that starts at `from` (a
    /// backslash skips the byte after it); `b.count` when it is not closed.
    static func literalEnd(_ b: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        var j = from + 1
        while j < b.count && b[j] != 0x22 { j += b[j] == 0x5C ? 2 : 1 }
        return min(j + 1, b.count)
    }

    private struct Parser {
        let b: UnsafeBufferPointer<UInt8>
        var i = 0

        static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }

        mutating func skipSpace(_ doc: inout JSONLeaves) {
            while i < b.count && Parser.isSpace(b[i]) { i += 1; doc.hasWhitespace = true }
        }

        /// Iterative (an explicit stack), so a deep document cannot exhaust a host thread's stack.
        mutating func document(into doc: inout JSONLeaves) -> Bool {
            // Per open container: its index and whether it is an array.
            var stack: [(index: Int, isArray: Bool)] = []
            var key: String? = nil
            skipSpace(&doc)
            while true {
                // A value is expected here.
                guard i < b.count else { return false }
                let c = b[i]
                if c == 0x7B || c == 0x5B {  // { or [
                    guard stack.count < JSONLeaves.maxDepth else { return false }
                    let isArray = c == 0x5B
                    doc.containerIsArray.append(isArray)
                    stack.append((doc.containerIsArray.count - 1, isArray))
                    i += 1
                    skipSpace(&doc)
                    guard i < b.count else { return false }
                    if b[i] == (isArray ? 0x5D : 0x7D) {  // empty
                        i += 1
                        stack.removeLast()
                    } else if isArray {
                        continue
                    } else {
                        guard let k = memberName(&doc) else { return false }
                        key = k
                        continue
                    }
                } else if c == 0x22 {
                    let start = i
                    guard let text = string() else { return false }
                    doc.leaves.append(Leaf(parent: stack.last?.index ?? -1, key: stack.last?.isArray == false ? key : nil,
                                           text: text, range: start..<i))
                } else if !scalar() {
                    return false
                }
                // After a value: a separator, a close, or the end.
                while true {
                    skipSpace(&doc)
                    guard let top = stack.last else {
                        return i == b.count
                    }
                    guard i < b.count else { return false }
                    let d = b[i]
                    if d == 0x2C {  // ,
                        i += 1
                        skipSpace(&doc)
                        if !top.isArray {
                            guard let k = memberName(&doc) else { return false }
                            key = k
                        }
                        break
                    }
                    guard d == (top.isArray ? 0x5D : 0x7D) else { return false }
                    i += 1
                    stack.removeLast()
                }
            }
        }

        /// `"name" :` then the whitespace before the value.
        mutating func memberName(_ doc: inout JSONLeaves) -> String? {
            guard i < b.count, b[i] == 0x22, let k = string() else { return nil }
            skipSpace(&doc)
            guard i < b.count, b[i] == 0x3A else { return nil }
            i += 1
            skipSpace(&doc)
            return k
        }

        /// A string literal at `i`, decoded; `i` moves past it. nil if malformed.
        mutating func string() -> String? {
            i += 1
            let start = i
            var plain = true
            while i < b.count {
                let c = b[i]
                if c == 0x22 { break }
                if c < 0x20 { return nil }
                if c == 0x5C { plain = false; i += 2 } else { i += 1 }
            }
            guard i < b.count else { return nil }
            defer { i += 1 }
            if plain { return String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self) }
            return unescape(start, i)
        }

        func unescape(_ start: Int, _ end: Int) -> String? {
            var out: [UInt8] = []
            out.reserveCapacity(end - start)
            var j = start
            while j < end {
                let c = b[j]
                guard c == 0x5C else { out.append(c); j += 1; continue }
                guard j + 1 < end else { return nil }
                let e = b[j + 1]
                j += 2
                switch e {
                case 0x22, 0x5C, 0x2F: out.append(e)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0C)
                case 0x6E: out.append(0x0A)
                case 0x72: out.append(0x0D)
                case 0x74: out.append(0x09)
                case 0x75:
                    guard var v = hex4(j, end) else { return nil }
                    j += 4
                    if v >= 0xD800 && v < 0xDC00 {  // a high surrogate needs its low half
                        guard j + 6 <= end, b[j] == 0x5C, b[j + 1] == 0x75, let lo = hex4(j + 2, end),
                              lo >= 0xDC00 && lo < 0xE000 else { return nil }
                        v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)
                        j += 6
                    } else if v >= 0xDC00 && v < 0xE000 {
                        return nil
                    }
                    guard let scalar = Unicode.Scalar(v) else { return nil }
                    out.append(contentsOf: String(Character(scalar)).utf8)
                default: return nil
                }
            }
            return String(decoding: out, as: UTF8.self)
        }

        func hex4(_ at: Int, _ end: Int) -> UInt32? {
            guard at + 4 <= end else { return nil }
            var v: UInt32 = 0
            for k in at..<at + 4 {
                let c = b[k]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x41...0x46: d = c - 0x41 + 10
                case 0x61...0x66: d = c - 0x61 + 10
                default: return nil
                }
                v = v << 4 | UInt32(d)
            }
            return v
        }

        /// A number, true, false or null at `i`.
        mutating func scalar() -> Bool {
            switch b[i] {
            case 0x74: return literal("true")
            case 0x66: return literal("false")
            case 0x6E: return literal("null")
            default: return number()
            }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard i + n <= b.count else { return false }
            for k in 0..<n where b[i + k] != word.utf8Start[k] { return false }
            i += n
            return true
        }

        mutating func number() -> Bool {
            func digits(_ p: inout Parser) -> Int {
                let s = p.i
                while p.i < p.b.count && p.b[p.i] >= 0x30 && p.b[p.i] <= 0x39 { p.i += 1 }
                return p.i - s
            }
            if i < b.count && b[i] == 0x2D { i += 1 }
            guard i < b.count else { return false }
            if b[i] == 0x30 { i += 1 } else if digits(&self) == 0 { return false }
            if i < b.count && b[i] == 0x2E {
                i += 1
                guard digits(&self) > 0 else { return false }
            }
            if i < b.count && (b[i] == 0x65 || b[i] == 0x45) {
                i += 1
                if i < b.count && (b[i] == 0x2B || b[i] == 0x2D) { i += 1 }
                guard digits(&self) > 0 else { return false }
            }
            return true
        }
    }
}
