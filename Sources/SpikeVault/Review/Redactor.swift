/// Redaction of text before it leaves the vault (exports, bundles, summaries, snapshots).
/// The stored data is never changed. Foundation-free and regex-free (byte scanning).
///
/// Rules, applied in this order (docs/review.md lists them with examples):
/// 1. `--flag=value`, `-flag=value` and `KEY=value` whose name is secret-ish: value → `<redacted>`.
/// 2. `--flag value` / `-flag value` with a secret-ish flag: the next argument → `<redacted>`.
/// 3. `Bearer <token>` / `Basic <token>` (any case), and `Authorization: <x>` headers: the token.
/// 4. Credentials in URLs: `scheme://user:pass@host` → `scheme://<redacted>@host`.
/// 5. AWS-style access key ids (`AKIA`/`ASIA` + 16 of `A-Z0-9`) → `<redacted>`.
/// 6. Secrets by shape anywhere (SecretShapes.swift): PEM private-key blocks, GitHub, GitLab,
///    Slack, Stripe, Google, OpenAI-style and npm tokens, JWTs, and secret-named pairs after
///    `?`, `&` or `;` (query strings, connection strings).
/// 7. A glued `-pVALUE` (mysql's password flag): masked when a mysql/mariadb client appears
///    earlier in the command, or when VALUE is not a plain lowercase word (`-pthread` stays)
///    nor one or two digits (`patch -p1`).
/// 8. The home directory (a path prefix) → `~`.
/// 9. The user name (as a whole word) → `<user>`.
/// Secret-ish names, compared lowercased with `-`, `_` and `.` removed: ending in password,
/// passwd, pass, pwd, passphrase, secret, token, apikey, accesskey, secretkey, privatekey,
/// credential(s), auth, authorization, cookie, sessionid, signature; or containing password,
/// passwd, secret; or, before removal, ending in `_key`, `-key`, `.key`, `_pw` or `-pw`.
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
        let l = lower(raw)
        for s in ["_key", "-key", ".key", "_pw", "-pw"] where l.hasSuffix(s) && l.utf8.count > s.utf8.count { return true }
        let n = String(decoding: l.utf8.filter { $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: "_") && $0 != UInt8(ascii: ".") },
                       as: UTF8.self)
        if n.isEmpty { return false }
        for s in ["password", "passwd", "pass", "pwd", "passphrase", "secret", "token", "apikey", "accesskey", "secretkey",
                  "privatekey", "accountkey", "credential", "credentials", "auth", "authorization", "cookie", "sessionid",
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
        var mysqlSeen = false
        for arg in arguments {
            defer { mysqlSeen = mysqlSeen || Self.isMySQLClient(arg) }
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
            let (text, next) = redactToken(arg, mysqlSeen: mysqlSeen)
            out.append(finish(text))
            maskNext = next
        }
        return out
    }

    /// Redacts free text (a command line as one string, a summary, a JSON string value):
    /// tokens are split at whitespace, which is kept as it was.
    public func redact(text: String) -> String {
        guard enabled else { return text }
        // Bytes, not String.UnicodeScalarView: appending to a scalar view copies the whole
        // string each time (quadratic on a large artefact). Splitting at ASCII whitespace
        // bytes is safe in UTF-8.
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var maskNext = false
        var mysqlSeen = false
        var tokenStart = 0
        func flush(_ end: Int) {
            guard end > tokenStart else { return }
            let arg = String(decoding: bytes[tokenStart..<end], as: UTF8.self)
            defer { mysqlSeen = mysqlSeen || Self.isMySQLClient(arg) }
            if maskNext {
                maskNext = false
                if Self.isScheme(arg) { out += arg.utf8; maskNext = true; return }
                out += Self.mask.utf8
                return
            }
            let (t, next) = redactToken(arg, mysqlSeen: mysqlSeen)
            out += t.utf8
            maskNext = next
        }
        for (i, c) in bytes.enumerated() where c == 32 || c == 9 || c == 10 || c == 13 {
            flush(i)
            out.append(c)
            tokenStart = i + 1
        }
        flush(bytes.count)
        return finish(String(decoding: out, as: UTF8.self))
    }

    private static func isScheme(_ s: String) -> Bool {
        let l = lower(s)
        return l == "bearer" || l == "basic" || l == "token" || l == "digest"
    }

    /// ASCII lowercase (bytes: UTF-8 multi-byte sequences never contain A-Z).
    static func lower(_ s: some StringProtocol) -> String {
        String(decoding: s.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// mysql, mysqldump, mariadb, mariadb-dump …: the clients whose `-p` takes a glued password.
    static func isMySQLClient(_ arg: String) -> Bool {
        let base = arg.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? arg
        return base.hasPrefix("mysql") || base.hasPrefix("mariadb")
    }

    /// `-pVALUE` glued: is VALUE a password? (See rule 7.)
    static func isGluedPassword(_ arg: String, mysqlSeen: Bool) -> Bool {
        let b = Array(arg.utf8)
        guard b.count > 2, b[0] == UInt8(ascii: "-"), b[1] == UInt8(ascii: "p"), !b.contains(UInt8(ascii: "=")) else { return false }
        if mysqlSeen { return true }
        let value = b[2...]
        if value.allSatisfy({ ($0 >= 97 && $0 <= 122) || $0 == UInt8(ascii: "-") }) { return false }  // -pthread, -pedantic
        if value.count <= 2 && value.allSatisfy({ $0 >= 48 && $0 <= 57 }) { return false }         // patch -p1
        return true
    }

    /// One token: returns its redacted form and whether the next token is a secret value.
    private func redactToken(_ arg: String, mysqlSeen: Bool) -> (String, Bool) {
        var s = arg
        let l = Self.lower(s)
        if l == "bearer" || l == "basic" || l == "digest" { return (s, true) }
        if Self.isGluedPassword(s, mysqlSeen: mysqlSeen) { return ("-p" + Self.mask, false) }
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
        b = Self.redactPrivateKeyBlocks(b)
        b = Self.redactURLCredentials(b)
        b = Self.redactTokenShapes(b)
        b = Self.redactEmbeddedPairs(b)
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
