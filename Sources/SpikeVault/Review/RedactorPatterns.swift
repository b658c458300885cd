/// The byte-level rules of `Redactor` (work inside any text) and the table of programs whose
/// short flags carry secrets. Every scan moves forward and looks ahead only a bounded distance
/// or up to a byte it then consumes, so a 1 MB line costs one pass per rule.
extension Redactor {
    static let maskBytes = Array(mask.utf8)

    static func isAlnum(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
    static func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 }

    // MARK: Private key blocks

    /// `-----BEGIN <label> PRIVATE KEY-----` (RSA, EC, OPENSSH, ENCRYPTED, PGP … BLOCK) up to
    /// its `-----END` line: the body between them → `<redacted>`, whitespace around it kept.
    /// A block without its END line is masked to the end of the text.
    static func redactKeyBlocks(_ b: [UInt8]) -> [UInt8] {
        let begin = Array("-----BEGIN ".utf8), end = Array("-----END".utf8), dashes = Array("-----".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            guard b[i] == UInt8(ascii: "-"), starts(b, i, begin) else { out.append(b[i]); i += 1; continue }
            // The label ends at the next "-----" within a line's reach.
            var j = i + begin.count
            let limit = min(b.count, j + 80)
            while j < limit && !starts(b, j, dashes) && b[j] != 10 { j += 1 }
            guard j < limit, starts(b, j, dashes),
                  String(decoding: b[(i + begin.count)..<j], as: UTF8.self).containsText("PRIVATE KEY") else {
                out.append(contentsOf: begin); i += begin.count; continue
            }
            let bodyStart = j + dashes.count
            out.append(contentsOf: b[i..<bodyStart])
            var k = bodyStart
            while k < b.count && !(b[k] == UInt8(ascii: "-") && starts(b, k, end)) { k += 1 }
            var s = bodyStart, e = k
            while s < e && isSpace(b[s]) { s += 1 }
            while e > s && isSpace(b[e - 1]) { e -= 1 }
            out.append(contentsOf: b[bodyStart..<s])
            if e > s { out.append(contentsOf: maskBytes) }
            out.append(contentsOf: b[e..<k])
            i = k
            if k < b.count { out.append(contentsOf: end); i += end.count }
        }
        return out
    }

    static func starts(_ b: [UInt8], _ i: Int, _ p: [UInt8]) -> Bool {
        i + p.count <= b.count && b[i..<(i + p.count)].elementsEqual(p)
    }

    // MARK: URL credentials

    /// `scheme://user:pass@host` → `scheme://<redacted>@host`.
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
                    out.append(contentsOf: maskBytes)
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

    // MARK: name=value pairs inside a token

    /// `name=value` anywhere (after `?`, `&`, `;`, `,`, a quote, …) and JSON-style
    /// `"name": "value"`, with a secret-ish name: the value → `<redacted>`. A value ends at
    /// whitespace, a quote, `&` or `;`, and at `,` when the pair itself followed a `,`
    /// (option lists such as `username=bob,password=x,uid=1000`).
    static func redactPairs(_ b: [UInt8]) -> [UInt8] {
        func nameByte(_ c: UInt8) -> Bool { isAlnum(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") }
        func secret(_ s: Int, _ e: Int) -> Bool {
            var n = Substring(String(decoding: b[s..<e], as: UTF8.self))
            while n.first == "-" { n = n.dropFirst() }
            return !n.isEmpty && isSecretName(n)
        }
        let quote = UInt8(ascii: "\"")
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var run = -1   // start of the current run of name bytes
        var i = 0
        while i < b.count {
            let c = b[i]
            if nameByte(c) {
                if run < 0 { run = i }
                out.append(c); i += 1; continue
            }
            if c == UInt8(ascii: "="), run >= 0, secret(run, i) {
                let comma = run > 0 && b[run - 1] == UInt8(ascii: ",")
                var j = i + 1
                while j < b.count {
                    let v = b[j]
                    if isSpace(v) || v == quote || v == UInt8(ascii: "'") || v == UInt8(ascii: "&") || v == UInt8(ascii: ";")
                        || (comma && v == UInt8(ascii: ",")) { break }
                    j += 1
                }
                out.append(c)
                if j > i + 1 { out.append(contentsOf: maskBytes) }
                i = j; run = -1; continue
            }
            if c == quote, run > 0, b[run - 1] == quote, secret(run, i) {
                // "name" <ws> : <ws> "value"
                var j = i + 1
                while j < b.count && isSpace(b[j]) { j += 1 }
                if j < b.count && b[j] == UInt8(ascii: ":") {
                    j += 1
                    while j < b.count && isSpace(b[j]) { j += 1 }
                    if j < b.count && b[j] == quote {
                        var k = j + 1
                        while k < b.count && b[k] != quote { k += b[k] == UInt8(ascii: "\\") ? 2 : 1 }
                        out.append(contentsOf: b[i...j])
                        if k > j + 1 { out.append(contentsOf: maskBytes) }
                        i = min(k, b.count); run = -1; continue
                    }
                }
            }
            run = -1
            out.append(c); i += 1
        }
        return out
    }

    // MARK: Well-known token formats

    /// Prefix, extra bytes allowed after it (besides letters and digits), minimum length after it.
    static let tokenFormats: [(prefix: [UInt8], extra: [UInt8], min: Int)] = [
        ("ghp_", "", 16), ("gho_", "", 16), ("ghu_", "", 16), ("ghs_", "", 16), ("ghr_", "", 16),
        ("github_pat_", "_", 16), ("glpat-", "_-", 16),
        ("xoxb-", "-", 10), ("xoxp-", "-", 10), ("xoxa-", "-", 10), ("xoxr-", "-", 10), ("xoxs-", "-", 10),
        ("xoxe-", "-", 10), ("xapp-", "-", 10),
        ("sk_live_", "", 10), ("sk_test_", "", 10), ("rk_live_", "", 10), ("rk_test_", "", 10), ("whsec_", "", 10),
        ("sk-", "_-", 20), ("AIza", "_-", 30), ("ya29.", "_-.", 20), ("npm_", "", 30), ("pypi-", "_-", 30),
        ("hf_", "", 30), ("SG.", "_-.", 30),
    ].map { (Array($0.0.utf8), Array($0.1.utf8), $0.2) }

    /// Tokens of `tokenFormats` and JWTs (`eyJ…` `.` `…`, optionally more segments), each at a
    /// word start (not after a letter or digit) → `<redacted>`.
    static func redactKnownTokens(_ b: [UInt8]) -> [UInt8] {
        func b64url(_ c: UInt8) -> Bool { isAlnum(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        scan: while i < b.count {
            let c = b[i]
            if i == 0 || !isAlnum(b[i - 1]) {
                if c == UInt8(ascii: "e"), starts(b, i, Array("eyJ".utf8)) {
                    var j = i + 3
                    while j < b.count && b64url(b[j]) { j += 1 }
                    if j - i >= 10, j + 1 < b.count, b[j] == UInt8(ascii: "."), b64url(b[j + 1]) {
                        while j < b.count && (b64url(b[j]) || b[j] == UInt8(ascii: ".")) { j += 1 }
                        out.append(contentsOf: maskBytes); i = j; continue scan
                    }
                }
                for f in tokenFormats where f.prefix[0] == c && starts(b, i, f.prefix) {
                    var j = i + f.prefix.count
                    while j < b.count && (isAlnum(b[j]) || f.extra.contains(b[j])) { j += 1 }
                    if j - i - f.prefix.count >= f.min { out.append(contentsOf: maskBytes); i = j; continue scan }
                }
            }
            out.append(c); i += 1
        }
        return out
    }

    /// AWS access key ids: `AKIA`/`ASIA` + 16 of `A-Z0-9`, as a whole word.
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
                out.append(contentsOf: maskBytes)
                i += 20
                continue
            }
            out.append(b[i])
            i += 1
        }
        return out
    }

    // MARK: Home and user

    /// Replaces `prefix` where it starts a path: at the start or after a non-path byte, and
    /// followed by `/`, the end, or a non-path byte.
    static func replacePathPrefix(_ b: [UInt8], _ prefix: [UInt8], with rep: [UInt8]) -> [UInt8] {
        guard !prefix.isEmpty, b.count >= prefix.count else { return b }
        func pathByte(_ c: UInt8) -> Bool {
            isAlnum(c) || c >= 0x80 || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || c == UInt8(ascii: "/")
        }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == prefix[0], i + prefix.count <= b.count, b[i..<(i + prefix.count)].elementsEqual(prefix),
               i == 0 || !pathByte(b[i - 1]),
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
        func wordByte(_ c: UInt8) -> Bool { isAlnum(c) || c == UInt8(ascii: "_") || c >= 0x80 }
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

/// Programs whose short flags carry a secret, and how: `glued` masks `-pSECRET` → `-p<redacted>`,
/// `separate` masks the argument after `-p`. Only after the program's name was seen (argv[0],
/// or later as in `sudo mysql …`), since `-p` elsewhere is a port (`psql -p5432`), a
/// directory flag (`mkdir -p`) or a compiler option (`gcc -pthread`). mysql's `-p` takes its
/// value glued only: `mysql -p db` prompts and `db` is the database; mysql's `-P` is the port.
struct ShortSecretFlags: Sendable {
    var names: [String]
    var flags: [(letter: UInt8, glued: Bool, separate: Bool)]
    var longFlags: [String] = []
    /// Only after a `login` argument (`docker login -p X`; `docker run -p 80:80` is a port).
    var afterLogin = false

    static let table: [ShortSecretFlags] = [
        .init(names: ["mysql", "mysqldump", "mysqladmin", "mysqlimport", "mysqlshow", "mysqlcheck", "mysqlpump",
                      "mysqlslap", "mysqlbinlog", "mysqlsh", "mariadb", "mariadb-dump", "mariadb-admin",
                      "mariadb-import", "mariadb-check", "mariadb-show", "7z", "7za", "7zr"],
              flags: [(UInt8(ascii: "p"), true, false)]),
        .init(names: ["sshpass", "mongo", "mongosh", "mongodump", "mongorestore", "mongoexport", "mongoimport",
                      "mongostat", "mongotop"],
              flags: [(UInt8(ascii: "p"), true, true)]),
        .init(names: ["redis-cli", "valkey-cli", "keydb-cli"], flags: [(UInt8(ascii: "a"), true, true)]),
        .init(names: ["curl"], flags: [(UInt8(ascii: "u"), true, true), (UInt8(ascii: "U"), true, true)],
              longFlags: ["user", "proxy-user"]),
        .init(names: ["sqlcmd", "bcp", "osql", "zip", "unzip", "mosquitto_pub", "mosquitto_sub"],
              flags: [(UInt8(ascii: "P"), true, true)]),
        .init(names: ["ssh-keygen"], flags: [(UInt8(ascii: "P"), true, true), (UInt8(ascii: "N"), true, true)]),
        .init(names: ["ldapsearch", "ldapadd", "ldapmodify", "ldapdelete", "ldapwhoami", "ldappasswd", "ldapcompare"],
              flags: [(UInt8(ascii: "w"), true, true)]),
        .init(names: ["smbclient", "rpcclient", "smbget", "smbcacls"], flags: [(UInt8(ascii: "U"), true, true)]),
        .init(names: ["openssl"], flags: [(UInt8(ascii: "k"), false, true)]),
        .init(names: ["docker", "podman", "nerdctl", "buildah", "skopeo", "helm", "oras"],
              flags: [(UInt8(ascii: "p"), true, true)], afterLogin: true),
    ]

    static let byName: [String: Int] = {
        var d: [String: Int] = [:]
        for (i, e) in table.enumerated() { for n in e.names { d[n] = i } }
        return d
    }()

    /// The entry for a token naming a program (its last path component, quotes stripped).
    static func program(named token: String) -> ShortSecretFlags? {
        var t = Redactor.unquote(Substring(token))
        guard let f = t.utf8.first, f != UInt8(ascii: "-"), t.utf8.count <= 256 else { return nil }
        if let slash = t.utf8.lastIndex(of: UInt8(ascii: "/")) { t = t[t.utf8.index(after: slash)...] }
        guard t.utf8.count <= 16, let i = byName[String(t)] else { return nil }
        return table[i]
    }

    func isSecretLongFlag(_ name: Substring) -> Bool { longFlags.contains(Redactor.lower(name)) }

    /// `-Xvalue` or `-X` for a listed letter X: the redacted token and whether to mask the next.
    func redact(_ token: String) -> (text: String, maskNext: Bool)? {
        let b = Array(token.utf8.prefix(3))
        guard b.count >= 2, b[0] == UInt8(ascii: "-"), b[1] != UInt8(ascii: "-"),
              let f = flags.first(where: { $0.letter == b[1] }) else { return nil }
        if b.count == 2 { return f.separate ? (token, true) : nil }
        return f.glued ? (String(decoding: b[0..<2], as: UTF8.self) + Redactor.mask, false) : nil
    }
}
