/// A streaming read of the captures matching a filter, a bounded page at a time.
///
/// Underneath is keyset pagination (`RecordFilter.after`, by the filter's order and then id):
/// each page is one short query under the vault's lock, which is released between pages, so
/// saves, deletions and other readers on other threads interleave freely. Memory is one page
/// (at most `pageSize` captures with their artefact rows) whatever the size of the result.
///
/// Snapshot semantics (docs/streaming.md):
/// - The cursor sees captures whose id is at most the largest id stored when it opened. Ids
///   only grow (`AUTOINCREMENT`), so a capture saved after the cursor opened is never seen.
/// - Deleting captures while iterating is safe: a capture deleted before the cursor reached
///   it is not returned; one already returned stays valid in the caller's hands (its artefact
///   files may be gone). Nothing is returned twice and no row is skipped that still exists.
/// - `filter.limit` caps the total number of captures returned.
/// - The bound and the first page are read together at open; a vault closed while a cursor is
///   open makes the next page after that fail with `.closed`.
///
/// Use one cursor from one thread at a time; the vault itself may be shared.
public final class RecordCursor: @unchecked Sendable {  // one thread at a time, documented
    public static let defaultPageSize = 256
    public static let pageSizeRange = 1...100_000

    private let vault: Vault
    private var filter: RecordFilter
    /// The largest capture id at open (0: the vault was empty, nothing is returned).
    public let throughID: Int64
    public let pageSize: Int
    private var left: Int?
    private var finished = false
    private var buffer: [ProfileRecord] = []
    private var position = 0

    init(vault: Vault, filter: RecordFilter, pageSize: Int) throws {
        try filter.validate()
        guard RecordCursor.pageSizeRange.contains(pageSize) else {
            throw SpikeVaultError(.invalidArgument, "page size must be 1-100000, got \(pageSize)")
        }
        self.vault = vault
        self.filter = filter
        self.pageSize = pageSize
        self.left = filter.limit
        // The bound and the first page are read under one lock: a cursor opened on a vault
        // that is then closed still reads its first page (like the materialised cursors did).
        var first = filter
        first.limit = min(pageSize, filter.limit ?? pageSize)
        let (bound, page) = try vault.withDatabase { db in
            let bound = try db.scalarInt("SELECT coalesce(max(id), 0) FROM profile_capture")
            return (bound, first.limit == 0 ? [] : try ReviewStore.query(db, first, throughID: bound))
        }
        throughID = bound
        accept(page, asked: first.limit!)
        buffer = page
    }

    private func accept(_ page: [ProfileRecord], asked: Int) {
        left = left.map { $0 - page.count }
        if page.count < asked || left == 0 { finished = true }
        if let last = page.last { filter.after = RecordKey(last) }
    }

    /// The next page, in the filter's order: at most `pageSize` records (or `size`, for a
    /// caller that streams the whole result and pays per page), empty once the result is
    /// exhausted (and on every later call). The first page was read at open.
    public func nextPage(size: Int? = nil) throws -> [ProfileRecord] {
        if position < buffer.count {  // rows not yet handed out by `next()` come first
            let rest = position == 0 ? buffer : Array(buffer[position...])
            buffer = []
            position = 0
            return rest
        }
        buffer = []
        position = 0
        guard !finished else { return [] }
        let size = min(max(size ?? pageSize, 1), RecordCursor.pageSizeRange.upperBound)
        var f = filter
        f.limit = min(size, left ?? size)
        let bound = throughID
        let page = try vault.withDatabase { db in try ReviewStore.query(db, f, throughID: bound) }
        accept(page, asked: f.limit!)
        return page
    }

    /// The next record, or nil at the end.
    public func next() throws -> ProfileRecord? {
        if position >= buffer.count {
            buffer = try nextPage()
            position = 0
            if buffer.isEmpty { return nil }
        }
        defer { position += 1 }
        return buffer[position]
    }
}

extension Vault {
    /// A streaming cursor over the captures matching `filter` (see `RecordCursor` for the
    /// snapshot semantics). Throws `.invalidArgument` for a bad filter or page size.
    public func cursor(_ filter: RecordFilter = RecordFilter(), pageSize: Int = RecordCursor.defaultPageSize) throws -> RecordCursor {
        try RecordCursor(vault: self, filter: filter, pageSize: pageSize)
    }

    /// A streaming cursor over the newest `limit` captures, newest first (`recent(limit:)` as a cursor).
    public func recentCursor(limit: Int, pageSize: Int = RecordCursor.defaultPageSize) throws -> RecordCursor {
        guard limit >= 0 else { throw SpikeVaultError(.invalidArgument, "limit must be >= 0, got \(limit)") }
        return try RecordCursor(vault: self, filter: RecordFilter(order: .timeDescending, limit: limit), pageSize: pageSize)
    }
}
