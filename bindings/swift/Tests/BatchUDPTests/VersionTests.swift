// @testable: the refusal of an incompatible library is internal (the socket
// initializers apply it); a stand-in version number exercises it.
@testable import BatchUDP
import Foundation
import XCTest

final class VersionTests: XCTestCase {
    /// The header's rule: equal major; while it is 0, equal minor too; from
    /// 1.0 on, a minor of the binding's or above.  The patch never matters.
    func testVersionRule() {
        func v(_ major: UInt32, _ minor: UInt32, _ patch: UInt32 = 0) -> UInt32 {
            (major << 16) | (minor << 8) | patch
        }
        let cases: [(UInt32, UInt32, UInt32, Bool)] = [
            (v(0, 2, 0), 0, 2, true),
            (v(0, 2, 9), 0, 2, true),
            (v(0, 1, 0), 0, 2, false),
            (v(0, 3, 0), 0, 2, false),
            (v(1, 2, 0), 0, 2, false),
            (v(1, 0, 0), 1, 0, true),
            (v(1, 3, 1), 1, 2, true),
            (v(1, 2, 0), 1, 2, true),
            (v(1, 1, 7), 1, 2, false),
            (v(2, 2, 0), 1, 2, false),
            (v(0, 2, 0), 1, 2, false),
        ]
        for (version, major, minor, ok) in cases {
            XCTAssertEqual(BatchUDPLibrary.isCompatible(version, major: major, minor: minor), ok,
                           "library \(version >> 16).\((version >> 8) & 0xff).\(version & 0xff) "
                           + "for a binding written for \(major).\(minor)")
        }
        // By default, for this binding (0.2).
        XCTAssertTrue(BatchUDPLibrary.isCompatible(v(0, 2, 3)))
        XCTAssertFalse(BatchUDPLibrary.isCompatible(v(0, 1, 0)))
    }

    /// Another version is refused with ENOTSUP and a message naming both.
    func testIncompatibleLibraryIsRefusedNamingBothVersions() throws {
        XCTAssertNil(BatchUDPLibrary.incompatibility(BatchUDPLibrary.versionNumber))
        XCTAssertNil(BatchUDPLibrary.incompatibility(0x00_02_07))
        for (version, shown) in [(UInt32(0x01_00_00), "1.0.0"), (0x00_01_00, "0.1.0"),
                                 (0x00_03_02, "0.3.2")] {
            let error = try XCTUnwrap(BatchUDPLibrary.incompatibility(version), shown)
            XCTAssertEqual(error.errorNumber, ENOTSUP)
            XCTAssertEqual(error.operation,
                           "libbatchudp \(shown) loaded, this binding (written for 0.2) needs 0.2.x")
        }
        XCTAssertNoThrow(try BatchUDPLibrary.checkLoadedLibrary())
    }
}
