/// Hostile text made safe to show on a terminal or in a text report: the same escape as the
/// Python package's `spikevault.textsafe.visible`.
///
/// Control characters (C0, DEL, C1) become visible escapes (`\x1b`, `\n`), so a process name
/// holding `ESC ] 0 ; … BEL` cannot retitle a window, `ESC [ 2 J` cannot clear the screen and
/// an embedded newline cannot forge a line such as `Executable: /usr/bin/legit`. Bidirectional
/// overrides and isolates (which reorder what a reader sees) are escaped as `\u202e`, as is
/// every other character Python does not call printable; a backslash is doubled so no escape
/// can be faked.
enum VisibleText {
    static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        // Built as UTF-8 bytes: appending to a String.UnicodeScalarView copies it every time.
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 16)
        for s in text.unicodeScalars {
            guard needsEscape(s) else { UTF8.encode(s, into: { out.append($0) }); continue }
            let named: String
            switch s {
            case "\n": named = "\\n"
            case "\r": named = "\\r"
            case "\t": named = "\\t"
            case "\\": named = "\\\\"
            default:
                let hex = String(s.value, radix: 16)
                named = s.value <= 0xFF ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                    : "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            }
            out += named.utf8
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Python's rule exactly (`not str.isprintable()`, through the generated tables, or a
    /// backslash): besides controls, bidi and line separators that is every format character
    /// (U+200B, U+FEFF, a soft hyphen), space other than U+0020, private-use and unassigned code
    /// points, so `show` and the CLI agree on what a hostile name looks like.
    static func needsEscape(_ s: Unicode.Scalar) -> Bool {
        s.value == 0x5C || TerminalCells.escaped(s.value)
    }
}
