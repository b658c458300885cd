import Testing
import SpikeVault
@testable import SpikeVaultC

/// The export layer maps core statuses to C ones by raw value (Enums.swift): both enums must
/// hold the same cases with the same numbers, which abi/manifest.json declares once.
@Suite struct StatusMappingTests {
    @Test func everyCoreStatusHasTheSameCNumber() {
        for status in Status.allCases {
            #expect(sv_status(rawValue: status.rawValue) != nil, "core status \(status) has no C case")
            #expect(sv_status(status).rawValue == status.rawValue, "\(status)")
        }
    }

    @Test func everyCStatusIsACoreStatus() {
        for status in sv_status.allCases {
            #expect(Status(rawValue: status.rawValue) != nil, "C status \(status) has no core case")
        }
        #expect(sv_status.allCases.count == Status.allCases.count)
    }
}
