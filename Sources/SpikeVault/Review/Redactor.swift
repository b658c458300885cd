/// Redaction of text before it leaves the vault (exports, bundles, summaries, snapshots).
/// The stored data is never changed. Foundation-free and regex-free: every rule is a forward
/// byte or token scan, so the cost stays linear in the input (no backtracking).
///
/// Rules (docs/review.md lists them with examples). Per token (an argument, or a
/// whitespace-separated word of free text):
/// 1. `--flag=value`, `-flag=value` and `KEY=value` whose name is secret-ish: value → `<redacted>`.
/// 2. `--flag value` / `-flag value` with a secret-ish flag: the next argument → `<redacted>`
///    (not after a flag that takes no value: `--no-password`, `--password-stdin`, `--ask-pass`).
/// 3. `Bearer|Basic|Digest|Token <token>` (any case, quoted or not), and `Authorization: <x>`
///    style headers (`Name:` with a secret-ish name): the token.
/// 4. Short flags of known programs (`ShortSecretFlags`): `mysql -pSECRET`, `sshpass -p X`, …;
///    outside them a glued `-pVALUE` that is neither an option word nor a number (`isGluedPassword`).
/// Anywhere in the text (`RedactorPatterns.swift`): private key blocks, URL credentials,
/// `name=value` pairs inside a token (`?token=…&api_key=…`, `a=1;Password=…`, `"secret": "…"`),
/// well-known token formats (JWT, AWS, GitHub, GitLab, Slack, Stripe, Google, OpenAI, npm,
/// PyPI, Hugging Face, SendGrid), the home directory → `~`, the user name → `<user>`.
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

    /// Secret-ish names, compared lowercased with `-`, `_` and `.` removed: ending in one of
    /// `secretSuffixes`, or containing password, passwd or secret, or exactly `sig` (Azure
    /// SAS); or a compound name whose last part is `key` (`STRIPE_KEY`, `ssl.key`) unless the
    /// part before names a non-secret key (`--sort-key`, `PUBLIC_KEY`).
    static func isSecretName(_ raw: Substring) -> Bool {
        var n: [UInt8] = []
        n.reserveCapacity(raw.utf8.count)
        for c in raw.utf8 where c != UInt8(ascii: "-") && c != UInt8(ascii: "_") && c != UInt8(ascii: ".") {
            n.append(c >= 65 && c <= 90 ? c + 32 : c)
        }
        if n.isEmpty { return false }
        for s in secretSuffixes where n.count >= s.count && n[(n.count - s.count)...].elementsEqual(s) { return true }
        for s in secretInfixes where contains(n, s) { return true }
        if n.count == 3 && n.elementsEqual("sig".utf8) { return true }
        // `DB_PW`, `--db-pw`: "pw" as its own last part (not "npw" glued into a word).
        let l = lower(raw)
        if l.count > 3 && (l.hasSuffix("_pw") || l.hasSuffix("-pw") || l.hasSuffix(".pw")) { return true }
        guard n.count > 3, n[(n.count - 3)...].elementsEqual("key".utf8) else { return false }
        let parts = l.split(whereSeparator: { $0 == "-" || $0 == "_" || $0 == "." })
        if parts.count >= 2, parts[parts.count - 1] == "key" {
            return !["public", "pub", "sort", "primary", "foreign", "partition", "routing", "cache", "hot",
                     "lookup", "idempotency", "group", "shard"].contains(String(parts[parts.count - 2]))
        }
        return false
    }

    static let secretSuffixes: [[UInt8]] = [
        "password", "passwd", "pass", "pwd", "passphrase", "passin", "passout", "secret", "token", "apikey",
        "accesskey", "secretkey", "privatekey", "signingkey", "encryptionkey", "masterkey", "credential",
        "credentials", "auth", "authorization", "cookie", "sessionid", "signature", "connectionstring", "dsn",
        "jwt", "bearer", "webhookurl", "accountkey",
    ].map { Array($0.utf8) }
    static let secretInfixes: [[UInt8]] = ["password", "passwd", "secret"].map { Array($0.utf8) }

    static func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        guard hay.count >= needle.count else { return false }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && hay[i..<(i + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }

    /// ASCII case-insensitive equality with a lowercase word, without allocating.
    static func equalsLower(_ s: Substring, _ word: String) -> Bool {
        guard s.utf8.count == word.utf8.count else { return false }
        return zip(s.utf8, word.utf8).allSatisfy { ($0 >= 65 && $0 <= 90 ? $0 + 32 : $0) == $1 }
    }

    static func hasPrefixLower(_ s: Substring, _ word: String) -> Bool {
        guard s.utf8.count >= word.utf8.count else { return false }
        return zip(s.utf8, word.utf8).allSatisfy { ($0 >= 65 && $0 <= 90 ? $0 + 32 : $0) == $1 }
    }

    /// A secret-ish flag that takes no value, so the next argument is not masked.
    static func isBooleanFlag(_ name: Substring) -> Bool {
        let l = lower(name)
        for p in ["no-", "no_", "ask-", "ask_", "skip-", "without-"] where l.hasPrefix(p) { return true }
        for s in ["-stdin", "_stdin", "-prompt"] where l.hasSuffix(s) { return true }
        return false
    }

    // MARK: Arguments

    /// What a scan carries from one token to the next.
    struct ScanState {
        var maskNext = false
        var program: ShortSecretFlags?
        var sawLogin = false
        var inKeyBlock = false
    }

    /// Redacts an argument vector (each element one argument, as in `/proc/PID/cmdline`).
    /// Always returns as many elements as it was given.
    public func redact(arguments: [String]) -> [String] {
        guard enabled else { return arguments }
        var out: [String] = []
        out.reserveCapacity(arguments.count)
        var st = ScanState()
        for arg in arguments {
            if st.inKeyBlock {
                // A private key split over arguments (or folded frames): lines up to the END line.
                if arg.containsText("-----END") { st.inKeyBlock = false; out.append(redact(text: arg)) }
                else { out.append(arg.isEmpty ? arg : Self.mask) }
                continue
            }
            if st.maskNext && !arg.isEmpty {
                st.maskNext = false
                // "Bearer" after "Authorization:" keeps its word and masks the one after it.
                if Self.isScheme(arg) { out.append(arg); st.maskNext = true; continue }
                out.append(Self.mask)
                continue
            }
            if arg.utf8.contains(where: { $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }) {
                // A whole command line or header in one argument (`sh -c "…"`, `-H "Authorization: …"`).
                out.append(redact(text: arg))
                st.inKeyBlock = Self.opensKeyBlock(arg)
                continue
            }
            out.append(finish(redactToken(arg, &st)))
        }
        return out
    }

    /// Redacts free text (a command line as one string, a summary, a JSON string value):
    /// tokens are split at whitespace, which is kept as it was.
    public func redact(text: String) -> String {
        guard enabled else { return text }
        var bytes = Array(text.utf8)
        if Self.contains(bytes, Self.beginMarker) { bytes = Self.redactKeyBlocks(bytes) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        var st = ScanState()
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if Self.isSpace(c) {
                if c == 10 { st.program = nil; st.sawLogin = false }   // a new line, a new command
                out.append(c); i += 1; continue
            }
            var j = i + 1
            while j < bytes.count && !Self.isSpace(bytes[j]) { j += 1 }
            let arg = String(decoding: bytes[i..<j], as: UTF8.self)
            i = j
            if st.maskNext {
                st.maskNext = false
                if Self.isScheme(arg) { out.append(contentsOf: arg.utf8); st.maskNext = true; continue }
                out.append(contentsOf: Self.maskWord(arg).utf8)
                continue
            }
            if let last = arg.utf8.last, last == UInt8(ascii: ";") || last == UInt8(ascii: "|")
                || last == UInt8(ascii: "&") && arg.utf8.count <= 2 {
                st.program = nil; st.sawLogin = false   // `a; b`, `a | b`, `a && b`: the next command
            }
            out.append(contentsOf: redactToken(arg, &st).utf8)
        }
        return finish(String(decoding: out, as: UTF8.self))
    }

    static let beginMarker = Array("-----BEGIN".utf8)

    /// A word of free text masked, keeping the quotes around it (`"hunter2",` → `"<redacted>",`).
    static func maskWord(_ w: String) -> String {
        let b = Array(w.utf8)
        guard let q = b.first, q == UInt8(ascii: "\"") || q == UInt8(ascii: "'") else { return mask }
        var end = b.count
        while end > 1, b[end - 1] == UInt8(ascii: ",") || b[end - 1] == UInt8(ascii: ";") || b[end - 1] == UInt8(ascii: "}") { end -= 1 }
        guard end > 1, b[end - 1] == q else { return mask }
        return String(decoding: [q], as: UTF8.self) + mask + String(decoding: b[(end - 1)...], as: UTF8.self)
    }

    static func opensKeyBlock(_ s: String) -> Bool {
        guard let r = s.range(ofText: "-----BEGIN") else { return false }
        let rest = s[r.lowerBound...]
        return rest.containsText("PRIVATE KEY") && !rest.containsText("-----END")
    }

    /// Leading quotes and brackets, and trailing quotes, off a word (`'Bearer`, `"password"`).
    static func unquote(_ s: Substring) -> Substring {
        var t = s
        while let f = t.first, f == "\"" || f == "'" || f == "{" || f == "(" || f == "[" || f == "," { t = t.dropFirst() }
        while let l = t.last, l == "\"" || l == "'" { t = t.dropLast() }
        return t
    }

    private static func isScheme(_ s: String) -> Bool {
        let l = unquote(Substring(s))
        return l.utf8.count <= 6 && (equalsLower(l, "bearer") || equalsLower(l, "basic") || equalsLower(l, "token")
            || equalsLower(l, "digest"))
    }

    /// ASCII lowercase, built as bytes (appending to a String.UnicodeScalarView copies it
    /// each time; UTF-8 multi-byte sequences never contain A-Z).
    static func lower(_ s: some StringProtocol) -> String {
        String(decoding: s.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// A glued `-pVALUE` outside any program of `ShortSecretFlags`: a password when VALUE is
    /// neither an option word (`-pthread`, `-pedantic`, `-preset`) nor numbers and separators
    /// (`psql -p5432`, `perf -p4242`, `patch -p1`, `-p8080:80`).
    static func isGluedPassword(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count > 2, b[0] == UInt8(ascii: "-"), b[1] == UInt8(ascii: "p"), !b.contains(UInt8(ascii: "=")) else { return false }
        let value = b[2...]
        if value.allSatisfy({ ($0 >= 97 && $0 <= 122) || $0 == UInt8(ascii: "-") }) { return false }
        if value.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".")
            || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "/") }) { return false }
        return true
    }

    /// One token: its redacted form; sets `st.maskNext` when the next token is a secret value.
    private func redactToken(_ s: String, _ st: inout ScanState) -> String {
        let u = s.utf8
        let bare = Self.unquote(Substring(s))
        if bare.utf8.count <= 6 && (Self.equalsLower(bare, "bearer") || Self.equalsLower(bare, "basic")
            || Self.equalsLower(bare, "digest")) {
            st.maskNext = true
            return s
        }
        if let p = ShortSecretFlags.program(named: s) { st.program = p; st.sawLogin = false; return s }
        if let p = st.program {
            if p.afterLogin && Self.equalsLower(bare, "login") { st.sawLogin = true; return s }
            if !p.afterLogin || st.sawLogin, let r = p.redact(s) {
                st.maskNext = r.maskNext
                return r.text
            }
        }
        if st.program == nil && Self.isGluedPassword(s) { return "-p" + Self.mask }
        if let eq = u.firstIndex(of: UInt8(ascii: "=")) {
            var name = s[..<eq]
            while name.utf8.first == UInt8(ascii: "-") { name = name.dropFirst() }
            // A quoted or prefixed name (e.g. `"PASSWORD=x"`, `export API_TOKEN=x`).
            while let f = name.utf8.first, f == UInt8(ascii: "\"") || f == UInt8(ascii: "'") { name = name.dropFirst() }
            if !name.isEmpty && !name.utf8.contains(UInt8(ascii: "/")) && !name.utf8.contains(UInt8(ascii: ":"))
                && (Self.isSecretName(name) || st.program?.isSecretLongFlag(name) == true) {
                return String(s[...eq]) + Self.mask
            }
        } else if u.first == UInt8(ascii: "-") && u.count > 1 {
            var name = Substring(s)
            while name.utf8.first == UInt8(ascii: "-") { name = name.dropFirst() }
            if (Self.isSecretName(name) && !Self.isBooleanFlag(name)) || st.program?.isSecretLongFlag(name) == true {
                st.maskNext = true
            }
            return s
        } else if u.last == UInt8(ascii: ":") && u.count > 1 {
            // HTTP-style header in an argument list: `Authorization: Bearer x`, `X-Api-Key: x`,
            // and `"password": "x"` in JSON-like or YAML-like text.
            if Self.isSecretName(Self.unquote(s.dropLast())) { st.maskNext = true }
            return s
        }
        let sub = Substring(s)
        if Self.hasPrefixLower(sub, "authorization:") || Self.hasPrefixLower(sub, "proxy-authorization:")
            || Self.hasPrefixLower(sub, "x-api-key:") || Self.hasPrefixLower(sub, "cookie:") {
            // `-H Authorization:Bearer...` glued together.
            let colon = u.firstIndex(of: UInt8(ascii: ":"))!
            let rest = s[s.index(after: colon)...]
            if rest.isEmpty || Self.isScheme(String(rest)) { st.maskNext = true; return s }
            return String(s[...colon]) + Self.mask
        }
        return s
    }

    /// Rules that work inside any text (RedactorPatterns.swift), then home and user.
    private func finish(_ text: String) -> String {
        var b = Array(text.utf8)
        b = Self.redactURLCredentials(b)
        b = Self.redactPairs(b)
        b = Self.redactKnownTokens(b)
        b = Self.redactAWSKeys(b)
        if let home { b = Self.replacePathPrefix(b, Array(home.utf8), with: Array("~".utf8)) }
        if let user { b = Self.replaceWord(b, Array(user.utf8), with: Array("<user>".utf8)) }
        return String(decoding: b, as: UTF8.self)
    }
}
