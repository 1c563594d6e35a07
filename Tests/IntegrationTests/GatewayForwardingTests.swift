import C360Clients
import C360Contracts
import C360TestExpectations
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

private typealias Transport = HTTP2ClientTransport.Posix

/// The backend services' own generated clients, all pointed at the gateway's port.
private struct FrontDoor {
    var profiles: Customer360_V1_ProfileService.Client<Transport>
    var interactions: Customer360_V1_InteractionService.Client<Transport>
    var feedback: Customer360_V1_FeedbackService.Client<Transport>
    var success: Customer360_V1_SuccessService.Client<Transport>
    var gateway: GatewayClient
    var admin: Metadata
    var agent: Metadata
    var viewer: Metadata
    var analyst: Metadata
}

/// Starts the five executables, makes one key per role, and runs `body` with clients of the four backend contracts
/// connected to the gateway (never to the services themselves).
private func withFrontDoor(_ body: (FrontDoor, GatewayStack) async throws -> Void) async throws {
    try await withGatewayStack { stack in
        let admin = bearer(stack.adminSecret)
        func key(_ role: Customer360_V1_ApiKeyRole) async throws -> Metadata {
            bearer(
                try await stack.gateway.createApiKey(
                    .with {
                        $0.name = "front-door-\(role)"
                        $0.role = role
                    }, metadata: admin
                ).secret)
        }
        let (agent, viewer, analyst) = (try await key(.agent), try await key(.viewer), try await key(.analyst))
        try await withConnectedClient(to: stack.gatewayProcess.address) { client in
            try await body(
                FrontDoor(
                    profiles: .init(wrapping: client), interactions: .init(wrapping: client),
                    feedback: .init(wrapping: client),
                    success: .init(wrapping: client), gateway: stack.gateway, admin: admin, agent: agent,
                    viewer: viewer,
                    analyst: analyst), stack)
        }
    }
}

@Suite("The gateway forwards the backend services' own contracts, under the policies Proto/ declares")
struct GatewayForwardingTests {
    @Test("an agent key reaches all four services' contracts through the gateway: unary, client- and server-streaming")
    func agentReachesEveryService() async throws {
        try await withFrontDoor { door, _ in
            let customer = try await door.profiles.createCustomer(
                .with {
                    $0.givenName = "Front"
                    $0.identifiers = [
                        .with {
                            $0.kind = .email
                            $0.value = "front.door@example.com"
                        }
                    ]
                }, metadata: door.agent)
            let id = customer.customerID
            _ = try await door.profiles.addTags(
                .with {
                    $0.customerID = id
                    $0.tags = ["vip"]
                }, metadata: door.agent)
            let earned = try await door.profiles.earnPoints(
                .with {
                    $0.customerID = id
                    $0.points = 250
                    $0.reason = "welcome"
                    $0.transactionID = "tx-front-1"
                }, metadata: door.agent)
            #expect(earned.balance == 250)
            #expect(
                try await door.profiles.getLoyalty(.with { $0.customerID = id }, metadata: door.viewer).balance == 250)

            let stored = try await door.interactions.recordTouchpoints(metadata: door.agent) { writer in
                for index in 0..<3 {
                    try await writer.write(
                        .with {
                            $0.customerID = id
                            $0.touchpoint = .with {
                                $0.eventID = "front-\(index)"
                                $0.occurredAt = Google_Protobuf_Timestamp(
                                    date: Date().addingTimeInterval(Double(-60 * (index + 1))))
                                $0.channel = .web
                                $0.kind = .pageView
                                $0.direction = .inbound
                            }
                        })
                }
            }
            #expect(stored.stored == 3)
            let exported = try await door.interactions.exportTimeline(
                .with { $0.customerID = id },
                metadata: door.analyst
            ) { response in
                var events: [String] = []
                for try await chunk in response.messages { events += chunk.touchpoints.map(\.eventID) }
                return events
            }
            #expect(Set(exported) == ["front-0", "front-1", "front-2"])

            _ = try await door.feedback.createSurvey(
                .with {
                    $0.surveyID = "front-nps"
                    $0.surveyType = .nps
                    $0.name = "Front door NPS"
                    $0.question = "How likely are you to recommend us?"
                    $0.channel = .email
                    $0.language = "en"
                }, metadata: door.agent)
            let response = try await door.feedback.recordResponse(
                .with {
                    $0.responseID = "front-r1"
                    $0.surveyID = "front-nps"
                    $0.customerID = id
                    $0.score = 10
                    $0.answeredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-30))
                }, metadata: door.agent)
            #expect(response.response.npsCategory == .promoter)

            let plan = try await door.success.createSuccessPlan(
                .with {
                    $0.customerID = id
                    $0.title = "Onboarding"
                    $0.csmOwnerID = "csm-front"
                }, metadata: door.agent)
            let plans = try await door.success.listSuccessPlans(.with { $0.customerID = id }, metadata: door.viewer)
            #expect(plans.plans.map(\.planID) == [plan.planID])
        }
    }

    @Test(
        "a role below the policy is refused naming the role it needs; no key or a bad one is UNAUTHENTICATED; nothing is stored"
    )
    func refusals() async throws {
        try await withFrontDoor { door, _ in
            await expectStatus(.permissionDenied, containing: "needs the agent role") {
                _ = try await door.profiles.createCustomer(.with { $0.givenName = "Nope" }, metadata: door.viewer)
            }
            await expectStatus(.permissionDenied, containing: "needs the analyst role") {
                _ = try await door.interactions.getRfmSegments(.init(), metadata: door.viewer)
            }
            await expectStatus(.unauthenticated) {
                _ = try await door.profiles.createCustomer(.with { $0.givenName = "Nope" })
            }
            await expectStatus(.unauthenticated) {
                _ = try await door.profiles.createCustomer(
                    .with { $0.givenName = "Nope" }, metadata: bearer("c360_wrong"))
            }
            let listed = try await door.profiles.listCustomers(.init(), metadata: door.admin)
            #expect(!listed.customers.contains { $0.givenName == "Nope" })
        }
    }

    @Test("an internal RPC is not served at the front door: UNIMPLEMENTED, even for an admin")
    func internalIsNotExposed() async throws {
        try await withFrontDoor { door, _ in
            await expectStatus(.unimplemented) {
                _ = try await door.profiles.resolveCustomers(
                    .with {
                        $0.customerIds = ["01900000-0000-7000-8000-0000000000ff"]
                    }, metadata: door.admin)
            }
            await expectStatus(.unimplemented) {
                _ = try await door.profiles.upsertTraits(.init(), metadata: door.admin)
            }
        }
    }

    @Test("a malformed request gets the owner's INVALID_ARGUMENT naming the field, passed through unchanged")
    func ownersStatusPassesThrough() async throws {
        try await withFrontDoor { door, _ in
            await expectStatus(.invalidArgument, containing: "customer_id") {
                _ = try await door.profiles.getLoyalty(.with { $0.customerID = "not-an-id" }, metadata: door.viewer)
            }
            await expectStatus(.notFound, containing: "does not exist") {
                _ = try await door.profiles.getCustomer(
                    .with { $0.customerID = "01900000-0000-7000-8000-0000000000ff" },
                    metadata: door.viewer)
            }
        }
    }

    @Test("personal data is removed from a redacted RPC's answer for a viewer and kept for an agent")
    func redaction() async throws {
        try await withFrontDoor { door, _ in
            let created = try await door.profiles.createCustomer(
                .with {
                    $0.givenName = "Parisa"
                    $0.familyName = "Private"
                    $0.identifiers = [
                        .with {
                            $0.kind = .email
                            $0.value = "parisa.private@example.com"
                        }
                    ]
                    $0.demographics = .with {
                        $0.city = "Shiraz"
                        $0.countryCode = "IR"
                    }
                    $0.tags = ["gold"]
                }, metadata: door.agent)
            let asViewer = try await door.profiles.getCustomer(
                .with { $0.customerID = created.customerID },
                metadata: door.viewer)
            #expect(asViewer.customerID == created.customerID && asViewer.tags == ["gold"])
            #expect(asViewer.givenName.isEmpty && asViewer.familyName.isEmpty && asViewer.identifiers.isEmpty)
            #expect(asViewer.demographics.city.isEmpty && asViewer.demographics.countryCode == "IR")
            let asAgent = try await door.profiles.getCustomer(
                .with { $0.customerID = created.customerID },
                metadata: door.agent)
            #expect(asAgent.givenName == "Parisa" && asAgent.identifiers.map(\.value) == ["parisa.private@example.com"])
        }
    }

    @Test(
        "a request message over its RPC's size limit is RESOURCE_EXHAUSTED at the gateway, unary or streamed, and nothing is stored"
    )
    func requestSizeLimits() async throws {
        try await withFrontDoor { door, _ in
            let huge = String(repeating: "x", count: 300 * 1024)
            await expectStatus(.resourceExhausted, containing: "at most 262144 bytes") {
                _ = try await door.profiles.createCustomer(.with { $0.givenName = huge }, metadata: door.agent)
            }
            #expect(try await door.profiles.listCustomers(.init(), metadata: door.agent).customers.isEmpty)

            let id = try await door.profiles.createCustomer(.with { $0.givenName = "Small" }, metadata: door.agent)
                .customerID
            await expectStatus(.resourceExhausted, containing: "RecordTouchpoints takes request messages of at most") {
                _ = try await door.interactions.recordTouchpoints(metadata: door.agent) { writer in
                    try await writer.write(
                        .with {
                            $0.customerID = id
                            $0.touchpoint = .with {
                                $0.eventID = "too-big"
                                $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
                                $0.channel = .web
                                $0.kind = .pageView
                                $0.body = huge
                            }
                        })
                }
            }
            let timeline = try await door.interactions.listTimeline(.with { $0.customerID = id }, metadata: door.agent)
            #expect(timeline.touchpoints.isEmpty, "\(timeline.touchpoints)")
        }
    }

    @Test("audited forwarded calls are in the audit log with the caller, the method, the customer and the status")
    func audit() async throws {
        try await withFrontDoor { door, _ in
            let customer = try await door.profiles.createCustomer(
                .with { $0.givenName = "Audited" }, metadata: door.agent)
            _ = try await door.profiles.addTags(
                .with {
                    $0.customerID = customer.customerID
                    $0.tags = ["audited"]
                }, metadata: door.agent)
            await expectStatus(.invalidArgument) {
                _ = try await door.profiles.addTags(
                    .with {
                        $0.customerID = customer.customerID
                        $0.tags = ["Bad Tag"]
                    },
                    metadata: door.agent)
            }
            let log = try await door.gateway.listAuditLog(
                .with { $0.customerID = customer.customerID }, metadata: door.admin)
            let tagging = log.records.filter { $0.method == "/customer360.v1.ProfileService/AddTags" }
            #expect(Set(tagging.map(\.statusCode)) == ["OK", "INVALID_ARGUMENT"], "\(log.records)")
            #expect(tagging.allSatisfy { $0.action == .write && $0.actorRole == .agent })

            // The log is a hash chain an admin can check; only admins may.
            let verified = try await door.gateway.verifyAuditLog(.init(), metadata: door.admin)
            #expect(verified.intact && verified.recordsChecked >= 3 && verified.headHash.count == 64, "\(verified)")
            #expect(log.records.allSatisfy { $0.hash.count == 64 })
            await expectStatus(.permissionDenied) {
                _ = try await door.gateway.verifyAuditLog(.init(), metadata: door.agent)
            }
        }
    }
}
