/// Redaction of text before it leaves the vault (exports, bundles, summaries, snapshots).
/// The stored data is never changed. Foundation-free and regex-free (byte scanning).
///
/// Rules, applied in this order (docs/review.md lists them with examples):
/// 1. `--flag=value`, `-flag=value` and `KEY=value` whose name is secret-ish: value → `<redacted>`.
/// 2. `--flag value` / `-flag value` with a secret-ish flag: the next argument → `<redacted>`.
/// 3. `Bearer <token>` / `Basic <token>` (any case), and `Authorization: <x>` headers: the token.
/// 4. Credentials in URLs: `scheme://user:pass@host` → `scheme://<redacted>@host`.
/// 5. AWS-style access key ids (`AKIA`/`ASIA` + 16 of `A-Z0-9`) → `<redacted>`.
/// 6. The home directory (a path prefix) → `~`.
/// 7. The user name (as a whole word) → `<user>`.
/// Secret-ish names, compared lowercased with `-`, `_` and `.` removed: ending in password,
/// passwd, pass, pwd, secret, token, apikey, accesskey, secretkey, privatekey, credential(s),
/// auth, authorization, cookie, sessionid, signature; or containing password, passwd, secret.
public struct Redactor: Sendable {
    public var enabled: Bool
    public var home: String?
    public var user: String?
    public static let mask = "<redacted>"

    /// `home` and `user` default to `$HOME` and the current user's login name.
    public init(enabled: Bool = true, home: String? = nil, user: String? = nil) {
        self.enabled = enabled
        self.home = home ?? Redactor.currentHome()
        self.user = user ?? Redactor.currentUser()
        if let h = self.home, h.utf8.count < 2 { self.home = nil }   // "/" would eat every path
        if let u = self.user, u.isEmpty { self.user = nil }
    }

    public static let disabled = Redactor(enabled: false, home: "", user: "")

    static func currentHome() -> String? {
        if let h = getenv("HOME") { return String(cString: h) }
        guard let pw = getpwuid(getuid()), let d = pw.pointee.pw_dir else { return nil }
        return String(cString: d)
    }

    static func currentUser() -> String? {
        guard let pw = getpwuid(getuid()), let n = pw.pointee.pw_name else { return nil }
        return String(cString: n)
    }

    // MARK: Names

    static func isSecretName(_ raw: Substring) -> Bool {
        var n = ""
        for c in raw.utf8 {
            if c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".") { continue }
            n.unicodeScalars.append(Unicode.Scalar(c >= 65 && c <= 90 ? c + 32 : c))
        }
        if n.isEmpty { return false }
        for s in ["password", "passwd", "pass", "pwd", "secret", "token", "apikey", "accesskey", "secretkey",
                  "privatekey", "credential", "credentials", "auth", "authorization", "cookie", "sessionid",
                  "signature"] where n.hasSuffix(s) { return true }
        for s in ["password", "passwd", "secret"] where n.containsText(s) { return true }
        return false
    }

    // MARK: Arguments

    /// Redacts an argument vector (each element one argument, as in `/proc/PID/cmdline`).
    public func redact(arguments: [String]) -> [String] {
        guard enabled else { return arguments }
        var out: [String] = []
        out.reserveCapacity(arguments.count)
        var maskNext = false
        for arg in arguments {
            if maskNext && !arg.isEmpty {
                maskNext = false
                // "Bearer" after "Authorization:" keeps its word and masks the one after it.
                if Self.isScheme(arg) { out.append(arg); maskNext = true; continue }
                out.append(Self.mask)
                continue
            }
            if arg.utf8.contains(where: { $0 == 32 || $0 == 9 || $0 == 10 }) {
                // A whole command line or header in one argument (`sh -c "…"`, `-H "Authorization: …"`).
                out.append(redact(text: arg))
                continue
            }
            let (text, next) = redactToken(arg)
            out.append(finish(text))
            maskNext = next
        }
        return out
    }

    /// Redacts free text (a command line as one string, a summary, a JSON string value):
    /// tokens are split at whitespace, which is kept as it was.
    public func redact(text: String) -> String {
        guard enabled else { return text }
        var out = String.UnicodeScalarView()
        var maskNext = false
        var token = String.UnicodeScalarView()
        func flush() {
            guard !token.isEmpty else { return }
            let arg = String(token)
            token = String.UnicodeScalarView()
            if maskNext {
                maskNext = false
                if Self.isScheme(arg) { out.append(contentsOf: arg.unicodeScalars); maskNext = true; return }
                out.append(contentsOf: Self.mask.unicodeScalars)
                return
            }
            let (t, next) = redactToken(arg)
            out.append(contentsOf: t.unicodeScalars)
            maskNext = next
        }
        for s in text.unicodeScalars {
            if s == " " || s == "\t" || s == "\n" || s == "\r" {
                flush()
                out.append(s)
            } else {
                token.append(s)
            }
        }
        flush()
        return finish(String(out))
    }

    private static func isScheme(_ s: String) -> Bool {
        let l = lower(s)
        return l == "bearer" || l == "basic" || l == "token" || l == "digest"
    }

    static func lower(_ s: some StringProtocol) -> String {
        var o = String.UnicodeScalarView()
        for c in s.unicodeScalars {
            o.append(c.value >= 65 && c.value <= 90 ? Unicode.Scalar(c.value + 32)! : c)
        }
        return String(o)
    }

    /// One token: returns its redacted form and whether the next token is a secret value.
    private func redactToken(_ arg: String) -> (String, Bool) {
        var s = arg
        let l = Self.lower(s)
        if l == "bearer" || l == "basic" || l == "digest" { return (s, true) }
        if let eq = s.firstIndex(of: "=") {
            var name = s[..<eq]
            while name.first == "-" { name = name.dropFirst() }
            // A quoted or prefixed name (e.g. `"PASSWORD=x"`, `export API_TOKEN=x`).
            while let f = name.first, f == "\"" || f == "'" { name = name.dropFirst() }
            if !name.isEmpty && !name.containsText("/") && !name.containsText(":") && Self.isSecretName(name) {
                s = String(s[...eq]) + Self.mask
                return (s, false)
            }
        } else if s.hasPrefix("-") && s.utf8.count > 1 {
            var name = Substring(s)
            while name.first == "-" { name = name.dropFirst() }
            if Self.isSecretName(name) { return (s, true) }
        } else if s.hasSuffix(":") && s.utf8.count > 1 {
            // HTTP-style header in an argument list: `Authorization: Bearer x`, `X-Api-Key: x`.
            if Self.isSecretName(s.dropLast()) { return (s, true) }
        }
        if l.hasPrefix("authorization:") || l.hasPrefix("x-api-key:") || l.hasPrefix("cookie:") {
            // `-H Authorization:Bearer...` glued together.
            let colon = s.firstIndex(of: ":")!
            let rest = s[s.index(after: colon)...]
            if rest.isEmpty { return (s, true) }
            let lr = Self.lower(rest)
            for p in ["bearer", "basic", "digest"] where lr == p { return (s, true) }
            return (String(s[...colon]) + Self.mask, false)
        }
        return (s, false)
    }

    /// Rules that work inside any text: URL credentials, AWS keys, home, user.
    private func finish(_ text: String) -> String {
        var b = Array(text.utf8)
        b = Self.redactURLCredentials(b)
        b = Self.redactAWSKeys(b)
        if let home { b = Self.replacePathPrefix(b, Array(home.utf8), with: Array("~".utf8)) }
        if let user { b = Self.replaceWord(b, Array(user.utf8), with: Array("<user>".utf8)) }
        return String(decoding: b, as: UTF8.self)
    }

    // MARK: Byte-level rules

    static func redactURLCredentials(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if i + 2 < b.count && b[i] == UInt8(ascii: ":") && b[i + 1] == UInt8(ascii: "/") && b[i + 2] == UInt8(ascii: "/") {
                out.append(contentsOf: b[i...(i + 2)])
                let start = i + 3
                var j = start
                var at: Int?
                var colon = false
                while j < b.count {
                    let c = b[j]
                    if c == UInt8(ascii: "/") || c == UInt8(ascii: " ") || c == UInt8(ascii: "?") || c == UInt8(ascii: "#")
                        || c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\t") { break }
                    if c == UInt8(ascii: "@") { at = j }
                    if c == UInt8(ascii: ":") && at == nil { colon = true }
                    j += 1
                }
                if let at, colon {
                    out.append(contentsOf: Array(mask.utf8))
                    i = at
                } else {
                    i = start
                }
                continue
            }
            out.append(b[i])
            i += 1
        }
        return out
    }

    static func redactAWSKeys(_ b: [UInt8]) -> [UInt8] {
        func keyChar(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 48 && c <= 57) }
        func wordChar(_ c: UInt8) -> Bool { keyChar(c) || (c >= 97 && c <= 122) }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if i + 20 <= b.count, (b[i] == UInt8(ascii: "A") || b[i] == UInt8(ascii: "S")) && b[i + 1] == UInt8(ascii: "K")
                || b[i] == UInt8(ascii: "A") && b[i + 1] == UInt8(ascii: "S"),
               b[i + 2] == UInt8(ascii: "I") && b[i + 3] == UInt8(ascii: "A"),
               (i == 0 || !wordChar(b[i - 1])),
               b[(i + 4)..<(i + 20)].allSatisfy(keyChar),
               i + 20 == b.count || !wordChar(b[i + 20]) {
                out.append(contentsOf: Array(mask.utf8))
                i += 20
                continue
            }
            out.append(b[i])
            i += 1
        }
        return out
    }

    /// Replaces `prefix` where it starts a path: at the start or after a non-path byte, and
    /// followed by `/`, the end, or a non-path byte.
    static func replacePathPrefix(_ b: [UInt8], _ prefix: [UInt8], with rep: [UInt8]) -> [UInt8] {
        guard !prefix.isEmpty, b.count >= prefix.count else { return b }
        func pathByte(_ c: UInt8) -> Bool {
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c >= 0x80
                || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || c == UInt8(ascii: "/")
        }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == prefix[0], i + prefix.count <= b.count, b[i..<(i + prefix.count)].elementsEqual(prefix),
               i == 0 || !pathByte(b[i - 1]) || b[i - 1] == UInt8(ascii: "/") && false,
               i + prefix.count == b.count || b[i + prefix.count] == UInt8(ascii: "/") || !pathByte(b[i + prefix.count]) {
                out.append(contentsOf: rep)
                i += prefix.count
                continue
            }
            out.append(b[i])
            i += 1
        }
        return out
    }

    /// Replaces whole-word occurrences of `word` (neighbours not letters, digits or `_`).
    static func replaceWord(_ b: [UInt8], _ word: [UInt8], with rep: [UInt8]) -> [UInt8] {
        guard !word.isEmpty, b.count >= word.count else { return b }
        func wordByte(_ c: UInt8) -> Bool {
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == UInt8(ascii: "_") || c >= 0x80
        }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == word[0], i + word.count <= b.count, b[i..<(i + word.count)].elementsEqual(word),
               i == 0 || !wordByte(b[i - 1]), i + word.count == b.count || !wordByte(b[i + word.count]) {
                out.append(contentsOf: rep)
                i += word.count
                continue
            }
            out.append(b[i])
            i += 1
        }
        return out
    }
}
