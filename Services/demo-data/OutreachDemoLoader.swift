import C360Clients
import C360Contracts
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf

/// Loads the demo outreach plan — templates in English and Persian, segments (VIP, lapsed buyers, detractors at
/// risk) and journeys (welcome series, win-back on churn risk, post-ticket CSAT) — from `Resources/outreach.json`,
/// written in the protobuf JSON mapping of `PutTemplate`, `CreateSegment` and `PutJourney` requests, so the plan is
/// data to edit, not code. Every call is idempotent: loading twice changes nothing.
struct OutreachDemoLoader {
    let outreach: Customer360_V1_OutreachService.Client<PeerTransport>

    private let options = CallOptions.deadline(.seconds(10))

    func load() async throws {
        guard let url = Bundle.module.url(forResource: "outreach", withExtension: "json", subdirectory: "Resources")
        else {
            throw DemoPlanError("Resources/outreach.json is not in demo-data's bundle")
        }
        let plan = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: [Any]] ?? [:]
        func items<Message: SwiftProtobuf.Message>(_ key: String, as type: Message.Type) throws -> [Message] {
            try (plan[key] ?? []).map { try Message(jsonUTF8Data: JSONSerialization.data(withJSONObject: $0)) }
        }
        let templates = try items("templates", as: Customer360_V1_PutTemplateRequest.self)
        let segments = try items("segments", as: Customer360_V1_CreateSegmentRequest.self)
        let journeys = try items("journeys", as: Customer360_V1_PutJourneyRequest.self)
        print(
            "demo-data: loading \(templates.count) templates, \(segments.count) segments and \(journeys.count) journeys "
                + "into outreach-service…")
        for template in templates { _ = try await outreach.putTemplate(template, options: options) }
        for segment in segments {
            let saved = try await outreach.createSegment(segment, options: options)
            print("demo-data:   segment \(saved.segmentID): \(saved.size) members now (more as the read model fills)")
        }
        for journey in journeys { _ = try await outreach.putJourney(journey, options: options) }
    }
}

struct DemoPlanError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
