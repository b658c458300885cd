import SpikeVault

/// Heap box behind an `sv_options *` handle.
final class OptionsBox: @unchecked Sendable {
    var options = VaultOptions()
}

/// Creates an options handle holding the defaults. On success *out_options receives a handle
/// the caller owns and releases with sv_options_free. Options are copied by sv_vault_open, so
/// the handle may be freed right after. Use one handle from one thread at a time.
@c(sv_options_new)
public func sv_options_new(_ out_options: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    OptionsBox.new(out_options) { OptionsBox() }
}

/// Releases an options handle. NULL is a no-op (SV_OK); a handle already freed gives
/// SV_ERR_CLOSED. Thread-safe.
@c(sv_options_free)
public func sv_options_free(_ options: OpaquePointer?) -> Int32 {
    OptionsBox.freeHandle(options)
}

/// Sets one tunable (an SV_OPT_* key). A value outside the key's bounds (see sv_option_bounds)
/// or an unknown key gives SV_ERR_INVALID_ARGUMENT and leaves the handle unchanged.
/// Use one handle from one thread at a time.
@c(sv_options_set_int)
public func sv_options_set_int(_ options: OpaquePointer?, _ key: Int32, _ value: Int64) -> Int32 {
    guarded {
        let box = try OptionsBox.from(options)
        try box.options.set(try sv_option.name(key), value)
    }
}

/// Reads one tunable into *out_value. Use one handle from one thread at a time.
@c(sv_options_get_int)
public func sv_options_get_int(_ options: OpaquePointer?, _ key: Int32, _ out_value: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let out = try requireOut(out_value, "out_value")
        let box = try OptionsBox.from(options)
        out.pointee = try box.options.get(try sv_option.name(key))
    }
}

/// Reports the inclusive bounds and the default of a key. Any of the out-pointers may be
/// NULL. Thread-safe.
@c(sv_option_bounds)
public func sv_option_bounds(_ key: Int32, _ out_min: UnsafeMutablePointer<Int64>?,
                             _ out_max: UnsafeMutablePointer<Int64>?, _ out_default: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let name = try sv_option.name(key)
        guard let b = VaultOptions.bounds[name] else {
            if VaultOptions.stringKeys.contains(name) {
                throw SpikeVaultError(.invalidArgument, "option \(name) is text (sv_options_set_string): it has no bounds")
            }
            throw SpikeVaultError(.internalError, "no bounds for key \(key)")
        }
        out_min?.pointee = b.min
        out_max?.pointee = b.max
        out_default?.pointee = b.defaultValue
    }
}
