/// Substring search on UTF-8 bytes. The standard library's `contains(_:)`/`firstRange(of:)`
/// for strings live in _StringProcessing, which drags the regex engine (about 1 MB) into the
/// shared library; these do the plain byte search the parsers need.
extension StringProtocol {
    /// The range of the first occurrence of `needle`, or nil.
    func range(ofText needle: String) -> Range<Index>? {
        let hay = Array(utf8), pat = Array(needle.utf8)
        guard !pat.isEmpty, pat.count <= hay.count else { return pat.isEmpty ? startIndex..<startIndex : nil }
        var i = 0
        while i + pat.count <= hay.count {
            if hay[i] == pat[0] && hay[i..<(i + pat.count)].elementsEqual(pat) {
                let lower = utf8.index(utf8.startIndex, offsetBy: i)
                let upper = utf8.index(lower, offsetBy: pat.count)
                return lower..<upper
            }
            i += 1
        }
        return nil
    }

    func containsText(_ needle: String) -> Bool { range(ofText: needle) != nil }
}
