extension VaultOptions {
    /// How hard saves work to survive a crash or power loss (`VaultOptions.durability`,
    /// `SV_OPT_DURABILITY`; the field itself is generated from abi/manifest.json).
    public enum Durability: Int64, Sendable {
        /// No fsync at all: for tests and throwaway vaults.
        case off = 0
        /// Artefact files and their directory are fsynced; SQLite WAL with `synchronous=NORMAL`
        /// (a committed save survives a process crash; a power cut may lose the last commits).
        case normal = 1
        /// As `normal`, with SQLite `synchronous=FULL`.
        case full = 2
    }
}
