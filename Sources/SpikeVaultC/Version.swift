import CSpikeVaultVersion

/// The library version, from the repository's VERSION file (the one place it is written),
/// embedded by CSpikeVaultVersion. Bump MINOR there when adding functions, MAJOR when
/// breaking the ABI.
enum LibraryVersion {
    static let major = Int32(svbuild_version_major())
    static let minor = Int32(svbuild_version_minor())
    static let patch = Int32(svbuild_version_patch())
    static let number: Int32 = major * 10_000 + minor * 100 + patch
    static let string = "\(major).\(minor).\(patch)"
}
