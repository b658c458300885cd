/// Shell-style globs as SQLite's GLOB reads them: `*`, `?`, `[set]`, `[a-z]`, `[^set]`.
/// Only validation lives here (matching is SQLite's); SQLite treats an unmatched `[` as
/// matching nothing, which would silently return no rows, so it is refused instead.
enum Glob {
    static func validate(_ pattern: String) throws {
        let b = Array(pattern.utf8)
        if b.contains(0) { throw SpikeVaultError(.invalidArgument, "glob contains a NUL byte") }
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "[") {
                var j = i + 1
                if j < b.count && b[j] == UInt8(ascii: "^") { j += 1 }
                if j < b.count && b[j] == UInt8(ascii: "]") { j += 1 }  // leading ] is literal
                while j < b.count && b[j] != UInt8(ascii: "]") { j += 1 }
                if j >= b.count {
                    throw SpikeVaultError(.invalidArgument,
                                          "glob '\(pattern)' has an unmatched '[' at offset \(i)")
                }
                i = j + 1
            } else {
                i += 1
            }
        }
    }
}
