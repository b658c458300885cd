import SpikeVault

/// Writes the captures not yet exported to `dest_dir` as Hive-partitioned Parquet
/// (captures/host=H/date=D/*.parquet and stacks/host=H/date=D/*.parquet, one stack row per
/// capture, folded artefact kind and stack) through the `duckdb` command-line tool
/// ($SPIKEVAULT_DUCKDB or PATH). Incremental: a watermark per directory is kept in the vault
/// and in dest_dir/_spikevault/; a removed tree is written again from the first capture.
/// Redacted unless `flags` has SV_EXPORT_NO_REDACT. dest_dir is created (0700) when missing;
/// a symlink, a file, another user's or a group/other-writable directory gives
/// SV_ERR_UNSAFE_PATH, a missing DuckDB CLI SV_ERR_UNSUPPORTED. *out_count (may be NULL)
/// receives the captures written by this call. Thread-safe (the vault stays usable meanwhile).
@c(sv_vault_export_parquet)
public func sv_vault_export_parquet(_ vault: OpaquePointer?, _ dest_dir: UnsafePointer<CChar>?, _ flags: Int32,
                                    _ out_count: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let dest = try cString(dest_dir, "dest_dir")
        var options = ExportOptions()
        guard flags & ~(sv_export_flag.noRedact.rawValue | sv_export_flag.overwrite.rawValue) == 0 else {
            throw SpikeVaultError(.invalidArgument, "unknown SV_EXPORT_* bits in flags \(flags)")
        }
        if flags & sv_export_flag.noRedact.rawValue != 0 { options.redactor = .disabled }
        let result = try Handles.shared.lookup(vault, as: Vault.self, "vault").exportParquet(to: dest, options: options)
        out_count?.pointee = Int64(result.captures)
    }
}
