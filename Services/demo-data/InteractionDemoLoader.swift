import C360Clients
import C360Contracts
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf

/// Gives every demo customer a history in interaction-service: page views, logins, messages and campaign opens on
/// their channels, purchases (some with discount codes, a few refunded), self-service sessions, and support tickets
/// that were answered, resolved and sometimes reopened.
struct InteractionDemoLoader {
    let interactions: Customer360_V1_InteractionService.Client<PeerTransport>
    var generator: DemoGenerator
    let now: Date

    private let options = CallOptions.deadline(.seconds(30))
    private let day: TimeInterval = 86_400

    mutating func load(customers: [Customer360_V1_Customer]) async throws {
        print("demo-data: recording touchpoints for \(customers.count) customers in interaction-service…")
        var events: [Customer360_V1_RecordTouchpointsRequest] = []
        for customer in customers { events += history(of: customer) }
        let batch = events
        let response = try await interactions.recordTouchpoints(options: options) { writer in
            for (index, event) in batch.enumerated() {
                try await writer.write(event)
                if (index + 1) % 2_000 == 0 { print("demo-data: \(index + 1)/\(batch.count) touchpoints sent") }
            }
        }
        print(
            "demo-data: \(response.stored) touchpoints stored, \(response.duplicate) duplicates, \(response.rejected) rejected"
        )
        var tickets = 0
        for customer in customers where generator.chance(0.35) {
            try await supportStory(for: customer.customerID)
            tickets += 1
        }
        print("demo-data: \(tickets) support tickets with their replies")
    }

    /// A customer's touchpoints over the last 180 days; engaged customers get more, churned ones stop early.
    private mutating func history(of customer: Customer360_V1_Customer) -> [Customer360_V1_RecordTouchpointsRequest] {
        let engaged = customer.lifecycleStage == .active || customer.lifecycleStage == .onboarding
        let quietSince: TimeInterval =
            customer.lifecycleStage == .churned || customer.lifecycleStage == .atRisk ? 60 * day : 0
        let count = engaged ? Int.random(in: 25...60, using: &generator) : Int.random(in: 5...20, using: &generator)
        let preferred =
            customer.preferences.preferredChannel == .unspecified
            ? Customer360_V1_Channel.email
            : customer.preferences.preferredChannel
        var events: [Customer360_V1_RecordTouchpointsRequest] = []
        for index in 0..<count {
            let at = now.addingTimeInterval(
                -quietSince - Double.random(in: 0...(180 * day - quietSince), using: &generator))
            let roll = Double.random(in: 0..<1, using: &generator)
            var touchpoint = Customer360_V1_Touchpoint.with {
                $0.eventID = "demo-\(customer.customerID.suffix(12))-\(index)"
                $0.occurredAt = Google_Protobuf_Timestamp(date: at)
            }
            switch roll {
            case ..<0.35:
                touchpoint.kind = .pageView
                touchpoint.channel = .web
                touchpoint.direction = .inbound
                touchpoint.attributes = [
                    "page": generator.pick(["/pricing", "/docs", "/account", "/blog/nps", "/cart"])
                ]
            case ..<0.5:
                touchpoint.kind = .login
                touchpoint.channel = .app
                touchpoint.direction = .inbound
            case ..<0.6:
                touchpoint.kind = .featureUse
                touchpoint.channel = .app
                touchpoint.direction = .inbound
                touchpoint.attributes = ["feature": generator.pick(["reports", "export", "dashboards", "alerts"])]
            case ..<0.72:
                touchpoint.kind = .campaignOpen
                touchpoint.channel = preferred
                touchpoint.direction = .inbound
                touchpoint.campaignID = generator.pick(["spring-sale", "nowruz-1405", "onboarding-3"])
            case ..<0.8:
                touchpoint.kind = .message
                touchpoint.channel = preferred
                touchpoint.direction = .outbound
            case ..<0.86:
                touchpoint.kind = .selfService
                touchpoint.channel = .web
                touchpoint.direction = .inbound
                touchpoint.attributes = ["article": "how-to-export"]
            default:
                let refund = generator.chance(0.08)
                touchpoint.kind = refund ? .refund : .purchase
                touchpoint.channel = generator.chance(0.2) ? .inStore : .web
                touchpoint.direction = .inbound
                let amount = Int64.random(in: 9...400, using: &generator) * 100
                let code = !refund && generator.chance(0.3) ? generator.pick(["WELCOME10", "NOWRUZ", "VIP20"]) : ""
                touchpoint.purchase = .with {
                    $0.orderID = "ORD-\(customer.customerID.suffix(6))-\(index)"
                    $0.amount = .with {
                        $0.amountMinor = amount
                        $0.currencyCode = "USD"
                    }
                    $0.discountCode = code
                    $0.items = [
                        .with {
                            $0.sku = generator.pick(["PLAN-PRO", "ADDON-SEATS", "TRAINING"])
                            $0.quantity = 1
                            $0.unitPrice = .with {
                                $0.amountMinor = amount
                                $0.currencyCode = "USD"
                            }
                        }
                    ]
                }
            }
            events.append(
                .with {
                    $0.customerID = customer.customerID
                    $0.touchpoint = touchpoint
                })
        }
        return events
    }

    /// Opens a ticket, has an agent answer after minutes to hours, and usually resolves it (sometimes after a
    /// customer follow-up, sometimes reopened).
    private mutating func supportStory(for customerID: String) async throws {
        let opened = now.addingTimeInterval(-Double.random(in: 1...120, using: &generator) * day)
        let prefix = "demo-ticket-\(customerID.suffix(12))"
        let ticket = try await interactions.openTicket(
            .with {
                $0.customerID = customerID
                $0.eventID = "\(prefix)-open"
                $0.subject = generator.pick([
                    "Invoice is wrong", "Cannot export report", "پرداخت انجام نشد", "Login fails on app",
                ])
                $0.channel = generator.pick([.email, .chat, .phone])
                $0.priority = generator.pick([.normal, .normal, .high, .urgent])
                $0.occurredAt = Google_Protobuf_Timestamp(date: opened)
            }, options: options)
        var at = opened.addingTimeInterval(Double.random(in: 300...43_200, using: &generator))
        _ = try await interactions.replyToTicket(
            .with {
                $0.customerID = customerID
                $0.ticketID = ticket.ticketID
                $0.eventID = "\(prefix)-agent-1"
                $0.author = .agent
                $0.agentID = generator.pick(["agent-maryam", "agent-john", "agent-reza"])
                $0.occurredAt = Google_Protobuf_Timestamp(date: at)
            }, options: options)
        if generator.chance(0.3) {
            at = at.addingTimeInterval(3_600)
            _ = try await interactions.replyToTicket(
                .with {
                    $0.customerID = customerID
                    $0.ticketID = ticket.ticketID
                    $0.eventID = "\(prefix)-customer-1"
                    $0.author = .customer
                    $0.occurredAt = Google_Protobuf_Timestamp(date: at)
                }, options: options)
            at = at.addingTimeInterval(1_800)
            _ = try await interactions.replyToTicket(
                .with {
                    $0.customerID = customerID
                    $0.ticketID = ticket.ticketID
                    $0.eventID = "\(prefix)-agent-2"
                    $0.author = .agent
                    $0.agentID = "agent-maryam"
                    $0.occurredAt = Google_Protobuf_Timestamp(date: at)
                }, options: options)
        }
        guard generator.chance(0.8) else { return } // some stay open
        at = at.addingTimeInterval(Double.random(in: 600...86_400, using: &generator))
        _ = try await interactions.resolveTicket(
            .with {
                $0.customerID = customerID
                $0.ticketID = ticket.ticketID
                $0.eventID = "\(prefix)-resolve"
                $0.occurredAt = Google_Protobuf_Timestamp(date: min(at, now))
            }, options: options)
        if generator.chance(0.1) {
            _ = try await interactions.reopenTicket(
                .with {
                    $0.customerID = customerID
                    $0.ticketID = ticket.ticketID
                    $0.eventID = "\(prefix)-reopen"
                    $0.reason = "the problem came back"
                }, options: options)
        }
    }
}
