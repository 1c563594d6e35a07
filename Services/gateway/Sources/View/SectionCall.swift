import C360Contracts
import C360ServerKit
import Foundation
import GRPCCore
import SwiftProtobuf

/// Runs one backend call for a section of a view or dashboard and records how it went: which service, how long,
/// and the gRPC status when it failed. A failure never escapes: the section is simply missing.
struct SectionCall {
    var sections: [String]
    var service: ServiceIdentity

    init(sections: [String], service: ServiceIdentity) {
        self.sections = sections
        self.service = service
    }

    /// The call that fills `sections` of the 360° view, all of one service.
    init(_ sections: [Customer360Section]) {
        precondition(!sections.isEmpty && Set(sections.map(\.service.name)).count == 1, "one service's sections")
        self.init(sections: sections.map(\.rawValue), service: sections[0].service)
    }

    /// The result of `body`, or `nil` with failed statuses for every section it fills.
    func run<Value: Sendable>(
        _ body: @Sendable () async throws -> Value
    ) async -> (Value?, [Customer360_V1_ViewSectionStatus]) {
        let started = ContinuousClock.now
        do {
            let value = try await body()
            return (value, statuses(ok: true, code: "", message: "", since: started))
        } catch let error as RPCError {
            return (nil, statuses(ok: false, code: error.code.canonicalName, message: error.message, since: started))
        } catch {
            return (nil, statuses(ok: false, code: "UNKNOWN", message: "\(error)", since: started))
        }
    }

    private func statuses(ok: Bool, code: String, message: String, since started: ContinuousClock.Instant)
        -> [Customer360_V1_ViewSectionStatus]
    {
        let elapsed = ContinuousClock.now - started
        return sections.map { section in
            .with {
                $0.section = section
                $0.service = service.name
                $0.ok = ok
                $0.errorCode = code
                $0.errorMessage = message
                $0.latency = Google_Protobuf_Duration(rounding: elapsed)
            }
        }
    }
}
