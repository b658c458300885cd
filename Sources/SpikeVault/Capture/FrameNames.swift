/// Cleaning of frame names from stack tools (perf, eu-stack, gdb), so flame graphs and diffs
/// compare like with like:
/// - symbol versions are dropped: `clock_nanosleep@GLIBC_2.2.5` → `clock_nanosleep`,
///   `__libc_start_main@@GLIBC_2.34` → `__libc_start_main`;
/// - offsets are dropped: `foo+0x65` → `foo`;
/// - kernel frames get FlameGraph's `_[k]` suffix: `__schedule_[k]`;
/// - `[unknown]` stays only where the tool found no symbol (an address alone becomes it too).
public enum FrameName {
    public static let unknown = "[unknown]"
    public static let kernelSuffix = "_[k]"

    /// - Parameters:
    ///   - symbol: the tool's symbol text (may hold `+0x..` and `@VERSION`).
    ///   - dso: the module perf names in parentheses, when known (`[kernel.kallsyms]`).
    ///   - address: the frame's address text, when known (kernel addresses are in the top half).
    public static func clean(_ symbol: Substring, dso: Substring? = nil, address: Substring? = nil) -> String {
        var s = symbol
        if let r = s.lastRange(of: "+0x"), !s[r.upperBound...].isEmpty,
           s[r.upperBound...].allSatisfy({ $0.isHexDigit }) { s = s[..<r.lowerBound] }
        s = stripVersion(s)
        let kernel = isKernel(dso: dso, address: address)
        if s.isEmpty || s == "[unknown]" || s == "??" || isBareAddress(s) { return unknown }
        return kernel ? String(s) + kernelSuffix : String(s)
    }

    public static func clean(_ symbol: String) -> String { clean(symbol[...]) }

    /// `name@VER` / `name@@VER` where VER is a version-node token (letters, digits, `_`, `.`).
    static func stripVersion(_ s: Substring) -> Substring {
        guard let at = s.firstIndex(of: "@"), at != s.startIndex else { return s }
        var ver = s[s.index(after: at)...]
        if ver.first == "@" { ver = ver.dropFirst() }
        guard let first = ver.first, first.isLetter || first == "_",
              ver.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" || $0 == "." }) else { return s }
        return s[..<at]
    }

    static func isKernel(dso: Substring?, address: Substring?) -> Bool {
        if let d = dso, d.hasPrefix("[kernel.") || d == "[kernel]" { return true }
        if let a = address {
            let hex = a.hasPrefix("0x") ? a.dropFirst(2) : a
            return hex.count == 16 && hex.lowercased().hasPrefix("ffff")
        }
        return false
    }

    static func isBareAddress(_ s: Substring) -> Bool {
        let hex = s.hasPrefix("0x") ? s.dropFirst(2) : s[...]
        return s.hasPrefix("0x") && !hex.isEmpty && hex.allSatisfy { $0.isHexDigit }
    }
}
