import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

private typealias Transport = HTTP2ClientTransport.Posix

/// A purchase of `amount` minor units in USD, an hour ago.
private func purchase(_ eventID: String, customer: String, amount: Int64) -> Customer360_V1_RecordTouchpointRequest {
    .with {
        $0.customerID = customer
        $0.touchpoint = .with {
            $0.eventID = eventID
            $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-3_600))
            $0.channel = .web
            $0.kind = .purchase
            $0.direction = .inbound
            $0.purchase = .with {
                $0.orderID = "order-\(eventID)"
                $0.amount = .with {
                    $0.amountMinor = amount
                    $0.currencyCode = "USD"
                }
            }
        }
    }
}

/// Waits until interaction-, feedback- and success-service each report `kind` for `customer` on their feeds,
/// reached through the gateway with `key`: the readiness signal of a merge or an unmerge applied everywhere.
private func waitForAll(
    _ kind: Customer360_V1_ChangeKind, of customer: String, key: Metadata,
    _ interactions: Customer360_V1_InteractionService.Client<Transport>,
    _ feedback: Customer360_V1_FeedbackService.Client<Transport>,
    _ success: Customer360_V1_SuccessService.Client<Transport>
) async throws {
    let request = ChangeFeedWait.request(kind, customer: customer)
    _ = try await ChangeFeedWait.first(request) {
        try await interactions.watchChanges($0, metadata: key, options: $1, onResponse: $2)
    }
    _ = try await ChangeFeedWait.first(request) {
        try await feedback.watchChanges($0, metadata: key, options: $1, onResponse: $2)
    }
    _ = try await ChangeFeedWait.first(request) {
        try await success.watchChanges($0, metadata: key, options: $1, onResponse: $2)
    }
}

@Suite("merges through the front door: recorded in a ledger, carried to every service, and undone")
struct UnmergeTests {
    @Test("merge → one customer everywhere; unmerge → both whole again, in every service, with later writes in place")
    func mergeThenUnmerge() async throws {
        try await withGatewayStack { stack in
            let admin = bearer(stack.adminSecret)
            try await withConnectedClient(to: stack.gatewayProcess.address) { client in
                let profiles = Customer360_V1_ProfileService.Client<Transport>(wrapping: client)
                let interactions = Customer360_V1_InteractionService.Client<Transport>(wrapping: client)
                let feedback = Customer360_V1_FeedbackService.Client<Transport>(wrapping: client)
                let success = Customer360_V1_SuccessService.Client<Transport>(wrapping: client)

                let ada = try await profiles.createCustomer(
                    .with {
                        $0.givenName = "Ada"
                        $0.identifiers = [
                            .with {
                                $0.kind = .email
                                $0.value = "ada@example.com"
                            }
                        ]
                    }, metadata: admin
                ).customerID
                let bea = try await profiles.createCustomer(
                    .with {
                        $0.givenName = "Bea"
                        $0.identifiers = [
                            .with {
                                $0.kind = .email
                                $0.value = "bea@example.com"
                            }
                        ]
                    }, metadata: admin
                ).customerID
                _ = try await interactions.recordTouchpoint(
                    purchase("p-ada", customer: ada, amount: 1_000), metadata: admin)
                _ = try await interactions.recordTouchpoint(
                    purchase("p-bea-1", customer: bea, amount: 2_000), metadata: admin)
                _ = try await interactions.recordTouchpoint(
                    purchase("p-bea-2", customer: bea, amount: 3_000), metadata: admin)
                _ = try await feedback.createSurvey(
                    .with {
                        $0.surveyID = "unmerge-nps"
                        $0.surveyType = .nps
                        $0.name = "NPS"
                        $0.question = "How likely are you to recommend us?"
                        $0.language = "en"
                        $0.channel = .email
                    }, metadata: admin)
                _ = try await feedback.recordResponse(
                    .with {
                        $0.responseID = "r-bea"
                        $0.customerID = bea
                        $0.surveyID = "unmerge-nps"
                        $0.score = 9
                        $0.answeredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
                    }, metadata: admin)
                let plan = try await success.createSuccessPlan(
                    .with {
                        $0.customerID = bea
                        $0.title = "Bea's onboarding"
                        $0.csmOwnerID = "csm-1"
                    }, metadata: admin)

                // Merge, with a reason: the ledger says who, when and why.
                _ = try await profiles.mergeCustomers(
                    .with {
                        $0.customerID = ada
                        $0.mergedID = bea
                        $0.note = "same person: confirmed on the phone"
                        $0.requestedBy = "agent-7"
                    }, metadata: admin)
                let ledger = try await profiles.listMerges(.with { $0.customerID = ada }, metadata: admin).merges
                let merge = try #require(ledger.first)
                #expect(ledger.count == 1 && merge.survivorID == ada && merge.mergedID == bea)
                #expect(merge.reason == .manual && merge.note == "same person: confirmed on the phone")
                #expect(merge.requestedBy == "agent-7" && !merge.hasUnmergedAt)

                try await waitForAll(.customerRekeyed, of: bea, key: admin, interactions, feedback, success)
                let joined = try await interactions.getCommerceStats(.with { $0.customerID = ada }, metadata: admin)
                #expect(joined.orders == 3 && joined.grossRevenue.amountMinor == 6_000, "\(joined)")
                let joinedResponses = try await feedback.listResponses(.with { $0.customerID = ada }, metadata: admin)
                #expect(joinedResponses.responses.map(\.responseID) == ["r-bea"])
                let joinedPlans = try await success.listSuccessPlans(.with { $0.customerID = ada }, metadata: admin)
                #expect(joinedPlans.plans.map(\.planID) == [plan.planID])

                // A purchase after the merge, under the survivor, stays with it.
                _ = try await interactions.recordTouchpoint(
                    purchase("p-ada-2", customer: ada, amount: 500), metadata: admin)

                // Undo: Bea comes back with her own identifiers, and every service moves her rows back.
                let undone = try await profiles.unmergeCustomers(
                    .with {
                        $0.mergeID = merge.mergeID
                        $0.requestedBy = "agent-9"
                    }, metadata: admin)
                #expect(undone.restored.customerID == bea && undone.restored.givenName == "Bea")
                #expect(undone.restored.identifiers.map(\.value) == ["bea@example.com"])
                #expect(undone.survivor.identifiers.map(\.value) == ["ada@example.com"])
                #expect(undone.merge.hasUnmergedAt && undone.merge.unmergedBy == "agent-9")
                try await waitForAll(.customerUnmerged, of: bea, key: admin, interactions, feedback, success)
                let adaStats = try await interactions.getCommerceStats(.with { $0.customerID = ada }, metadata: admin)
                #expect(adaStats.orders == 2 && adaStats.grossRevenue.amountMinor == 1_500, "\(adaStats)")
                let beaStats = try await interactions.getCommerceStats(.with { $0.customerID = bea }, metadata: admin)
                #expect(beaStats.orders == 2 && beaStats.grossRevenue.amountMinor == 5_000, "\(beaStats)")
                #expect(
                    try await feedback.listResponses(.with { $0.customerID = bea }, metadata: admin)
                        .responses.map(\.responseID) == ["r-bea"])
                #expect(
                    try await feedback.listResponses(.with { $0.customerID = ada }, metadata: admin).responses.isEmpty)
                #expect(
                    try await success.listSuccessPlans(.with { $0.customerID = bea }, metadata: admin)
                        .plans.map(\.planID) == [plan.planID])
                #expect(
                    try await success.listSuccessPlans(.with { $0.customerID = ada }, metadata: admin).plans.isEmpty)

                // Bea's id takes writes of its own again.
                let after = try await interactions.recordTouchpoint(
                    purchase("p-bea-3", customer: bea, amount: 700),
                    metadata: admin)
                #expect(after.touchpoint.customerID == bea)
            }
        }
    }

    @Test("bad ledger requests answer precise statuses")
    func badInput() async throws {
        try await withService("profile-service") { _, client in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
            let unknown = await #expect(throws: RPCError.self) {
                _ = try await profiles.unmergeCustomers(.with { $0.mergeID = "01a24519-39ab-76cc-8d49-3f71ab444000" })
            }
            #expect(unknown?.code == .notFound)
            let malformed = await #expect(throws: RPCError.self) {
                _ = try await profiles.unmergeCustomers(.with { $0.mergeID = "nope" })
            }
            #expect(malformed?.code == .invalidArgument && malformed?.message.hasPrefix("merge_id") == true)
            let score = await #expect(throws: RPCError.self) {
                _ = try await profiles.listMatchSuggestions(.with { $0.minScore = 2 })
            }
            #expect(score?.code == .invalidArgument && score?.message.hasPrefix("min_score") == true)
            let note = await #expect(throws: RPCError.self) {
                _ = try await profiles.mergeCustomers(
                    .with {
                        $0.customerID = "01a24519-39ab-76cc-8d49-3f71ab444001"
                        $0.mergedID = "01a24519-39ab-76cc-8d49-3f71ab444002"
                        $0.note = String(repeating: "x", count: 501)
                    })
            }
            #expect(note?.code == .invalidArgument && note?.message.hasPrefix("note") == true)
        }
    }
}
