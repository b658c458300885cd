import SpikeVault
#if canImport(Glibc)
import Glibc
#endif

/// Heap box behind an `sv_cursor *` handle: the current page of records (a streaming
/// `RecordCursor` refills it, a fixed cursor holds its rows from the start) and the C strings
/// of the current row, which live until the next sv_cursor_next or sv_cursor_close.
final class CursorBox: @unchecked Sendable {
    private(set) var records: [ProfileRecord]
    private let source: RecordCursor?
    private(set) var index = -1
    private var ended = false
    private var strings: [UnsafeMutablePointer<CChar>] = []
    /// The packed page of the last sv_cursor_next_page (NUL-terminated, malloc'd), owned here.
    private var packed: UnsafeMutablePointer<UInt8>?

    init(_ records: [ProfileRecord]) {
        self.records = records
        self.source = nil
    }

    init(streaming source: RecordCursor) {
        self.records = []
        self.source = source
    }

    deinit { releaseStrings() }

    private func releaseStrings() {
        strings.forEach { free($0) }
        strings.removeAll()
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
        if index >= records.count {
            ended = true
            records = []
            index = 0
            return .done
        }
        return .row
    }

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
        guard !ended && index >= 0 && index < records.count else {
            throw SpikeVaultError(.invalidArgument, "cursor has no current row (call sv_cursor_next first)")
        }
        return index
    }

    /// The current row and the index of its artefact `i`, checked.
    func artefactIndex(_ i: Int32) throws -> (row: Int, artefact: Int) {
        let r = try row()
        let count = records[r].artefacts.count
        guard i >= 0 && Int(i) < count else {
            throw SpikeVaultError(.invalidArgument, "artefact index \(i) is outside 0..<\(count)")
        }
        return (r, Int(i))
    }

    /// The current row as a value (for the rare accessor that needs all of it).
    var current: ProfileRecord { get throws { records[try row()] } }

    /// A C copy of `s` owned by the cursor until it moves.
    func keep(_ s: String) -> UnsafePointer<CChar> {
        let p = strdup(s)!
        strings.append(p)
        return UnsafePointer(p)
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
public func sv_cursor_id(_ cursor: OpaquePointer?) -> Int64 { cursorValue(cursor, 0) { $0.records[try $0.row()].id } }

/// The current row's process name (UTF-8). Owned by the cursor: valid until the next
/// sv_cursor_next or sv_cursor_close. NULL on misuse.
@c(sv_cursor_process_name)
public func sv_cursor_process_name(_ cursor: OpaquePointer?) -> UnsafePointer<CChar>? {
    cursorValue(cursor, nil) { c in c.keep(c.records[try c.row()].processName) }
}

/// The current row's process id; 0 on misuse.
@c(sv_cursor_pid)
public func sv_cursor_pid(_ cursor: OpaquePointer?) -> Int64 { cursorValue(cursor, 0) { Int64($0.records[try $0.row()].pid) } }

/// The current row's trigger metric (an SV_METRIC_* value); 0 on misuse.
@c(sv_cursor_metric)
public func sv_cursor_metric(_ cursor: OpaquePointer?) -> Int32 {
    cursorValue(cursor, 0) { sv_metric.number($0.records[try $0.row()].triggerMetric) }
}

/// The current row's trigger value; 0 on misuse.
@c(sv_cursor_trigger_value)
public func sv_cursor_trigger_value(_ cursor: OpaquePointer?) -> Double { cursorValue(cursor, 0) { $0.records[try $0.row()].triggerValue } }

/// The current row's capture time in milliseconds since the Unix epoch, UTC; 0 on misuse.
@c(sv_cursor_captured_at)
public func sv_cursor_captured_at(_ cursor: OpaquePointer?) -> Int64 {
    cursorValue(cursor, 0) { $0.records[try $0.row()].capturedAt.milliseconds }
}

/// The current row's capture duration in seconds; 0 on misuse.
@c(sv_cursor_duration)
public func sv_cursor_duration(_ cursor: OpaquePointer?) -> Double { cursorValue(cursor, 0) { $0.records[try $0.row()].durationSeconds } }

/// The current row's notes, a JSON object as UTF-8 text. Owned by the cursor: valid until the
/// next sv_cursor_next or sv_cursor_close. NULL on misuse.
@c(sv_cursor_notes)
public func sv_cursor_notes(_ cursor: OpaquePointer?) -> UnsafePointer<CChar>? {
    cursorValue(cursor, nil) { c in c.keep(c.records[try c.row()].notes) }
}

/// The current row's status (an SV_CAPTURE_* value); 0 on misuse.
@c(sv_cursor_status)
public func sv_cursor_status(_ cursor: OpaquePointer?) -> Int32 {
    cursorValue(cursor, 0) { sv_capture_status.number($0.records[try $0.row()].status) }
}

/// The current row's process start time in clock ticks since boot; -1 when unknown or on misuse.
@c(sv_cursor_process_start_time)
public func sv_cursor_process_start_time(_ cursor: OpaquePointer?) -> Int64 {
    cursorValue(cursor, -1) { $0.records[try $0.row()].processStartTime ?? -1 }
}

/// The number of artefacts of the current row; -1 on misuse.
@c(sv_cursor_artefact_count)
public func sv_cursor_artefact_count(_ cursor: OpaquePointer?) -> Int32 {
    cursorValue(cursor, -1) { Int32(clamping: $0.records[try $0.row()].artefacts.count) }
}

/// The kind of artefact `index` (0-based) of the current row. Owned by the cursor: valid
/// until the next sv_cursor_next or sv_cursor_close. NULL on misuse or a bad index.
@c(sv_cursor_artefact_kind)
public func sv_cursor_artefact_kind(_ cursor: OpaquePointer?, _ index: Int32) -> UnsafePointer<CChar>? {
    cursorValue(cursor, nil) { c in
        let (r, a) = try c.artefactIndex(index)
        return c.keep(c.records[r].artefacts[a].kind)
    }
}

/// The file name of artefact `index`, relative to the vault's artefacts/ directory. Owned by
/// the cursor: valid until the next sv_cursor_next or sv_cursor_close. NULL on misuse.
@c(sv_cursor_artefact_path)
public func sv_cursor_artefact_path(_ cursor: OpaquePointer?, _ index: Int32) -> UnsafePointer<CChar>? {
    cursorValue(cursor, nil) { c in
        let (r, a) = try c.artefactIndex(index)
        return c.keep(c.records[r].artefacts[a].path)
    }
}

/// The checksum of artefact `index` ("xxh64:" and 16 hex digits, over the raw bytes). Owned by
/// the cursor: valid until the next sv_cursor_next or sv_cursor_close. NULL on misuse.
@c(sv_cursor_artefact_checksum)
public func sv_cursor_artefact_checksum(_ cursor: OpaquePointer?, _ index: Int32) -> UnsafePointer<CChar>? {
    cursorValue(cursor, nil) { c in
        let (r, a) = try c.artefactIndex(index)
        return c.keep(c.records[r].artefacts[a].checksum)
    }
}

/// The uncompressed size in bytes of artefact `index`; -1 on misuse.
@c(sv_cursor_artefact_raw_bytes)
public func sv_cursor_artefact_raw_bytes(_ cursor: OpaquePointer?, _ index: Int32) -> Int64 {
    cursorValue(cursor, -1) { c in
        let (r, a) = try c.artefactIndex(index)
        return c.records[r].artefacts[a].rawBytes
    }
}

/// The compressed size in bytes of artefact `index` as stored; -1 on misuse.
@c(sv_cursor_artefact_stored_bytes)
public func sv_cursor_artefact_stored_bytes(_ cursor: OpaquePointer?, _ index: Int32) -> Int64 {
    cursorValue(cursor, -1) { c in
        let (r, a) = try c.artefactIndex(index)
        return c.records[r].artefacts[a].storedBytes
    }
}
