// swift-tools-version: 6.0
// SpikeVault: a Swift core (library product `SpikeVault`) exported through a thin
// @c layer (`SpikeVaultC`) that becomes libspikevault.so. See README.md, Layout.
import PackageDescription

let package = Package(
    name: "SpikeVault",
    products: [
        .library(name: "SpikeVault", targets: ["SpikeVault"]),
        .library(name: "spikevault", type: .dynamic, targets: ["SpikeVaultC"]),
        // The async ProfileStore and the Observation-based model for Swift hosts (menu-bar
        // apps); kept out of libspikevault.so, which then needs neither Dispatch nor Observation.
        .library(name: "SpikeVaultAsync", targets: ["SpikeVaultAsync"]),
        .executable(name: "spikevault-stress", targets: ["SpikeVaultStress"]),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .target(name: "SpikeVault", dependencies: ["CSQLite", "CZstd"]),
        // The version, embedded from the VERSION file (the one place it is written).
        .target(name: "CSpikeVaultVersion"),
        .target(name: "SpikeVaultC", dependencies: ["SpikeVault", "CSpikeVaultVersion"]),
        .target(name: "SpikeVaultAsync", dependencies: ["SpikeVault"]),
        // Helper process for the retention tests (crash loop, concurrency, fork, disk full).
        .executableTarget(name: "SpikeVaultStress", dependencies: ["SpikeVault"]),
        .testTarget(name: "SpikeVaultTests", dependencies: ["SpikeVault", "SpikeVaultStress", "SpikeVaultAsync", "SpikeVaultC"]),
    ]
)
