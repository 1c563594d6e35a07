import C360Clients
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

    /// A read across customers of a service that may run as shards: `body` asks each shard (pinned by the metadata
    /// it is given) and `merge` puts the answers together. When some shards fail, the section holds the others' part
    /// and its status is not ok and names the missing shards; when all fail, it is missing.
    func runOnShards<Value: Sendable>(
        _ shards: [String], merge: ([Value]) -> Value, _ body: @escaping @Sendable (Metadata) async throws -> Value
    ) async -> (Value?, [Customer360_V1_ViewSectionStatus]) {
        let started = ContinuousClock.now
        let outcome = await ShardFanOut.call(shards: shards, body)
        guard let (_, firstError) = outcome.failures.first else {
            return (merge(outcome.answers.map(\.answer)), statuses(ok: true, code: "", message: "", since: started))
        }
        let code = (firstError as? RPCError)?.code.canonicalName ?? "UNKNOWN"
        let reasons = outcome.failures.map { shard, error in
            let reason = (error as? RPCError).map { "\($0.code.canonicalName): \($0.message)" } ?? "\(error)"
            return shard.isEmpty ? reason : "\(shard): \(reason)"
        }
        guard !outcome.answers.isEmpty else {
            return (nil, statuses(ok: false, code: code, message: reasons.joined(separator: "; "), since: started))
        }
        let missing = outcome.failures.map(\.shard)
        let message = """
            \(missing.count) of \(shards.count) shards did not answer; this is the others' part. \
            \(reasons.joined(separator: "; "))
            """
        var partial = statuses(ok: false, code: code, message: message, since: started)
        for index in partial.indices { partial[index].missingShards = missing }
        return (merge(outcome.answers.map(\.answer)), partial)
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
