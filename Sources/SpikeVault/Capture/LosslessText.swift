/// Lossless, printable rendering of arbitrary bytes as a String.
///
/// Valid UTF-8 is kept as is; every byte that is not part of a valid UTF-8 sequence becomes
/// `\xNN` (two lowercase hex digits), and a backslash becomes `\\`, so the original bytes can
/// always be recovered (`unescape`). Control characters are kept (JSON escapes them).
public enum LosslessText {
    public static func escape(_ bytes: [UInt8]) -> String {
        var out = ""
        var i = 0
        while i < bytes.count {
            let n = validSequenceLength(bytes, at: i)
            if n == 0 {
                out += "\\x" + hex2(bytes[i])
                i += 1
            } else if n == 1 && bytes[i] == 0x5C {
                out += "\\\\"
                i += 1
            } else {
                out += String(decoding: bytes[i..<(i + n)], as: UTF8.self)
                i += n
            }
        }
        return out
    }

    /// Length of the valid UTF-8 sequence starting at `i`, or 0 if invalid.
    static func validSequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let c = b[i]
        func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            i + k < b.count && b[i + k] >= lo && b[i + k] <= hi
        }
        switch c {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return cont(1) ? 2 : 0
        case 0xE0: return cont(1, 0xA0) && cont(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return cont(1) && cont(2) ? 3 : 0
        case 0xED: return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0
        case 0xF0: return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0
        case 0xF1...0xF3: return cont(1) && cont(2) && cont(3) ? 4 : 0
        case 0xF4: return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0
        default: return 0
        }
    }

    static func hex2(_ v: UInt8) -> String {
        let d = Array("0123456789abcdef")
        return String([d[Int(v >> 4)], d[Int(v & 0xF)]])
    }

    /// Inverse of `escape`.
    public static func unescape(_ s: String) -> [UInt8] {
        let u = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        func hexVal(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        while i < u.count {
            if u[i] == 0x5C, i + 1 < u.count {
                if u[i + 1] == 0x5C { out.append(0x5C); i += 2; continue }
                if u[i + 1] == 0x78, i + 3 < u.count, let h = hexVal(u[i + 2]), let l = hexVal(u[i + 3]) {
                    out.append(h << 4 | l); i += 4; continue
                }
            }
            out.append(u[i]); i += 1
        }
        return out
    }
}
