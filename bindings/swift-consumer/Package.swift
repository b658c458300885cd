// swift-tools-version: 6.0
// A Swift host of SpikeVault, as an app would use it: depends on this repository by path and
// uses the `SpikeVault` library product (the Swift core, no C ABI in between). Built and run
// by `make check-swift-consumer` (docs/packaging.md). From a release, use the package's URL:
//   .package(url: "https://…/SpikeVault.git", from: "MAJOR.MINOR.PATCH")
import PackageDescription

let package = Package(
    name: "SpikeVaultConsumer",
    // The name is given because a path dependency's identity is its directory's name, which
    // differs between a clone, a worktree and a source package.
    dependencies: [.package(name: "SpikeVault", path: "../..")],
    targets: [
        .executableTarget(name: "SpikeVaultConsumer",
                          dependencies: [.product(name: "SpikeVault", package: "SpikeVault")]),
    ]
)
