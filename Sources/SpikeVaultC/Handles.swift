import SpikeVault
import Synchronization

/// Every handle given to C is a key into this table, never a real pointer. A stale, forged,
/// double-closed or wrong-type handle is therefore looked up and refused with a status
/// instead of being dereferenced.
///
/// The table is a generational slab: a key packs a slot index, the slot's generation and a
/// tag, so lookups are an array index (cursor accessors are hot), freed slots are reused, and
/// a key from an earlier use of a slot never matches again (generations are 28 bits: a slot
/// would have to be reused 268 million times for a stale key to match).
final class Handles: Sendable {
    static let shared = Handles()

    private struct Slot {
        var generation: UInt = 0
        var type: ObjectIdentifier?
        var object: AnyObject?
    }

    private struct Table {
        var slots: [Slot] = []
        var free: [Int] = []
    }

    private let table = Mutex(Table())
    /// Bumped by every removal: a thread's cached lookup (below) is valid only while it holds.
    private let removals = Atomic<UInt64>(0)
    private static let tag: UInt = 0x5
    private static let generationBits: UInt = 28

    private static func encode(slot: Int, generation: UInt) -> OpaquePointer {
        OpaquePointer(bitPattern: (UInt(slot) << (generationBits + 4)) | (generation << 4) | tag)!
    }

    private static func decode(_ p: OpaquePointer) -> (slot: Int, generation: UInt)? {
        let bits = UInt(bitPattern: Int(bitPattern: p))
        guard bits & 0xF == tag else { return nil }
        return (Int(bits >> (generationBits + 4)), (bits >> 4) & ((1 << generationBits) - 1))
    }

    func register<T: AnyObject & Sendable>(_ object: T) -> OpaquePointer {
        table.withLock { t in
            let index: Int
            if let reused = t.free.popLast() {
                index = reused
            } else {
                index = t.slots.count
                t.slots.append(Slot())
            }
            t.slots[index].type = ObjectIdentifier(T.self)
            t.slots[index].object = object
            return Self.encode(slot: index, generation: t.slots[index].generation)
        }
    }

    /// The live object behind `p`, of type `T`; `what` names the argument in messages.
    func lookup<T: AnyObject>(_ p: OpaquePointer?, as _: T.Type, _ what: String) throws -> T {
        guard let p else { throw SpikeVaultError(.nullArgument, "\(what) is NULL") }
        // Fast path for loops over cursor accessors: the last handle this thread looked up,
        // still valid when nothing was removed since (a removal bumps `removals`).
        let bits = UInt(bitPattern: Int(bitPattern: p))
        let epoch = removals.load(ordering: .acquiring)
        if let hit = LookupCache.hit(bits: bits, epoch: epoch, type: ObjectIdentifier(T.self)) {
            return unsafeDowncast(hit, to: T.self)
        }
        let found: (AnyObject, ObjectIdentifier)? = table.withLock { t in
            guard let (index, generation) = Self.decode(p), index < t.slots.count,
                  t.slots[index].generation == generation,
                  let object = t.slots[index].object, let type = t.slots[index].type else { return nil }
            return (object, type)
        }
        guard let (object, type) = found else {
            throw SpikeVaultError(.closed, "\(what) is not an open handle (closed already, or never opened)")
        }
        guard type == ObjectIdentifier(T.self) else {
            throw SpikeVaultError(.invalidArgument, "\(what) is a handle of another type")
        }
        LookupCache.store(bits: bits, epoch: epoch, type: type, object: object)
        return unsafeDowncast(object, to: T.self)
    }

    /// Removes and returns the object; `nil` when `p` is NULL. Two racing removals of the same
    /// handle cannot both succeed: the check and the removal happen under one lock.
    func remove<T: AnyObject>(_ p: OpaquePointer?, as type: T.Type, _ what: String) throws -> T? {
        guard p != nil else { return nil }
        _ = try lookup(p, as: type, what)  // NULL, stale and wrong-type handles get their own message
        let object: AnyObject? = table.withLock { t in
            guard let (index, generation) = Self.decode(p!), index < t.slots.count,
                  t.slots[index].generation == generation, let object = t.slots[index].object else { return nil }
            t.slots[index].object = nil
            t.slots[index].type = nil
            t.slots[index].generation = (generation + 1) & ((1 << Self.generationBits) - 1)
            t.free.append(index)
            return object
        }
        removals.add(1, ordering: .releasing)
        // Let go of this thread's cached reference, so that closing a handle releases its
        // object here and now (other threads drop theirs at their next lookup).
        LookupCache.clear()
        guard let object else {
            throw SpikeVaultError(.closed, "\(what) is not an open handle (closed already, or never opened)")
        }
        return unsafeDowncast(object, to: T.self)
    }
}

/// The one protocol of every type behind a C handle: the generic plumbing below (`from`,
/// `with`, `new`, `freeHandle`) is written once for all of them, and `handleName` names the
/// argument in messages ("vault is NULL", "out_vault is NULL").
protocol CHandle: AnyObject, Sendable {
    static var handleName: String { get }
}

extension CHandle {
    /// The live object behind `p` (NULL, stale, forged and wrong-type handles are refused):
    /// the one way to look up a handle, a vault included.
    static func from(_ p: OpaquePointer?) throws -> Self { try Handles.shared.lookup(p, as: Self.self, handleName) }

    /// Looks `p` up and runs `body` with it; errors become the status and `sv_errmsg`.
    static func with(_ p: OpaquePointer?, _ body: (Self) throws -> Void) -> Int32 { guarded { try body(try from(p)) } }

    /// The body of a `*_new`: checks the out-pointer, makes the object, hands C its handle.
    static func new(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ make: () throws -> Self) -> Int32 {
        newHandle(out, "out_" + handleName, make)
    }

    /// Removes the handle (nil for NULL); a released handle throws `.closed`.
    static func remove(_ p: OpaquePointer?) throws -> Self? { try Handles.shared.remove(p, as: Self.self, handleName) }

    /// The body of a plain `*_free`: NULL is a no-op (SV_OK), a released handle SV_ERR_CLOSED.
    static func freeHandle(_ p: OpaquePointer?) -> Int32 { guarded { _ = try remove(p) } }
}

// The ten handle types of the C ABI (abi/manifest.json "handles").
extension Vault: CHandle { static var handleName: String { "vault" } }
extension OptionsBox: CHandle { static var handleName: String { "options" } }
extension RecordBox: CHandle { static var handleName: String { "record" } }
extension CursorBox: CHandle { static var handleName: String { "cursor" } }
extension RequestBox: CHandle { static var handleName: String { "request" } }
extension JobBox: CHandle { static var handleName: String { "job" } }
extension ReportBox: CHandle { static var handleName: String { "report" } }
extension MonitorBox: CHandle { static var handleName: String { "monitor" } }
extension RuleBox: CHandle { static var handleName: String { "rule" } }
extension FilterBox: CHandle { static var handleName: String { "filter" } }

/// The body of a `*_new` entry point: checks the out-pointer, makes the object and hands C
/// a new handle to it (a status and `sv_errmsg` on failure, *out untouched).
func newHandle<T: AnyObject & Sendable>(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ what: String,
                                        _ make: () throws -> T) -> Int32 {
    guarded {
        let target = try requireOut(out, what)
        target.pointee = Handles.shared.register(try make())
    }
}

/// One thread's last successful handle lookup (thread-local; see `Handles.lookup`), kept in
/// plain memory so that a hit costs no reference counting beyond the returned reference. The
/// entry holds one strong reference; a removal on this thread drops it, and another thread's
/// entry is replaced at its next lookup.
enum LookupCache {
    struct Entry {
        var bits: UInt
        var epoch: UInt64
        var type: ObjectIdentifier
        var object: Unmanaged<AnyObject>
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { raw in
            guard let raw else { return }
            let entry = raw.assumingMemoryBound(to: Entry.self)
            entry.pointee.object.release()
            entry.deinitialize(count: 1)
            entry.deallocate()
        }
        return key
    }()

    /// The cached object when `bits`, `epoch` and `type` all match.
    static func hit(bits: UInt, epoch: UInt64, type: ObjectIdentifier) -> AnyObject? {
        guard let raw = pthread_getspecific(key) else { return nil }
        let e = raw.assumingMemoryBound(to: Entry.self).pointee
        guard e.bits == bits, e.epoch == epoch, e.type == type else { return nil }
        return e.object.takeUnretainedValue()
    }

    static func clear() {
        guard let raw = pthread_getspecific(key) else { return }
        let entry = raw.assumingMemoryBound(to: Entry.self)
        entry.pointee.object.release()
        entry.deinitialize(count: 1)
        entry.deallocate()
        pthread_setspecific(key, nil)
    }

    static func store(bits: UInt, epoch: UInt64, type: ObjectIdentifier, object: AnyObject) {
        let entry = Entry(bits: bits, epoch: epoch, type: type, object: Unmanaged.passRetained(object))
        if let raw = pthread_getspecific(key) {
            let p = raw.assumingMemoryBound(to: Entry.self)
            p.pointee.object.release()
            p.pointee = entry
        } else {
            let p = UnsafeMutablePointer<Entry>.allocate(capacity: 1)
            p.initialize(to: entry)
            pthread_setspecific(key, p)
        }
    }
}
