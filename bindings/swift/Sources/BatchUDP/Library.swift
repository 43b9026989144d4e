// The library loaded at run time, and whether this binding can use it.
import CBatchUDP
import Foundation

/// The library loaded at run time.
public enum BatchUDPLibrary {
    /// The version of the loaded library, "0.2.0".
    public static var version: String { String(cString: budp_version_string()) }

    /// The version as (major << 16) | (minor << 8) | patch.
    public static var versionNumber: UInt32 { UInt32(budp_version()) }

    /// The major version this binding was written for.
    public static let expectedMajorVersion: UInt32 = 0

    /// The minor version this binding was written for.
    public static let expectedMinorVersion: UInt32 = 2

    /// Whether a library reporting `version` ((major << 16) | (minor << 8) |
    /// patch) can be used by a binding written for `major`.`minor` (by
    /// default, this one): the major numbers are equal and, while the major
    /// is 0, the minor numbers too (every 0.x release may change the ABI);
    /// from 1.0 on, the library's minor is `minor` or above.  The patch
    /// number never matters.
    public static func isCompatible(_ version: UInt32,
                                    major: UInt32 = expectedMajorVersion,
                                    minor: UInt32 = expectedMinorVersion) -> Bool {
        let libraryMajor = version >> 16
        let libraryMinor = (version >> 8) & 0xff
        guard libraryMajor == major else { return false }
        return major == 0 ? libraryMinor == minor : libraryMinor >= minor
    }

    /// Whether the library loaded at run time is one this binding can use
    /// (``isCompatible(_:major:minor:)`` of ``versionNumber``).  The package
    /// links the library, so the dynamic loader has already refused one of
    /// another soname; this checks the header's rule itself.  The socket
    /// initializers refuse an incompatible library with `ENOTSUP`.
    public static var isLoadedLibraryCompatible: Bool { isCompatible(versionNumber) }

    /// Throws unless the loaded library is compatible (see
    /// ``isLoadedLibraryCompatible``).
    static func checkLoadedLibrary() throws {
        if let error = incompatibility(versionNumber) {
            throw error
        }
    }

    /// The error for a library reporting `version`, naming both versions;
    /// `nil` when this binding can use it.
    static func incompatibility(_ version: UInt32) -> BatchUDPError? {
        if isCompatible(version) {
            return nil
        }
        let (major, minor) = (expectedMajorVersion, expectedMinorVersion)
        let needs = major == 0 ? "\(major).\(minor).x" : "\(major).\(minor).x or a later \(major).x"
        let loaded = "\(version >> 16).\((version >> 8) & 0xff).\(version & 0xff)"
        return BatchUDPError(
            code: -ENOTSUP,
            operation: "libbatchudp \(loaded) loaded, this binding (written for \(major).\(minor)) needs \(needs)")
    }
}
