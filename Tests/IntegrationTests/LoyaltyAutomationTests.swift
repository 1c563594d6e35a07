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

/// The shipped program (deploy/loyalty-program.json): 1 point per dollar; silver from $500 with 1% cashback.
private let programFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("deploy/loyalty-program.json").path

private func purchase(
    _ eventID: String, customer: String, order: String, cents: Int64,
    kind: Customer360_V1_TouchpointKind = .purchase
) -> Customer360_V1_RecordTouchpointRequest {
    .with {
        $0.customerID = customer
        $0.touchpoint = .with {
            $0.eventID = eventID
            $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
            $0.channel = .web
            $0.direction = .inbound
            $0.kind = kind
            $0.purchase = .with {
                $0.orderID = order
                $0.amount = .with {
                    $0.amountMinor = cents
                    $0.currencyCode = "USD"
                }
            }
        }
    }
}

/// Waits for the next LOYALTY_CHANGED of `customer` on profile-service's feed after `sequence`.
private func nextLoyaltyChange(
    _ profiles: Customer360_V1_ProfileService.Client<Transport>, customer: String, after sequence: UInt64
) async throws -> UInt64 {
    var request = ChangeFeedWait.request(.loyaltyChanged, customer: customer)
    request.afterSequence = sequence
    return try await ChangeFeedWait.first(request) { try await profiles.watchChanges($0, options: $1, onResponse: $2) }
        .sequence
}

/// Records `request`, retrying while interaction-service's connection to the restarted profile-service is still
/// backing off (UNAVAILABLE): its reconnection has no signal a test could wait for.
private func record(
    _ request: Customer360_V1_RecordTouchpointRequest,
    with interactions: Customer360_V1_InteractionService.Client<Transport>
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .seconds(20))
    while true {
        do {
            _ = try await interactions.recordTouchpoint(request)
            return
        } catch let error as RPCError where error.code == .unavailable && clock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

@Suite("Loyalty that runs itself: profile-service following interaction-service's purchases")
struct LoyaltyAutomationTests {
    @Test("purchases already recorded when the program starts are credited; new ones, refunds and the tier follow")
    func runsItself() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("c360-loyalty-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        // profile-service first without a program, so interaction-service can be pointed at it.
        let plain = try await ServiceProcess.start("profile-service", dataDirectory: data)
        let port = plain.port
        do {
            try await withService("interaction-service", arguments: ["--profile-addr", "\(plain.address)"]) {
                interaction, client in
                let interactions = Customer360_V1_InteractionService.Client(wrapping: client)
                let customerID = try await withConnectedClient(to: plain.address) { client in
                    let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
                    await expectStatus(.failedPrecondition) { _ = try await profiles.getLoyaltyProgram(.init()) }
                    return try await profiles.createCustomer(.with { $0.givenName = "Leila" }).customerID
                }
                _ = try await interactions.recordTouchpoint(
                    purchase("p1", customer: customerID, order: "o1", cents: 60_000))
                #expect(try await plain.terminate().isSuccess)

                // Same database and port, now running the program: the feed replays and the purchase is credited.
                let arguments = [
                    "--port", "\(port)", "--loyalty-program", programFile,
                    "--interaction-addr", "\(interaction.address)", "--loyalty-delay-ms", "0",
                ]
                try await withService("profile-service", arguments: arguments, dataDirectory: data) { _, client in
                    let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
                    #expect(try await profiles.getLoyaltyProgram(.init()).tiers.count == 4)
                    var seen = try await nextLoyaltyChange(profiles, customer: customerID, after: 0)
                    var account = try await profiles.getLoyalty(.with { $0.customerID = customerID })
                    #expect(account.balance == 600 && account.tier == .silver)
                    #expect(
                        account.windowNetSpend.amountMinor == 60_000 && account.windowNetSpend.currencyCode == "USD")
                    #expect(account.expiringPoints == 600 && account.hasExpiringAt)

                    // As silver, a $100 purchase earns 100 points and $1 cashback.
                    try await record(
                        purchase("p2", customer: customerID, order: "o2", cents: 10_000), with: interactions)
                    seen = try await nextLoyaltyChange(profiles, customer: customerID, after: seen)
                    account = try await profiles.getLoyalty(.with { $0.customerID = customerID })
                    #expect(account.balance == 700 && account.rewardBalance.amountMinor == 100)

                    // Refunding the first order takes its points back and the customer falls to bronze.
                    try await record(
                        purchase("r1", customer: customerID, order: "o1", cents: 60_000, kind: .refund),
                        with: interactions)
                    _ = try await nextLoyaltyChange(profiles, customer: customerID, after: seen)
                    account = try await profiles.getLoyalty(.with { $0.customerID = customerID })
                    #expect(
                        account.balance == 100 && account.tier == .bronze && account.rewardBalance.amountMinor == 100)
                    let history = try await profiles.listLoyaltyHistory(.with { $0.customerID = customerID })
                    #expect(history.transactions.map(\.reason) == ["refund of order o1", "order o2", "order o1"])
                    #expect(history.transactions[1].rewardDelta.amountMinor == 100)
                }
            }
        } catch {
            await plain.cleanup()
            throw error
        }
        await plain.cleanup()
    }
}
