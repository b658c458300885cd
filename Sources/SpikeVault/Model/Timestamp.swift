/// A point in time: whole milliseconds since the Unix epoch, UTC.
///
/// Stored and shown in one text form, `YYYY-MM-DD HH:MM:SS.SSSZ` (`sqlText`, also
/// `description`): SQLite's own `datetime()` layout with milliseconds and a UTC marker. It is
/// fixed-width, so text order is time order, and it compares correctly with what the seed
/// design's SQL produces (`CURRENT_TIMESTAMP`, `datetime('now','-3 days')`), which the
/// ISO `T` separator would not within the same day (docs/storage.md, "Time").
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(milliseconds: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.milliseconds < b.milliseconds }

    public func adding(seconds: Double) -> Timestamp {
        Timestamp(milliseconds: milliseconds &+ Int64((seconds * 1000).rounded()))
    }

    /// Compact UTC form used in artefact file names: `20261127T143512.123Z`. Any Int64 is
    /// accepted (hosts pass arbitrary bounds, e.g. to sv_vault_analytics): a time gmtime(3)
    /// cannot represent gives `<ms>ms`.
    public var compactUTC: String {
        var t = time_t(milliseconds.floorDiv(1000))
        var parts = tm()
        guard gmtime_r(&t, &parts) != nil else { return "\(milliseconds)ms" }
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return pad(parts.tm_year + 1900, 4) + pad(parts.tm_mon + 1, 2) + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + pad(parts.tm_min, 2) + pad(parts.tm_sec, 2) + "."
            + pad(Int32(milliseconds.floorMod(1000)), 3) + "Z"
    }

    /// The stored and shown form, `2026-11-27 14:35:12.123Z`; for a time outside years
    /// 0000-9999 (which the column never holds) `<ms> ms since the epoch`.
    public var description: String { sqlText ?? "\(milliseconds) ms since the epoch" }

    /// First and last instants the text form can hold (0000-01-01 and 9999-12-31, UTC).
    public static let minStorable = Timestamp(milliseconds: -62_167_219_200_000)
    public static let maxStorable = Timestamp(milliseconds: 253_402_300_799_999)

    /// `YYYY-MM-DD HH:MM:SS.SSSZ`, or nil outside years 0000-9999.
    public var sqlText: String? {
        guard self >= Self.minStorable && self <= Self.maxStorable else { return nil }
        var t = time_t(milliseconds.floorDiv(1000))
        var parts = tm()
        guard gmtime_r(&t, &parts) != nil else { return nil }
        // Digits written into a fixed buffer: exports format this for every row.
        var b = [UInt8](repeating: 0, count: 24)
        func put(_ v: Int, _ at: Int, _ width: Int) {
            var v = v
            for k in stride(from: at + width - 1, through: at, by: -1) { b[k] = UInt8(48 + v % 10); v /= 10 }
        }
        put(Int(parts.tm_year) + 1900, 0, 4); b[4] = 0x2D; put(Int(parts.tm_mon) + 1, 5, 2); b[7] = 0x2D
        put(Int(parts.tm_mday), 8, 2); b[10] = 0x20; put(Int(parts.tm_hour), 11, 2); b[13] = 0x3A
        put(Int(parts.tm_min), 14, 2); b[16] = 0x3A; put(Int(parts.tm_sec), 17, 2); b[19] = 0x2E
        put(Int(milliseconds.floorMod(1000)), 20, 3); b[23] = 0x5A
        return String(decoding: b, as: UTF8.self)
    }

    /// The text to compare the column with: clamped so any Int64 bound keeps its meaning
    /// ("0" sorts before every stored time, "A" after every one).
    var sqlBound: String {
        if self < Self.minStorable { return "0" }
        if self > Self.maxStorable { return "A" }
        return sqlText!
    }

    /// Parses the stored form exactly (`YYYY-MM-DD HH:MM:SS.SSSZ`); nil for anything else.
    public init?(sqlText text: String) {
        var t = text
        guard let parsed = t.withUTF8({ Timestamp(sqlBytes: $0) }) else { return nil }
        self = parsed
    }

    /// `init(sqlText:)` over UTF-8 bytes (a column read in place, no string made).
    init?(sqlBytes b: UnsafeBufferPointer<UInt8>) {
        guard b.count == 24, b[4] == 45, b[7] == 45, b[10] == 32, b[13] == 58, b[16] == 58, b[19] == 46, b[23] == 90
        else { return nil }
        func num(_ from: Int, _ to: Int) -> Int64? {
            var v: Int64 = 0
            for i in from..<to {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard let y = num(0, 4), let mo = num(5, 7), let d = num(8, 10), let h = num(11, 13), let mi = num(14, 16),
              let sec = num(17, 19), let ms = num(20, 23),
              (1...12).contains(mo), d >= 1, d <= Self.daysIn(month: mo, year: y), h < 24, mi < 60, sec < 60
        else { return nil }
        let days = Self.daysFromCivil(y, mo, d)
        self.init(milliseconds: ((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms)
    }

    private static func daysIn(month m: Int64, year y: Int64) -> Int64 {
        if m == 2 { return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28 }
        return [4, 6, 9, 11].contains(m) ? 30 : 31
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    private static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = y.floorDiv(400)
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

extension Int64 {
    // For d > 1 neither can overflow, even for Int64.min (found by fuzzing: the old floorMod,
    // self - floorDiv(d) * d, overflowed and trapped for Int64.min).
    func floorDiv(_ d: Int64) -> Int64 { let q = self / d; return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q }
    func floorMod(_ d: Int64) -> Int64 { let r = self % d; return (r != 0 && (r < 0) != (d < 0)) ? r + d : r }
}
