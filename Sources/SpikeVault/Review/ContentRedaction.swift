/// Redaction of an artefact's *contents*, for outputs meant to leave the machine (bundles,
/// exported stacks): a procfs document carries the process's command line, a perf script its
/// paths, a folded stack frames with home directories, a command's output anything at all.
///
/// By kind: `*.json` has every string value redacted (argument arrays as argument vectors);
/// `*.folded` each frame of each stack; anything else line by line as free text. Content that
/// is not UTF-8 text (a NUL byte or invalid UTF-8) cannot be redacted reliably and is
/// withheld: a redacted output never carries bytes it could not inspect.
enum ContentRedaction {
    enum Outcome: Equatable {
        case redacted([UInt8])
        case withheld(reason: String)
    }

    static func redact(_ bytes: [UInt8], kind: String, redactor: Redactor, scratch: Database) throws -> Outcome {
        guard redactor.enabled else { return .redacted(bytes) }
        guard !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) else {
            return .withheld(reason: "binary content (not UTF-8 text) cannot be redacted; export with redaction off to include it")
        }
        if kind.hasSuffix(".json"), let doc = try? JSONRedaction.redact(scratch, text, redactor) {
            return .redacted(Array(doc.utf8))
        }
        // A key block spans lines, which per-line folded redaction cannot see: whole text then.
        if kind.hasSuffix(".folded") && !text.containsText("-----BEGIN") {
            return .redacted(Array(redactFolded(text, redactor).utf8))
        }
        return .redacted(Array(redactor.redact(text: text).utf8))
    }

    /// `frame;frame;… count` lines: each frame redacted as an argument (see `redactFrames`).
    static func redactFolded(_ text: String, _ redactor: Redactor) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let space = line.lastIndex(of: " "), line[line.index(after: space)...].allSatisfy(\.isNumber) {
                out += redactFrames(String(line[..<space]), redactor).joined(separator: ";")
                out += line[space...]
            } else {
                out += redactor.redact(text: String(line))
            }
            out += "\n"
        }
        if !text.hasSuffix("\n") { out.removeLast() }
        return out
    }
}
