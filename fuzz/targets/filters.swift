// Target (c): text a host hands to the review layer: notes JSON (checked by SQLite's JSON1 on
// save), record filters (substring, glob, the pagination key, numeric bounds) run as SQL,
// monitor globs (fnmatch), and redaction of arguments and free text.
@testable import SpikeVault
import SpikeVaultC

private let scratch = fuzzScratchDirectory("filters")
private let vault: OpaquePointer? = {
    var v: OpaquePointer?
    precondition(sv_vault_open(scratch + "/vault", nil, &v) == 0)
    // A few rows for the filters to match against.
    for (i, name) in ["python3", "postgres: writer", "a*b[c]", "naïve\u{1F600}", "x"].enumerated() {
        var r: OpaquePointer?
        _ = sv_record_new(&r)
        _ = sv_record_set_process(r, name)
        _ = sv_record_set_pid(r, Int64(100 + i))
        _ = sv_record_set_trigger(r, Int32(1 + i % 6), Double(i) * 12.5)
        _ = sv_record_set_notes(r, "{\"i\":\(i)}")
        var id: Int64 = 0
        precondition(sv_vault_save(v, r, &id) == 0, String(cString: sv_errmsg()))
        _ = sv_record_free(r)
    }
    return v
}()
private var saved = 0

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    _ = vault
    switch input.pick(6) {
    case 0:
        // Notes: the record is saved only when the JSON is an object (ends in the database).
        var r: OpaquePointer?
        _ = sv_record_new(&r)
        _ = sv_record_set_process(r, "fuzz")
        _ = sv_record_set_pid(r, 1)
        _ = sv_record_set_trigger(r, 1, 1)
        let text = input.rest()
        if withCString(text, { sv_record_set_notes(r, $0) }) == 0 {
            var id: Int64 = 0
            if sv_vault_save(vault, r, &id) == 0 {
                saved += 1
                var c: OpaquePointer?
                if sv_vault_get(vault, id, &c) == 0, sv_cursor_next(c) == 1, let n = sv_cursor_notes(c) { _ = strlen(n) }
                _ = sv_cursor_close(c)
                var s: UnsafeMutablePointer<CChar>?
                if sv_vault_summary(vault, id, 2, 0, &s) == 0 { sv_free(s) }
                if saved % 500 == 0 { var n: Int64 = 0; _ = sv_vault_delete_older_than(vault, Int64.max, &n) }
            }
        }
        _ = sv_record_free(r)
    case 1, 2:
        // A filter of several criteria, counted and iterated.
        var f: OpaquePointer?
        _ = sv_filter_new(&f)
        while !input.atEnd {
            let field = Int32(input.pick(14))
            switch input.pick(3) {
            case 0: _ = sv_filter_set_int(f, field, input.int64())
            case 1: _ = sv_filter_set_double(f, field, input.double())
            default: _ = withCString(input.blob(max: 300)) { sv_filter_set_text(f, field, $0) }
            }
        }
        var n: Int64 = 0
        _ = sv_vault_count(vault, f, &n)
        var c: OpaquePointer?
        if sv_vault_query(vault, f, &c) == 0 {
            while sv_cursor_next(c) == 1 { if let k = sv_cursor_key(c) { _ = strlen(k) } }
        }
        _ = sv_cursor_close(c)
        _ = sv_filter_free(f)
    case 3:
        let pattern = String(decoding: input.blob(max: 200), as: UTF8.self)
        let name = String(decoding: input.rest(), as: UTF8.self)
        _ = try? Glob.validate(pattern)
        _ = ProcessFilter.glob(pattern, name)
        _ = try? RecordKey(token: name)
    case 4:
        let home = String(decoding: input.blob(max: 64), as: UTF8.self)
        let user = String(decoding: input.blob(max: 32), as: UTF8.self)
        let r = Redactor(enabled: true, home: home, user: user)
        var args: [String] = []
        while !input.atEnd && args.count < 16 { args.append(String(decoding: input.blob(max: 128), as: UTF8.self)) }
        let out = r.redact(arguments: args)
        if out.count != args.count { fatalError("redaction changed the argument count") }
        _ = r.redact(text: args.joined(separator: " "))
    default:
        let r = Redactor(enabled: true, home: "/home/fuzz", user: "fuzz")
        let text = String(decoding: input.rest(), as: UTF8.self)
        let once = r.redact(text: text)
        _ = redactFrames(text, r)
        _ = once
    }
    return 0
}
