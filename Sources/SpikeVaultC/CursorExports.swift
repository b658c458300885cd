import SpikeVault
#if canImport(Glibc)
import Glibc
#endif

/// Heap box behind an `sv_cursor *` handle: the current page of records (a streaming
/// `RecordCursor` refills it, a fixed cursor holds its rows from the start) and the C strings
/// of the current row, which live until the next sv_cursor_next or sv_cursor_close.
final class CursorBox: @unchecked Sendable {
    private(set) var records: [ProfileRecord]
    /// Packed rows (sv_vault_recent): read in place instead of `records`, their texts handed
    /// out as pointers into the rows' own block, with no copy per accessor call.
    /// A constant: accessors read it without an exclusivity check.
    let rows: PackedRecords?
    /// `rows?.captures` held here, read without a call into the core per accessor.
    private let captures: [PackedRecords.Capture]
    private let source: RecordCursor?
    private(set) var index = -1
    private var ended = false
    /// The C strings handed out for the current row (see `keep`).
    private var strings = StringArena()
    /// The packed page of the last sv_cursor_next_page (NUL-terminated, malloc'd), owned here.
    private var packed: UnsafeMutablePointer<UInt8>?

    init(_ records: [ProfileRecord]) {
        self.records = records
        self.rows = nil
        self.captures = []
        self.source = nil
    }

    init(rows: PackedRecords) {
        self.records = []
        self.rows = rows
        self.captures = rows.captures
        self.source = nil
    }

    init(streaming source: RecordCursor) {
        self.records = []
        self.rows = nil
        self.captures = []
        self.source = source
    }

    deinit {
        releaseStrings()
        strings.release()
    }

    private func releaseStrings() {
        strings.reset()
        free(packed)
        packed = nil
    }

    /// Moves to the next row, fetching the next page when this one is used up.
    func advance() throws -> Status {
        releaseStrings()
        if ended { return .done }
        index += 1
        if index >= records.count, let source {
            records = []  // the old page goes before the new one is read: memory stays one page
            index = 0
            records = try source.nextPage()
        }
        if index >= rowCount {
            ended = true
            records = []
            index = 0
            return .done
        }
        return .row
    }

    private var rowCount: Int { rows == nil ? records.count : captures.count }

    /// Packed row `r` (from `row()`), nil for a cursor of records.
    func packedCapture(_ r: Int) -> PackedRecords.Capture? { rows == nil ? nil : captures[r] }

    /// The rest of the current page (or the next page) packed as JSON (see
    /// sv_cursor_next_page); nil at the end. The cursor then has no current row.
    func advancePage() throws -> (UnsafeBufferPointer<UInt8>, Int)? {
        guard let rows = try takeRows() else { return nil }
        let bytes = PackedPage.encode(rows)
        guard let p = malloc(bytes.count + 1)?.assumingMemoryBound(to: UInt8.self) else {
            throw SpikeVaultError(.noMemory, "no memory for a packed page of \(bytes.count) bytes")
        }
        bytes.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: bytes.count) }
        p[bytes.count] = 0
        packed = p
        return (UnsafeBufferPointer(start: p, count: bytes.count), rows.count)
    }

    /// The rest of the current page, else the next page; nil at the end. The cursor then has
    /// no current row.
    func takeRows(pageSize: Int? = nil) throws -> [ProfileRecord]? {
        releaseStrings()
        if ended { return nil }
        if let packed = self.rows {  // the rest as records; then no row is left
            let from = index + 1
            index = packed.count
            guard from < packed.count else {
                ended = true
                return nil
            }
            return (from..<packed.count).map { packed.record($0) }
        }
        var rows = index + 1 < records.count ? Array(records[(index + 1)...]) : []
        records = []
        index = -1
        if rows.isEmpty, let source { rows = try source.nextPage(size: pageSize) }
        if rows.isEmpty {
            ended = true
            return nil
        }
        return rows
    }

    /// The index of the current row. Accessors read `records[try row()].field` in place:
    /// copying the whole record out would retain every one of its strings on every call.
    func row() throws -> Int {
        guard !ended && index >= 0 && index < rowCount else {
            throw SpikeVaultError(.invalidArgument, "cursor has no current row (call sv_cursor_next first)")
        }
        return index
    }

    /// The current row and the index of its artefact `i`, checked.
    func artefactIndex(_ i: Int32) throws -> (row: Int, artefact: Int) {
        let r = try row()
        let count = packedCapture(r)?.artefactCount ?? records[r].artefacts.count
        guard i >= 0 && Int(i) < count else {
            throw SpikeVaultError(.invalidArgument, "artefact index \(i) is outside 0..<\(count)")
        }
        return (r, Int(i))
    }

    /// The current row as a value (for the rare accessor that needs all of it).
    var current: ProfileRecord {
        get throws {
            let r = try row()
            return rows?.record(r) ?? records[r]
        }
    }

    /// A C copy of `s` owned by the cursor until it moves.
    func keep(_ s: String) -> UnsafePointer<CChar> { strings.copy(s) }
}

/// A bump allocator for the C strings a cursor hands out for its current row: each accessor
/// call copies its text (NUL-terminated) into a block reused from row to row, instead of a
/// malloc and a free per call. `reset` (the cursor moved) makes every pointer handed out
/// invalid, as the header says; `release` frees the memory.
struct StringArena {
    static let blockSize = 8192
    /// Blocks of `blockSize` bytes, kept across resets; texts too big for a block get their own.
    private var blocks: [UnsafeMutablePointer<CChar>] = []
    private var large: [UnsafeMutablePointer<CChar>] = []
    private var block = 0  // index in `blocks` being filled
    private var used = 0   // bytes used in it

    mutating func copy(_ s: String) -> UnsafePointer<CChar> {
        var text = s
        return text.withUTF8 { bytes in place(bytes) }
    }

    private mutating func place(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafePointer<CChar> {
        let need = bytes.count + 1
        let p: UnsafeMutablePointer<CChar>
        if need > Self.blockSize {
            p = UnsafeMutablePointer<CChar>.allocate(capacity: need)
            large.append(p)
        } else {
            if blocks.isEmpty || used + need > Self.blockSize {
                if !blocks.isEmpty { block += 1 }
                if block == blocks.count { blocks.append(UnsafeMutablePointer<CChar>.allocate(capacity: Self.blockSize)) }
                used = 0
            }
            p = blocks[block] + used
            used += need
        }
        if let base = bytes.baseAddress {
            UnsafeMutableRawPointer(p).copyMemory(from: base, byteCount: bytes.count)
        }
        p[bytes.count] = 0
        return UnsafePointer(p)
    }

    /// Forgets every string handed out; keeps the first block for the next row.
    mutating func reset() {
        large.forEach { $0.deallocate() }
        large.removeAll(keepingCapacity: true)
        while blocks.count > 1 { blocks.removeLast().deallocate() }
        block = 0
        used = 0
    }

    mutating func release() {
        reset()
        blocks.forEach { $0.deallocate() }
        blocks.removeAll()
    }
}

private func cursorValue<T>(_ cursor: OpaquePointer?, _ fallback: T, _ body: (CursorBox) throws -> T) -> T {
    guardedValue(fallback) { try body(try Handles.shared.lookup(cursor, as: CursorBox.self, "cursor")) }
}

/// Moves the cursor to its next row: SV_ROW when one is available, SV_DONE at the end (and on
/// every later call). Strings returned by accessors for the previous row become invalid.
/// Use one cursor from one thread at a time.
@c(sv_cursor_next)
public func sv_cursor_next(_ cursor: OpaquePointer?) -> Int32 {
    var result = Status.done
    let status = guarded { result = try Handles.shared.lookup(cursor, as: CursorBox.self, "cursor").advance() }
    return status == sv_status.ok.rawValue ? sv_status(result).rawValue : status
}

/// Moves the cursor over a whole page of rows at once (the rest of the current page, else the
/// next one): SV_ROW with *out_json pointing at a NUL-terminated UTF-8 JSON array (the format
/// is in docs/streaming.md: one positional array per capture), *out_len its length in bytes
/// and *out_rows (may be NULL) the number of captures in it; SV_DONE at the end, with
/// *out_json NULL. The text belongs to the cursor: valid until the next sv_cursor_next,
/// sv_cursor_next_page or sv_cursor_close. Afterwards the cursor has no current row for the
/// single-row accessors. For bindings that pay per foreign call (ctypes). One thread at a time.
@c(sv_cursor_next_page)
public func sv_cursor_next_page(_ cursor: OpaquePointer?, _ out_json: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                                _ out_len: UnsafeMutablePointer<UInt>?, _ out_rows: UnsafeMutablePointer<Int32>?) -> Int32 {
    var result = Status.done
    let status = guarded {
        let out = try requireOut(out_json, "out_json")
        let len = try requireOut(out_len, "out_len")
        out.pointee = nil
        len.pointee = 0
        out_rows?.pointee = 0
        let box = try Handles.shared.lookup(cursor, as: CursorBox.self, "cursor")
        guard let (page, rows) = try box.advancePage() else { return }
        out.pointee = UnsafeRawPointer(page.baseAddress!).assumingMemoryBound(to: CChar.self)
        len.pointee = UInt(page.count)
        out_rows?.pointee = Int32(clamping: rows)
        result = .row
    }
    return status == sv_status.ok.rawValue ? sv_status(result).rawValue : status
}

/// Writes the cursor's remaining rows to the open descriptor `fd` as the table `spikevault list`
/// prints to a pipe or file (header first, columns aligned per block of 1,000 rows, hostile text
/// escaped; docs/streaming.md), streaming page by page, and sets *out_rows (may be NULL) to the
/// number of rows written (0: nothing is written, not even the header). `now_us` (microseconds
/// since the epoch) is the instant relative times ("5 min ago") are measured from. `fd` stays
/// the caller's: it is neither closed nor synced. SV_ERR_INVALID_ARGUMENT for a negative or
/// closed descriptor, SV_ERR_IO (or the errno's status) when a write fails (EPIPE: the reader
/// left; rows written before stay written), SV_ERR_CLOSED when the cursor or its vault is closed.
/// Afterwards the cursor has no current row. One thread at a time per cursor.
@c(sv_cursor_write_list)
public func sv_cursor_write_list(_ cursor: OpaquePointer?, _ fd: Int32, _ now_us: Int64,
                                 _ out_rows: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        out_rows?.pointee = 0
        let box = try Handles.shared.lookup(cursor, as: CursorBox.self, "cursor")
        guard fd >= 0, fcntl(fd, F_GETFL) >= 0 else {
            throw SpikeVaultError(.invalidArgument, "fd \(fd) is not an open file descriptor")
        }
        var table = ListTable(fd: fd, nowMicros: now_us)
        defer { out_rows?.pointee = table.rows }
        // The next page is read on a worker thread while this one formats and writes the last
        // (the cursor is the worker's alone until run returns: this thread only waits on it).
        try Prefetch<[ProfileRecord]>.run(produce: { emit in
            while let rows = try box.takeRows(pageSize: ListTable.blockRows) { if !emit(rows) { return } }
        }, consume: { try table.add($0) })
        try table.finish()
    }
}

/// Closes a cursor and frees the strings it handed out. NULL is a no-op (SV_OK); closing twice
/// gives SV_ERR_CLOSED.
@c(sv_cursor_close)
public func sv_cursor_close(_ cursor: OpaquePointer?) -> Int32 {
    guarded { _ = try Handles.shared.remove(cursor, as: CursorBox.self, "cursor") }
}

/// The current row's capture id; 0 when there is no current row or the cursor is invalid
/// (sv_errmsg says why). The same convention holds for every accessor: 0, -1 or NULL on misuse.
@c(sv_cursor_id)
public func sv_cursor_id(_ cursor: OpaquePointer?) -> Int64 {
    cursorValue(cursor, 0) { c in let r = try c.row(); return c.packedCapture(r)?.id ?? c.records[r].id }
}

/// The current row's process name (UTF-8). Owned by the cursor: valid until the next
/// sv_cursor_next or sv_cursor_close. NULL on misuse.
@c(sv_cursor_process_name)
public func sv_cursor_process_name(_ cursor: OpaquePointer?) -> UnsafePointer<CChar>? {
    cursorValue(cursor, nil) { c in
        let r = try c.row()
        return c.rows?.processName(r) ?? c.keep(c.records[r].processName)
    }
}

/// The current row's process id; 0 on misuse.
@c(sv_cursor_pid)
public func sv_cursor_pid(_ cursor: OpaquePointer?) -> Int64 {
    cursorValue(cursor, 0) { c in let r = try c.row(); return Int64(c.packedCapture(r)?.pid ?? c.records[r].pid) }
}

/// The current row's trigger metric (an SV_METRIC_* value); 0 on misuse.
@c(sv_cursor_metric)
public func sv_cursor_metric(_ cursor: OpaquePointer?) -> Int32 {
    cursorValue(cursor, 0) { c in
        let r = try c.row()
        return sv_metric.number(c.packedCapture(r)?.triggerMetric ?? c.records[r].triggerMetric)
    }
}

/// The current row's trigger value; 0 on misuse.
@c(sv_cursor_trigger_value)
public func sv_cursor_trigger_value(_ cursor: OpaquePointer?) -> Double {
    cursorValue(cursor, 0) { c in let r = try c.row(); return c.packedCapture(r)?.triggerValue ?? c.records[r].triggerValue }
}

/// The current row's capture time in milliseconds since the Unix epoch, UTC; 0 on misuse.
@c(sv_cursor_captured_at)
public func sv_cursor_captured_at(_ cursor: OpaquePointer?) -> Int64 {
    cursorValue(cursor, 0) { c in
        let r = try c.row()
        return (c.packedCapture(r)?.capturedAt ?? c.records[r].capturedAt).milliseconds
    }
}

/// The current row's capture duration in seconds; 0 on misuse.
@c(sv_cursor_duration)
public func sv_cursor_duration(_ cursor: OpaquePointer?) -> Double {
    cursorValue(cursor, 0) { c in let r = try c.row(); return c.packedCapture(r)?.durationSeconds ?? c.records[r].durationSeconds }
}

/// The current row's notes, a JSON object as UTF-8 text. Owned by the cursor: valid until the
/// next sv_cursor_next or sv_cursor_close. NULL on misuse.
@c(sv_cursor_notes)
public func sv_cursor_notes(_ cursor: OpaquePointer?) -> UnsafePointer<CChar>? {
    cursorValue(cursor, nil) { c in
        let r = try c.row()
        return c.rows?.notes(r) ?? c.keep(c.records[r].notes)
    }
}

/// The current row's status (an SV_CAPTURE_* value); 0 on misuse.
@c(sv_cursor_status)
public func sv_cursor_status(_ cursor: OpaquePointer?) -> Int32 {
    cursorValue(cursor, 0) { c in
        let r = try c.row()
        return sv_capture_status.number(c.packedCapture(r)?.status ?? c.records[r].status)
    }
}

/// The current row's process start time in clock ticks since boot; -1 when unknown or on misuse.
@c(sv_cursor_process_start_time)
public func sv_cursor_process_start_time(_ cursor: OpaquePointer?) -> Int64 {
    cursorValue(cursor, -1) { c in
        let r = try c.row()
        if let p = c.packedCapture(r) { return p.processStartTime ?? -1 }
        return c.records[r].processStartTime ?? -1
    }
}

/// The number of artefacts of the current row; -1 on misuse.
@c(sv_cursor_artefact_count)
public func sv_cursor_artefact_count(_ cursor: OpaquePointer?) -> Int32 {
    cursorValue(cursor, -1) { c in
        let r = try c.row()
        return Int32(clamping: c.packedCapture(r)?.artefactCount ?? c.records[r].artefacts.count)
    }
}

/// The kind of artefact `index` (0-based) of the current row. Owned by the cursor: valid
/// until the next sv_cursor_next or sv_cursor_close. NULL on misuse or a bad index.
@c(sv_cursor_artefact_kind)
public func sv_cursor_artefact_kind(_ cursor: OpaquePointer?, _ index: Int32) -> UnsafePointer<CChar>? {
    cursorValue(cursor, nil) { c in
        let (r, a) = try c.artefactIndex(index)
        return c.rows?.artefactKind(r, a) ?? c.keep(c.records[r].artefacts[a].kind)
    }
}

/// The file name of artefact `index`, relative to the vault's artefacts/ directory. Owned by
/// the cursor: valid until the next sv_cursor_next or sv_cursor_close. NULL on misuse.
@c(sv_cursor_artefact_path)
public func sv_cursor_artefact_path(_ cursor: OpaquePointer?, _ index: Int32) -> UnsafePointer<CChar>? {
    cursorValue(cursor, nil) { c in
        let (r, a) = try c.artefactIndex(index)
        return c.rows?.artefactPath(r, a) ?? c.keep(c.records[r].artefacts[a].path)
    }
}

/// The checksum of artefact `index` ("xxh64:" and 16 hex digits, over the raw bytes). Owned by
/// the cursor: valid until the next sv_cursor_next or sv_cursor_close. NULL on misuse.
@c(sv_cursor_artefact_checksum)
public func sv_cursor_artefact_checksum(_ cursor: OpaquePointer?, _ index: Int32) -> UnsafePointer<CChar>? {
    cursorValue(cursor, nil) { c in
        let (r, a) = try c.artefactIndex(index)
        return c.rows?.artefactChecksum(r, a) ?? c.keep(c.records[r].artefacts[a].checksum)
    }
}

/// The uncompressed size in bytes of artefact `index`; -1 on misuse.
@c(sv_cursor_artefact_raw_bytes)
public func sv_cursor_artefact_raw_bytes(_ cursor: OpaquePointer?, _ index: Int32) -> Int64 {
    cursorValue(cursor, -1) { c in
        let (r, a) = try c.artefactIndex(index)
        return c.rows?.artefactRawBytes(r, a) ?? c.records[r].artefacts[a].rawBytes
    }
}

/// The compressed size in bytes of artefact `index` as stored; -1 on misuse.
@c(sv_cursor_artefact_stored_bytes)
public func sv_cursor_artefact_stored_bytes(_ cursor: OpaquePointer?, _ index: Int32) -> Int64 {
    cursorValue(cursor, -1) { c in
        let (r, a) = try c.artefactIndex(index)
        return c.rows?.artefactStoredBytes(r, a) ?? c.records[r].artefacts[a].storedBytes
    }
}
