/// The library version: the one place it is written. The header generator and the Makefile
/// read these three lines; bump MINOR when adding functions, MAJOR when breaking the ABI.
enum LibraryVersion {
    static let major: Int32 = 0
    static let minor: Int32 = 2
    static let patch: Int32 = 0
    static let number: Int32 = major * 10_000 + minor * 100 + patch
    static let string = "\(major).\(minor).\(patch)"
}
