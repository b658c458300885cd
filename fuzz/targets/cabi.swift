// Target (b): the C ABI driven by a byte stream. Each step picks an export of SpikeVaultC and
// its arguments: NULL, live, stale (freed), wrong-type and forged handles; NULL, empty, huge
// and non-UTF-8 strings; out-of-range numbers, NaN and bad enum values; NULL out-pointers.
// The contract under test (DESIGN.md): no C input reaches a Swift trap or a memory error;
// every call returns a status. Calls that would start real work on real processes (captures
// of live pids, monitors' threads, DuckDB) are only given pids that cannot exist.
import SpikeVaultC
#if canImport(Glibc)
import Glibc
#endif

private func withOptCString<R>(_ s: [UInt8]?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let s else { return body(nil) }
    return withCString(s) { body($0) }
}

private let scratch = fuzzScratchDirectory("cabi")
private let vault: OpaquePointer? = {
    var v: OpaquePointer?
    let s = sv_vault_open(scratch + "/vault", nil, &v)
    precondition(s == 0, "sv_vault_open: \(String(cString: sv_errmsg()))")
    return v
}()
private var runs = 0
// Out-parameters live on the heap so a step can pass either them or NULL.
private let p_h = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 1)
private let p_i64 = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
private let p_i64b = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
private let p_i32 = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
private let p_double = UnsafeMutablePointer<Double>.allocate(capacity: 1)
private let p_outText = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: 1)
private let p_data = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)

/// Handles made by this input; freed ones stay in the pool as stale handles.
private struct Pool {
    var items: [OpaquePointer?] = []
    var vaults: [OpaquePointer?] = []   // vaults opened by this input (closed at the end)
}

private let strings: [[UInt8]] = [
    [], Array("cpu".utf8), Array("{}".utf8), Array("{\"a\":[1,2,{\"b\":null}]}".utf8), Array("[1]".utf8),
    Array("stacks.folded".utf8), Array("a*[b-".utf8), Array("0:0000000000000000:1".utf8), [0xFF, 0xFE, 0x80],
    Array(repeating: UInt8(ascii: "A"), count: 70_000),
]

private struct Driver {
    var input: FuzzInput
    var pool = Pool()

    mutating func handle() -> OpaquePointer? {
        switch input.pick(8) {
        case 0: return nil
        case 1: return vault
        case 2: return OpaquePointer(bitPattern: UInt(input.u64() | 1))  // forged (often with the tag bits)
        case 3: return OpaquePointer(bitPattern: UInt(input.u32()) << 32 | 5)  // tag right, slot out of range
        default:
            guard !pool.items.isEmpty else { return vault }
            return pool.items[input.pick(pool.items.count)]
        }
    }
    mutating func string() -> [UInt8]? {
        switch input.pick(6) {
        case 0: return nil
        case 1: return strings[input.pick(strings.count)]
        default: return input.blob(max: 512)
        }
    }
    mutating func path() -> [UInt8]? {
        switch input.pick(8) {
        case 0: return nil
        case 1: return []
        case 2: return Array((scratch + "/nodir/out").utf8)
        case 3: return Array((scratch + "/" + String(repeating: "n", count: 300)).utf8)
        case 4: return Array((scratch + "/vault").utf8)
        case 5: return Array(scratch.utf8) + [0x2F, 0xFF, 0xFE]
        default: return Array((scratch + "/out\(input.pick(3))").utf8)
        }
    }
    mutating func enumValue() -> Int32 { input.pick(4) == 0 ? Int32(truncatingIfNeeded: input.int64()) : Int32(input.pick(18)) - 2 }
    /// A pid that is never a live process (captures must fail before running anything).
    mutating func deadPID() -> Int64 { let p = input.int64(); return p > 0 && p < 0x40_0000 ? 0x7FFF_FFF0 : p }
    mutating func keep(_ s: Int32, _ h: OpaquePointer?) { if s == 0, let h = p_h.pointee { pool.items.append(h) } }
    func touch(_ p: UnsafePointer<CChar>?) { if let p { _ = strlen(p) } }

    mutating func step() {
        var i64: Int64 = 0, i64c: Int64 = 0
        p_h.pointee = nil; p_outText.pointee = nil; p_data.pointee = nil
        let nullOut = input.pick(10) == 0
        switch input.pick(48) {
        case 0: _ = sv_options_new(nullOut ? nil : p_h); keep(0, p_h.pointee)
        case 1: _ = sv_options_set_int(handle(), enumValue(), input.int64())
        case 2: _ = sv_options_get_int(handle(), enumValue(), nullOut ? nil : p_i64)
        case 3: _ = sv_option_bounds(enumValue(), &i64, nullOut ? nil : p_i64b, &i64c)
        case 4:
            let opts = handle()
            let s = withOptCString(path()) { sv_vault_open($0, opts, nullOut ? nil : p_h) }
            if s == 0, let h = p_h.pointee { pool.vaults.append(h); pool.items.append(h) }
        case 5: if let h = handle(), h != vault { _ = sv_vault_close(h) } else { _ = sv_vault_close(nil) }
        case 6: let s = sv_record_new(nullOut ? nil : p_h); keep(s, p_h.pointee)
        case 7: _ = withOptCString(string()) { sv_record_set_process(handle(), $0) }
        case 8: _ = sv_record_set_pid(handle(), input.int64())
        case 9: _ = sv_record_set_trigger(handle(), enumValue(), input.double())
        case 10: _ = sv_record_set_captured_at(handle(), input.int64())
        case 11: _ = sv_record_set_duration(handle(), input.double())
        case 12: _ = withOptCString(string()) { sv_record_set_notes(handle(), $0) }
        case 13: _ = sv_record_set_process_start_time(handle(), input.int64())
        case 14:
            let r = handle()
            _ = withOptCString(string()) { kind in withOptCString(path()) { sv_record_add_artefact_file(r, kind, $0) } }
        case 15:
            let r = handle()
            let data = input.blob(max: 4096)
            let huge = input.pick(4) == 0
            _ = withOptCString(string()) { kind in
                data.withUnsafeBytes { b in
                    // A huge size only with a NULL pointer: a real pointer with a wrong size is
                    // the host's bug, not something a library can detect.
                    huge ? sv_record_add_artefact_buffer(r, kind, nil, UInt(input.u64())) :
                           sv_record_add_artefact_buffer(r, kind, b.baseAddress, UInt(b.count))
                }
            }
        case 16: _ = sv_vault_save(handle(), handle(), nullOut ? nil : p_i64)
        case 17: let s = sv_vault_get(handle(), input.int64(), nullOut ? nil : p_h); keep(s, p_h.pointee)
        case 18: let s = sv_vault_recent(handle(), input.int64(), nullOut ? nil : p_h); keep(s, p_h.pointee)
        case 19: _ = sv_vault_delete_older_than(handle(), input.int64(), nullOut ? nil : p_i64)
        case 20:
            var size: UInt = 0
            let v = handle(), id = input.int64()
            let s = withOptCString(string()) { sv_vault_read_artefact(v, id, $0, nullOut ? nil : p_data, &size) }
            if s == 0, let data = p_data.pointee { _ = UnsafeRawBufferPointer(start: data, count: Int(size)).reduce(0, &+); sv_free(data) }
        case 21:
            let v = handle(), id = input.int64()
            _ = withOptCString(string()) { kind in withOptCString(path()) { sv_vault_export_artefact(v, id, kind, $0) } }
        case 22:
            let v = handle(), id = input.int64()
            let s = withOptCString(string()) { sv_vault_artefact_path(v, id, $0, nullOut ? nil : p_outText) }
            if s == 0, let outText = p_outText.pointee { touch(outText); sv_free(outText) }
        case 23: let s = sv_vault_maintain(handle(), nullOut ? nil : p_h); keep(s, p_h.pointee)
        case 24: _ = sv_vault_footprint(handle(), nullOut ? nil : p_i64)
        case 25: _ = sv_report_get_int(handle(), enumValue(), nullOut ? nil : p_i64)
        case 26: _ = [sv_options_free, sv_record_free, sv_report_free, sv_cursor_close, sv_request_free,
                      sv_filter_free, sv_rule_free, sv_monitor_free, sv_job_free, sv_sampler_free][input.pick(10)](handle())
        case 27:
            let c = handle()
            let s = sv_cursor_next(c)
            if s == 1 || input.pick(3) == 0 {
                _ = (sv_cursor_id(c), sv_cursor_pid(c), sv_cursor_metric(c), sv_cursor_trigger_value(c),
                     sv_cursor_captured_at(c), sv_cursor_duration(c), sv_cursor_status(c), sv_cursor_process_start_time(c))
                touch(sv_cursor_process_name(c)); touch(sv_cursor_notes(c)); touch(sv_cursor_key(c))
                let n = sv_cursor_artefact_count(c)
                for k in [Int32(-1), 0, n - 1, n, Int32.max, Int32.min] {
                    touch(sv_cursor_artefact_kind(c, k)); touch(sv_cursor_artefact_path(c, k))
                    touch(sv_cursor_artefact_checksum(c, k))
                    _ = (sv_cursor_artefact_raw_bytes(c, k), sv_cursor_artefact_stored_bytes(c, k))
                }
            }
        case 28: let s = sv_request_new(nullOut ? nil : p_h); keep(s, p_h.pointee)
        case 29: _ = sv_request_set_pid(handle(), deadPID())
        case 30:
            let r = handle()
            switch input.pick(5) {
            case 0: _ = sv_request_set_trigger(r, enumValue(), input.double())
            case 1: _ = sv_request_set_duration(r, input.double())
            case 2: _ = sv_request_set_interval(r, input.double())
            case 3: _ = sv_request_set_backend(r, enumValue())
            default: _ = sv_request_set_perf_frequency(r, input.int64())
            }
        case 31:
            let r = handle()
            let n = input.pick(4)
            let args = (0..<n).map { _ in string() }
            let argc = input.pick(4) == 0 ? UInt(input.u64()) : UInt(n)
            var cstrs: [UnsafeMutablePointer<CChar>?] = args.map { a in a.map { b in strdup(b.map { $0 == 0 ? 1 : $0 }.map { Character(UnicodeScalar($0)) }.map(String.init).joined()) } ?? nil }
            if argc <= UInt(n) { _ = cstrs.withUnsafeBufferPointer { b in b.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: n) { sv_request_set_command(r, n == 0 ? nil : $0, argc) } } }
            else { _ = sv_request_set_command(r, nil, argc) }
            for p in cstrs { free(p) }
            cstrs.removeAll()
        case 32:
            if input.pick(2) == 0 { _ = withOptCString(string()) { sv_request_set_notes(handle(), $0) } }
            else { _ = withOptCString(string()) { sv_request_set_collectors(handle(), $0) } }
        case 33: _ = sv_capture_run(handle(), handle(), nullOut ? nil : p_i64)
        case 34:
            let s = sv_capture_start(handle(), handle(), nil, nil, nullOut ? nil : p_h)
            if s == 0, let h = p_h.pointee { _ = sv_job_wait(h, 5000, &i64); _ = sv_job_cancel(h); _ = sv_job_free(h) }
        case 35: _ = sv_job_wait(handle(), input.int64(), &i64); _ = sv_job_cancel(handle())
        case 36: let s = sv_filter_new(nullOut ? nil : p_h); keep(s, p_h.pointee)
        case 37:
            let f = handle()
            switch input.pick(4) {
            case 0: _ = sv_filter_set_int(f, enumValue(), input.int64())
            case 1: _ = sv_filter_set_double(f, enumValue(), input.double())
            case 2: let field = enumValue(); _ = withOptCString(string()) { sv_filter_set_text(f, field, $0) }
            default: _ = sv_filter_clear(f, enumValue())
            }
        case 38: let s = sv_vault_query(handle(), handle(), nullOut ? nil : p_h); keep(s, p_h.pointee)
        case 39: _ = sv_vault_count(handle(), handle(), nullOut ? nil : p_i64)
        case 40:
            let s = sv_vault_summary(handle(), input.int64(), enumValue(), Int32(truncatingIfNeeded: input.int64()), nullOut ? nil : p_outText)
            if s == 0, let outText = p_outText.pointee { touch(outText); sv_free(outText) }
        case 41:
            let v = handle(), id = input.int64(), fmt = enumValue(), flags = Int32(input.pick(8)) - 1
            if input.pick(2) == 0 { _ = withOptCString(string()) { kind in withOptCString(path()) { sv_vault_export_stacks(v, id, kind, fmt, $0, flags) } } }
            else { let f = handle(); _ = withOptCString(path()) { sv_vault_export_records(v, f, fmt, $0, flags, nullOut ? nil : p_i64) } }
        case 42:
            let s = sv_vault_analytics(handle(), enumValue(), input.int64(), input.int64(), nullOut ? nil : p_outText)
            if s == 0, let outText = p_outText.pointee { touch(outText); sv_free(outText) }
        case 43:
            let s = sv_rule_new(enumValue(), input.double(), nullOut ? nil : p_h); keep(s, p_h.pointee)
        case 44:
            let r = handle()
            switch input.pick(9) {
            case 0: _ = sv_rule_set_below(r, Int32(truncatingIfNeeded: input.int64()))
            case 1: _ = sv_rule_set_sustain(r, input.double())
            case 2: _ = sv_rule_set_cooldown(r, input.double())
            case 3: _ = withOptCString(string()) { sv_rule_add_include(r, $0) }
            case 4: _ = withOptCString(string()) { sv_rule_add_exclude(r, $0) }
            case 5: _ = sv_rule_add_uid(r, input.int64())
            case 6: _ = sv_rule_set_capture(r, enumValue(), input.double())
            case 7: _ = sv_rule_set_notify_only(r, Int32(truncatingIfNeeded: input.int64()))
            default: _ = sv_monitor_new(handle(), nullOut ? nil : p_h); keep(0, p_h.pointee)
            }
        case 46:  // background writes (#13): a job handle or none, then wait/cancel/free
            let out = nullOut ? nil : p_h
            let s: Int32
            switch input.pick(3) {
            case 0: s = sv_vault_save_start(handle(), handle(), nil, nil, out)
            case 1: s = sv_vault_purge_start(handle(), input.int64(), nil, nil, out)
            default: s = sv_vault_maintain_start(handle(), nil, nil, out)
            }
            if s == 0, let h = p_h.pointee { _ = sv_job_wait(h, 5000, &i64); _ = sv_job_cancel(h); _ = sv_job_free(h) }
        case 47:  // the sampler's rows (sv_sampler_*): a real /proc pass, then rows in and out of range
            switch input.pick(3) {
            case 0: let s = sv_sampler_new(nullOut ? nil : p_h); keep(s, p_h.pointee)
            case 1: _ = sv_sampler_refresh(handle(), nullOut ? nil : p_i64)
            default:
                let h = handle(), row = input.pick(2) == 0 ? input.int64() : Int64(input.pick(8)) - 1
                _ = sv_sampler_row_process(h, row, nullOut ? nil : p_i64, p_i64b, nullOut ? nil : p_i64, p_i32)
                _ = sv_sampler_row_value(h, row, enumValue(), nullOut ? nil : p_double)
                touch(sv_sampler_row_name(h, row))
            }
        default:
            let m = handle()
            switch input.pick(8) {
            case 0: _ = sv_monitor_set_interval(m, input.double())
            case 1: _ = sv_monitor_set_max_per_hour(m, input.int64())
            case 2: _ = sv_monitor_set_sampling(m, Int32(truncatingIfNeeded: input.int64()))
            case 3: _ = sv_monitor_add_rule(m, handle(), nullOut ? nil : p_i32)
            case 4: _ = sv_monitor_add_default_rules(m)
            case 5: _ = sv_monitor_observe(m, deadPID(), enumValue(), input.double(), input.int64())
            case 6:
                let n = input.pick(5)
                var pids = (0..<n).map { _ in deadPID() }, metrics = (0..<n).map { _ in enumValue() }
                var values = (0..<n).map { _ in input.double() }, times = (0..<n).map { _ in input.int64() }
                if input.pick(3) == 0 { _ = sv_monitor_observe_batch(m, nil, nil, nil, nil, UInt(input.u64())) }
                else { _ = sv_monitor_observe_batch(m, &pids, &metrics, &values, &times, UInt(n)) }
            default: _ = sv_monitor_get_counter(m, enumValue(), nullOut ? nil : p_i64)
            }
        }
        touch(sv_errmsg())
        _ = sv_status_string(enumValue())
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var d = Driver(input: FuzzInput(data, size))
    var steps = 0
    while !d.input.atEnd && steps < 64 { d.step(); steps += 1 }
    // Free everything this input made (stale entries just give SV_ERR_CLOSED / wrong type).
    for h in d.pool.items.reversed() {
        _ = sv_cursor_close(h); _ = sv_report_free(h); _ = sv_record_free(h); _ = sv_options_free(h)
        _ = sv_request_free(h); _ = sv_filter_free(h); _ = sv_rule_free(h); _ = sv_monitor_free(h); _ = sv_job_free(h)
        _ = sv_sampler_free(h)
    }
    for v in d.pool.vaults { _ = sv_vault_close(v) }
    runs += 1
    if runs % 2000 == 0 { var n: Int64 = 0; _ = sv_vault_delete_older_than(vault, Int64.max, &n) }
    return 0
}
