import SpikeVault
import Synchronization

/// Every handle given to C is a key into this table, never a real pointer. A stale, forged,
/// double-closed or wrong-type handle is therefore looked up and refused with a status
/// instead of being dereferenced. Keys are never reused within a process.
final class Handles: Sendable {
    static let shared = Handles()
    private let table = Mutex<(next: UInt, objects: [UInt: AnyObject & Sendable])>((1, [:]))

    private static func key(_ p: OpaquePointer?) -> UInt? {
        guard let p else { return nil }
        let bits = UInt(bitPattern: Int(bitPattern: p))
        return bits & 0xF == 0x5 ? bits >> 4 : 0
    }

    func register(_ object: AnyObject & Sendable) -> OpaquePointer {
        let key = table.withLock { t -> UInt in
            let k = t.next
            t.next += 1
            t.objects[k] = object
            return k
        }
        return OpaquePointer(bitPattern: (key << 4) | 0x5)!
    }

    /// The live object behind `p`, of type `T`; `what` names the argument in messages.
    func lookup<T>(_ p: OpaquePointer?, as _: T.Type, _ what: String) throws -> T {
        guard let key = Self.key(p) else { throw SpikeVaultError(.nullArgument, "\(what) is NULL") }
        guard let object = table.withLock({ $0.objects[key] }) else {
            throw SpikeVaultError(.closed, "\(what) is not an open handle (closed already, or never opened)")
        }
        guard let typed = object as? T else {
            throw SpikeVaultError(.invalidArgument, "\(what) is a handle of another type")
        }
        return typed
    }

    /// Removes and returns the object; `nil` when `p` is NULL.
    func remove<T>(_ p: OpaquePointer?, as type: T.Type, _ what: String) throws -> T? {
        guard p != nil else { return nil }
        _ = try lookup(p, as: type, what)
        // Taken out under the lock, so two racing closes cannot both get the object.
        guard let object = table.withLock({ $0.objects.removeValue(forKey: Self.key(p) ?? 0) }) as? T else {
            throw SpikeVaultError(.closed, "\(what) is not an open handle (closed already, or never opened)")
        }
        return object
    }
}
