/// A table cell as the CLI shows it: hostile text escaped as `spikevault.textsafe.visible` does
/// (Python's `str.isprintable` rules, through the generated `TerminalCellTables`) and measured in
/// terminal columns as `cli.render.display_width` does (wide characters 2, combining 0): the
/// library's table writer must print byte for byte what the CLI printed. `VisibleText` escapes
/// by the same tables.
enum TerminalCells {
    /// `text` escaped, and its width in columns.
    static func cell(_ text: String) -> (text: String, width: Int) {
        var ascii = true
        for b in text.utf8 where b < 0x20 || b >= 0x7F || b == 0x5C { ascii = false; break }
        if ascii { return (text, text.utf8.count) }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 8)
        var width = 0
        for s in text.unicodeScalars {
            let v = s.value
            if v == 0x5C || v == 0x0A || v == 0x0D || v == 0x09 || (v != 0x20 && escaped(v)) {
                let named: String
                switch v {
                case 0x0A: named = "\\n"
                case 0x0D: named = "\\r"
                case 0x09: named = "\\t"
                case 0x5C: named = "\\\\"
                default:
                    let hex = String(v, radix: 16)
                    named = (v <= 0xFF ? "\\x" : "\\u") + String(repeating: "0", count: max(0, (v <= 0xFF ? 2 : 4) - hex.count)) + hex
                }
                out += named.utf8
                width += named.utf8.count
                continue
            }
            UTF8.encode(s, into: { out.append($0) })
            width += v < 0x80 ? 1 : inRanges(TerminalCellTables.zero, v) ? 0 : inRanges(TerminalCellTables.wide, v) ? 2 : 1
        }
        return (String(decoding: out, as: UTF8.self), width)
    }

    static func escaped(_ v: UInt32) -> Bool {
        if v < 0x80 { return v < 0x20 || v == 0x7F }
        return inRanges(TerminalCellTables.escaped, v)
    }

    /// Binary search over flat inclusive [first, last, ...] ranges.
    static func inRanges(_ r: [UInt32], _ v: UInt32) -> Bool {
        var lo = 0, hi = r.count / 2
        while lo < hi {
            let mid = (lo + hi) / 2
            if r[2 * mid + 1] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo < r.count / 2 && r[2 * lo] <= v
    }
}
