/// A minimal protocol-buffers encoder (https://protobuf.dev/programming-guides/encoding/):
/// varints, length-delimited fields and packed repeated varints, enough for pprof's
/// `profile.proto`. No runtime, no reflection: callers write fields in order.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    init() {}

    /// Wire types used here.
    private static let varintType: UInt64 = 0
    private static let lengthDelimited: UInt64 = 2

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func tag(_ field: Int, _ wireType: UInt64) {
        varint(UInt64(field) << 3 | wireType)
    }

    /// An int64/uint64 field; proto3 omits zero (the default).
    mutating func int(_ field: Int, _ value: Int64) {
        guard value != 0 else { return }
        tag(field, Self.varintType)
        varint(UInt64(bitPattern: value))
    }

    mutating func bool(_ field: Int, _ value: Bool) {
        guard value else { return }
        tag(field, Self.varintType)
        varint(1)
    }

    /// A length-delimited field with these bytes (also written when empty: a repeated
    /// string's empty element must be present).
    mutating func bytesField(_ field: Int, _ payload: [UInt8]) {
        tag(field, Self.lengthDelimited)
        varint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }

    mutating func string(_ field: Int, _ value: String) {
        bytesField(field, Array(value.utf8))
    }

    mutating func message(_ field: Int, _ body: ProtobufWriter) {
        bytesField(field, body.bytes)
    }

    /// A packed repeated varint field (nothing when empty).
    mutating func packed(_ field: Int, _ values: [UInt64]) {
        guard !values.isEmpty else { return }
        var body = ProtobufWriter()
        for v in values { body.varint(v) }
        message(field, body)
    }
}
