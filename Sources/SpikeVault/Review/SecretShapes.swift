/// Secrets recognised by their shape anywhere in text, whatever flag or name precedes them:
/// well-known token formats, JSON Web Tokens, PEM private-key blocks, and secret-named pairs
/// inside query strings and connection strings. Byte scanning, linear in the input: every
/// scan either consumes what it looked at or is bounded by a short prefix.
extension Redactor {
    /// A token format: a literal prefix, then at least `minimum` bytes of its alphabet.
    struct TokenShape: Sendable {
        enum Alphabet: Sendable { case alnum, alnumUnderscore, alnumDash, base64URL }
        var prefix: [UInt8]
        var minimum: Int
        var alphabet: Alphabet

        func allows(_ c: UInt8) -> Bool {
            switch alphabet {
            case .alnum: return isAlnum(c)
            case .alnumUnderscore: return isAlnum(c) || c == UInt8(ascii: "_")
            case .alnumDash: return isAlnum(c) || c == UInt8(ascii: "-")
            case .base64URL: return isBase64URL(c)
            }
        }
    }

    static func isAlnum(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
    static func isBase64URL(_ c: UInt8) -> Bool { isAlnum(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") }

    static let tokenShapes: [TokenShape] = {
        func shape(_ p: String, _ n: Int, _ a: TokenShape.Alphabet) -> TokenShape { TokenShape(prefix: Array(p.utf8), minimum: n, alphabet: a) }
        return [
            // GitHub personal, OAuth, user-to-server, server-to-server and refresh tokens.
            shape("ghp_", 20, .alnum), shape("gho_", 20, .alnum), shape("ghu_", 20, .alnum),
            shape("ghs_", 20, .alnum), shape("ghr_", 20, .alnum), shape("github_pat_", 20, .alnumUnderscore),
            shape("glpat-", 20, .alnumDash),                                        // GitLab
            shape("xoxb-", 10, .alnumDash), shape("xoxp-", 10, .alnumDash),         // Slack
            shape("xoxa-", 10, .alnumDash), shape("xoxr-", 10, .alnumDash), shape("xoxs-", 10, .alnumDash),
            shape("sk_live_", 16, .alnum), shape("sk_test_", 16, .alnum),           // Stripe
            shape("rk_live_", 16, .alnum), shape("rk_test_", 16, .alnum),
            shape("AIza", 35, .base64URL),                                          // Google API keys
            shape("sk-", 32, .base64URL),                                           // OpenAI-style keys
            shape("npm_", 36, .alnum),                                              // npm
        ]
    }()

    /// Masks every well-known token and every JSON Web Token (`eyJ…` header, payload and
    /// optional signature, dot-separated) that starts at a word boundary.
    static func redactTokenShapes(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        let mask = Array(Self.mask.utf8)
        var i = 0
        scan: while i < b.count {
            if i == 0 || !isBase64URL(b[i - 1]) {
                for s in tokenShapes where b[i] == s.prefix[0] && i + s.prefix.count <= b.count
                    && b[i..<(i + s.prefix.count)].elementsEqual(s.prefix) {
                    var j = i + s.prefix.count
                    while j < b.count && s.allows(b[j]) { j += 1 }
                    if j - i - s.prefix.count >= s.minimum {
                        out += mask
                        i = j
                        continue scan
                    }
                }
                if let end = jwtEnd(b, from: i) {
                    out += mask
                    i = end
                    continue
                }
            }
            out.append(b[i])
            i += 1
        }
        return out
    }

    /// The end of a JWT starting at `i` (`eyJ` + base64url, `.`, base64url, optional `.` +
    /// base64url), or nil.
    private static func jwtEnd(_ b: [UInt8], from i: Int) -> Int? {
        guard i + 3 <= b.count, b[i] == UInt8(ascii: "e"), b[i + 1] == UInt8(ascii: "y"), b[i + 2] == UInt8(ascii: "J") else { return nil }
        var j = i
        var segments: [Int] = [0]
        while j < b.count {
            if isBase64URL(b[j]) { segments[segments.count - 1] += 1 } else if b[j] == UInt8(ascii: ".") && segments.count < 3 {
                segments.append(0)
            } else { break }
            j += 1
        }
        guard segments.count >= 2, segments[0] >= 10, segments[1] >= 2 else { return nil }
        return j
    }

    /// Masks PEM private-key blocks (`-----BEGIN … PRIVATE KEY-----` through the matching END
    /// line, or to the end of the text when it was cut off), keeping the two marker lines.
    static func redactPrivateKeyBlocks(_ b: [UInt8]) -> [UInt8] {
        let begin = Array("-----BEGIN ".utf8), tail = Array("PRIVATE KEY-----".utf8), end = Array("-----END ".utf8)
        guard let first = find(begin, in: b, from: 0) else { return b }
        var out = Array(b[..<first])
        var i = first
        while let start = find(begin, in: b, from: i) {
            out += b[i..<start]
            // The BEGIN line must name a private key (certificates and public keys stay).
            let lineEnd = b[start...].firstIndex(where: { $0 == 10 || $0 == 13 }) ?? b.count
            guard let t = find(tail, in: b, from: start, before: lineEnd) else {
                out += b[start..<lineEnd]
                i = lineEnd
                continue
            }
            let headerEnd = t + tail.count
            out += b[start..<headerEnd]
            out += Array("\n\(Self.mask)\n".utf8)
            if let e = find(end, in: b, from: headerEnd) {
                i = e
            } else {
                return out
            }
        }
        out += b[i...]
        return out
    }

    /// Masks the value of every secret-named `name=value` pair that follows `?`, `&` or `;`
    /// (query strings, `Key=v;AccountKey=v` connection strings), up to the next separator.
    static func redactEmbeddedPairs(_ b: [UInt8]) -> [UInt8] {
        func nameByte(_ c: UInt8) -> Bool { isAlnum(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") }
        func valueEnds(_ c: UInt8) -> Bool {
            c == UInt8(ascii: "&") || c == UInt8(ascii: ";") || c == UInt8(ascii: "#") || c == UInt8(ascii: " ")
                || c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") || c == 9 || c == 10 || c == 13
        }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            let c = b[i]
            out.append(c)
            i += 1
            guard c == UInt8(ascii: "?") || c == UInt8(ascii: "&") || c == UInt8(ascii: ";") else { continue }
            var j = i
            while j < b.count && nameByte(b[j]) { j += 1 }
            guard j > i, j < b.count, b[j] == UInt8(ascii: "="),
                  isSecretName(Substring(String(decoding: b[i..<j], as: UTF8.self))) else { continue }
            out += b[i...j]
            var k = j + 1
            while k < b.count && !valueEnds(b[k]) { k += 1 }
            if k > j + 1 { out += Array(Self.mask.utf8) }
            i = k
        }
        return out
    }

    /// The first `needle` wholly inside `b[from..<before]`.
    private static func find(_ needle: [UInt8], in b: [UInt8], from: Int, before: Int? = nil) -> Int? {
        let limit = min(before ?? b.count, b.count)
        guard !needle.isEmpty, limit >= needle.count, from <= limit - needle.count else { return nil }
        var i = from
        while i <= limit - needle.count {
            if b[i] == needle[0] && b[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
