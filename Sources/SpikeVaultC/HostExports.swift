import SpikeVault

// Host identity (docs/fleet.md, "Host identity"): the text options and the cursor accessors.

/// Sets a text tunable: SV_OPT_HOST_NAME (1-253 characters of A-Z a-z 0-9 . _ -, starting with
/// a letter or digit) or SV_OPT_MACHINE_ID (1-64 characters of A-Z a-z 0-9 - _), recorded with
/// every capture the vault saves instead of the detected hostname and /etc/machine-id. NULL
/// `value` restores detection. A value breaking those rules, an integer key or an unknown key
/// gives SV_ERR_INVALID_ARGUMENT and leaves the handle unchanged. The string is copied. Use one
/// handle from one thread at a time.
@c(sv_options_set_string)
public func sv_options_set_string(_ options: OpaquePointer?, _ key: Int32, _ value: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let box = try Handles.shared.lookup(options, as: OptionsBox.self, "options")
        try box.options.set(try sv_option.name(key), string: try optionalCString(value, "value"))
    }
}

/// The current row's host name (UTF-8), "" when the capture was saved before hosts were
/// recorded. Owned by the cursor: valid until the next sv_cursor_next or sv_cursor_close.
/// NULL on misuse.
@c(sv_cursor_host)
public func sv_cursor_host(_ cursor: OpaquePointer?) -> UnsafePointer<CChar>? {
    guardedValue(nil) {
        let c = try Handles.shared.lookup(cursor, as: CursorBox.self, "cursor")
        if let rows = c.rows { return rows.host(try c.row()) ?? c.keep("") }
        return c.keep(try c.current.host ?? "")
    }
}

/// The current row's machine ID, "" when unknown. Owned by the cursor as sv_cursor_host's
/// result. NULL on misuse.
@c(sv_cursor_machine_id)
public func sv_cursor_machine_id(_ cursor: OpaquePointer?) -> UnsafePointer<CChar>? {
    guardedValue(nil) {
        let c = try Handles.shared.lookup(cursor, as: CursorBox.self, "cursor")
        if let rows = c.rows { return rows.machineID(try c.row()) ?? c.keep("") }
        return c.keep(try c.current.machineID ?? "")
    }
}
