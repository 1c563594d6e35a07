import C360Clients
import C360Contracts
import C360ServerKit
import C360TestSupport
import Foundation
import GRPCCore
import GRPCInProcessTransport
import SwiftProtobuf
import Testing

@testable import C360Interaction

private typealias Client = Customer360_V1_InteractionService.Client<InProcessTransport.Client>

/// Runs `body` against an InteractionService whose profile directory knows ada and sara, and maps the merged-away id
/// to ada.
private func withInteractionClient(clock: TestClock = TestClock(), _ body: @Sendable (Client) async throws -> Void)
    async throws
{
    let directory = StaticCustomerDirectory(
        customers: [Customers.ada, Customers.sara],
        merged: [Customers.mergedAway: Customers.ada])
    let service = InteractionService(
        store: try makeInteractionStore(clock: clock), customers: directory,
        settings: CommerceSettings(currency: "USD"), now: { clock.now() })
    try await InProcessServer.withClient(serving: [service]) { client in
        try await body(Customer360_V1_InteractionService.Client(wrapping: client))
    }
}

private func message(
    _ eventID: String, customer: String = Customers.ada, at date: Date, kind: Customer360_V1_TouchpointKind = .pageView,
    channel: Customer360_V1_Channel = .web, direction: Customer360_V1_TouchpointDirection = .inbound
) -> Customer360_V1_RecordTouchpointRequest {
    .with {
        $0.customerID = customer
        $0.touchpoint = .with {
            $0.eventID = eventID
            $0.occurredAt = Google_Protobuf_Timestamp(date: date)
            $0.kind = kind
            $0.channel = channel
            $0.direction = direction
        }
    }
}

private func purchase(_ eventID: String, at date: Date, amount: Int64, code: String = "")
    -> Customer360_V1_RecordTouchpointRequest
{
    var request = message(eventID, at: date, kind: .purchase)
    request.touchpoint.purchase = .with {
        $0.orderID = "order-\(eventID)"
        $0.amount = .with {
            $0.amountMinor = amount
            $0.currencyCode = "USD"
        }
        $0.discountCode = code
    }
    return request
}

@Suite("InteractionService RPCs")
struct InteractionServiceHandlerTests {
    @Test("an unknown customer is refused with FAILED_PRECONDITION; a merged-away id is stored under the survivor")
    func customersAreReal() async throws {
        let clock = TestClock()
        try await withInteractionClient(clock: clock) { interactions in
            let error = await #expect(throws: RPCError.self) {
                _ = try await interactions.recordTouchpoint(message("e1", customer: Customers.unknown, at: clock.now()))
            }
            #expect(error?.code == .failedPrecondition)
            #expect(error?.message.contains("not known to profile-service") == true)

            let stored = try await interactions.recordTouchpoint(
                message("e2", customer: Customers.mergedAway, at: clock.now()))
            #expect(stored.touchpoint.customerID == Customers.ada && !stored.duplicate)
            let again = try await interactions.recordTouchpoint(
                message("e2", customer: Customers.mergedAway, at: clock.now()))
            #expect(again.duplicate && again.touchpoint.eventID == "e2")
            let timeline = try await interactions.listTimeline(.with { $0.customerID = Customers.ada })
            #expect(timeline.touchpoints.map(\.eventID) == ["e2"])
        }
    }

    /// One way to break an otherwise valid request, and the field the answer must name.
    enum Breakage: String, CaseIterable, Sendable {
        case emptyEventID, spaceInEventID, noOccurredAt, farFuture, noChannel, noDirection, purchaseWithoutDetails
        case replyWithoutTicket, otherCustomerInside, malformedCustomerID
        // Extreme values that once reached an integer conversion and crashed the process.
        case occurredAtMinimumSeconds, occurredAtBeyondYear9999, negativeNanos, hugeDuration, durationSignsDisagree
        case amountBeyondMaximum

        var field: String {
            switch self {
            case .emptyEventID, .spaceInEventID: "touchpoint.event_id"
            case .noOccurredAt, .farFuture, .occurredAtMinimumSeconds, .occurredAtBeyondYear9999, .negativeNanos:
                "touchpoint.occurred_at"
            case .hugeDuration, .durationSignsDisagree: "touchpoint.duration"
            case .amountBeyondMaximum: "touchpoint.purchase.amount.amount_minor"
            case .noChannel: "touchpoint.channel"
            case .noDirection: "touchpoint.direction"
            case .purchaseWithoutDetails: "touchpoint.purchase"
            case .replyWithoutTicket: "touchpoint.ticket_id"
            case .otherCustomerInside: "touchpoint.customer_id"
            case .malformedCustomerID: "customer_id"
            }
        }

        func apply(to request: inout Customer360_V1_RecordTouchpointRequest, now: Date) {
            switch self {
            case .emptyEventID: request.touchpoint.eventID = ""
            case .spaceInEventID: request.touchpoint.eventID = "has space"
            case .noOccurredAt: request.touchpoint.clearOccurredAt()
            case .farFuture:
                request.touchpoint.occurredAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(3_600))
            case .noChannel: request.touchpoint.channel = .unspecified
            case .occurredAtMinimumSeconds: request.touchpoint.occurredAt.seconds = .min
            case .occurredAtBeyondYear9999: request.touchpoint.occurredAt.seconds = 4_611_686_018_427_387_904
            case .negativeNanos: request.touchpoint.occurredAt.nanos = -1
            case .hugeDuration: request.touchpoint.duration = .with { $0.seconds = .max }
            case .durationSignsDisagree:
                request.touchpoint.duration = .with {
                    $0.seconds = 5
                    $0.nanos = -1
                }
            case .amountBeyondMaximum:
                request.touchpoint.kind = .purchase
                request.touchpoint.purchase = .with {
                    $0.orderID = "o"
                    $0.amount = .with {
                        $0.amountMinor = .max
                        $0.currencyCode = "USD"
                    }
                }
            case .noDirection: request.touchpoint.direction = .unspecified
            case .purchaseWithoutDetails: request.touchpoint.kind = .purchase
            case .replyWithoutTicket: request.touchpoint.kind = .ticketReply
            case .otherCustomerInside: request.touchpoint.customerID = Customers.sara
            case .malformedCustomerID: request.customerID = "nope"
            }
        }
    }

    @Test("malformed events answer INVALID_ARGUMENT naming the field, and store nothing", arguments: Breakage.allCases)
    func invalid(breakage: Breakage) async throws {
        let clock = TestClock()
        try await withInteractionClient(clock: clock) { interactions in
            var request = message("bad", at: clock.now().addingTimeInterval(-5))
            breakage.apply(to: &request, now: clock.now())
            let error = await #expect(throws: RPCError.self) { _ = try await interactions.recordTouchpoint(request) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("\(breakage.field):") == true, "\(error?.message ?? "")")
            let timeline = try await interactions.listTimeline(.with { $0.customerID = Customers.ada })
            #expect(timeline.touchpoints.isEmpty)
        }
    }

    @Test(
        "an event id sent again with the same event is a duplicate; with a different event it is refused, naming the field"
    )
    func eventIDReusedForAnotherEvent() async throws {
        let clock = TestClock()
        try await withInteractionClient(clock: clock) { interactions in
            let at = clock.now().addingTimeInterval(-60)
            var original = message("k1", at: at)
            original.touchpoint.body = "viewed pricing"
            _ = try await interactions.recordTouchpoint(original)

            let retry = try await interactions.recordTouchpoint(original)
            #expect(retry.duplicate && retry.touchpoint.body == "viewed pricing")

            var other = original
            other.touchpoint.body = "viewed checkout"
            let error = await #expect(throws: RPCError.self) { _ = try await interactions.recordTouchpoint(other) }
            #expect(error?.code == .alreadyExists)
            #expect(error?.message.contains("touchpoint.event_id 'k1'") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("touchpoint.body differs") == true, "\(error?.message ?? "")")

            let elsewhere = message("k1", customer: Customers.sara, at: at)
            let stream = try await interactions.recordTouchpoints { writer in
                try await writer.write(
                    .with {
                        $0.customerID = elsewhere.customerID
                        $0.touchpoint = elsewhere.touchpoint
                    })
            }
            #expect(stream.duplicate == 0 && stream.rejected == 1)
            #expect(stream.rejections.first?.code == "ALREADY_EXISTS")
            #expect(stream.rejections.first?.field == "touchpoint.customer_id")

            let timeline = try await interactions.listTimeline(.with { $0.customerID = Customers.ada })
            #expect(timeline.touchpoints.map(\.body) == ["viewed pricing"])
            #expect(try await interactions.listTimeline(.with { $0.customerID = Customers.sara }).touchpoints.isEmpty)
        }
    }

    @Test("a streamed batch answers counts of stored, duplicate and rejected, with the reason for each rejection")
    func batch() async throws {
        let clock = TestClock()
        try await withInteractionClient(clock: clock) { interactions in
            let now = clock.now()
            var badPurchase = message("bad-money", at: now, kind: .purchase)
            badPurchase.touchpoint.purchase = .with {
                $0.orderID = "o"
                $0.amount = .with {
                    $0.amountMinor = 100
                    $0.currencyCode = "dollars"
                }
            }
            let batch: [Customer360_V1_RecordTouchpointRequest] = [
                message("b1", at: now), message("b2", at: now), message("b1", at: now),
                message("b3", customer: Customers.unknown, at: now), badPurchase,
                message("b4", customer: Customers.sara, at: now),
            ].map { request in
                .with {
                    $0.customerID = request.customerID
                    $0.touchpoint = request.touchpoint
                }
            }
            let response = try await interactions.recordTouchpoints { writer in
                for request in batch {
                    try await writer.write(
                        .with {
                            $0.customerID = request.customerID
                            $0.touchpoint = request.touchpoint
                        })
                }
            }
            #expect(response.received == 6 && response.stored == 3 && response.duplicate == 1 && response.rejected == 2)
            #expect(response.rejections.map(\.index) == [3, 4])
            #expect(response.rejections.map(\.code) == ["FAILED_PRECONDITION", "INVALID_ARGUMENT"])
            #expect(response.rejections[1].field == "touchpoint.purchase.amount.currency_code")
            #expect(response.rejections[1].eventID == "bad-money")
        }
    }

    @Test("a ticket's life through the RPCs: first response time, resolution, FCR lost on reopen, idempotent retries")
    func ticketFlow() async throws {
        let clock = TestClock()
        try await withInteractionClient(clock: clock) { interactions in
            let opened = clock.now().addingTimeInterval(-3_600)
            let openRequest = Customer360_V1_OpenTicketRequest.with {
                $0.customerID = Customers.ada
                $0.eventID = "open-1"
                $0.subject = "Refund missing"
                $0.channel = .email
                $0.priority = .high
                $0.occurredAt = Google_Protobuf_Timestamp(date: opened)
            }
            let ticket = try await interactions.openTicket(openRequest)
            #expect(ticket.status == .open && ticket.priority == .high && ticket.subject == "Refund missing")
            #expect(try await interactions.openTicket(openRequest).ticketID == ticket.ticketID) // retried: same ticket

            let replied = try await interactions.replyToTicket(
                .with {
                    $0.customerID = Customers.ada
                    $0.ticketID = ticket.ticketID
                    $0.eventID = "reply-1"
                    $0.author = .agent
                    $0.agentID = "agent-3"
                    $0.occurredAt = Google_Protobuf_Timestamp(date: opened.addingTimeInterval(900))
                })
            // 15 minutes to the first agent reply.
            #expect(replied.status == .awaitingCustomer && replied.firstResponseTime.seconds == 900)
            let resolved = try await interactions.resolveTicket(
                .with {
                    $0.customerID = Customers.ada
                    $0.ticketID = ticket.ticketID
                    $0.eventID = "resolve-1"
                    $0.occurredAt = Google_Protobuf_Timestamp(date: opened.addingTimeInterval(1_800))
                })
            #expect(resolved.status == .resolved && resolved.resolutionTime.seconds == 1_800)
            #expect(resolved.hasFirstContactResolution && resolved.firstContactResolution)

            let replyToResolved = await #expect(throws: RPCError.self) {
                _ = try await interactions.replyToTicket(
                    .with {
                        $0.customerID = Customers.ada
                        $0.ticketID = ticket.ticketID
                        $0.eventID = "reply-2"
                        $0.author = .customer
                    })
            }
            #expect(replyToResolved?.code == .failedPrecondition)
            let reopened = try await interactions.reopenTicket(
                .with {
                    $0.customerID = Customers.ada
                    $0.ticketID = ticket.ticketID
                    $0.eventID = "reopen-1"
                    $0.reason = "still no refund"
                })
            #expect(reopened.status == .open && reopened.reopenCount == 1 && !reopened.hasFirstContactResolution)

            let notHers = await #expect(throws: RPCError.self) {
                _ = try await interactions.getTicket(
                    .with {
                        $0.customerID = Customers.sara
                        $0.ticketID = ticket.ticketID
                    })
            }
            #expect(notHers?.code == .failedPrecondition)
            let thread = try await interactions.listTimeline(
                .with {
                    $0.customerID = Customers.ada
                    $0.ticketID = ticket.ticketID
                })
            #expect(thread.touchpoints.map(\.eventID) == ["reopen-1", "resolve-1", "reply-1", "open-1"])
        }
    }

    @Test("commerce stats over the wire: 3 orders of 2,000 / 4,000 / 6,000 cents, two with a code, one 1,000 refund")
    func commerce() async throws {
        let clock = TestClock()
        try await withInteractionClient(clock: clock) { interactions in
            let day: TimeInterval = 86_400
            let now = clock.now()
            _ = try await interactions.recordTouchpoint(
                purchase("p1", at: now.addingTimeInterval(-200 * day), amount: 2_000, code: "A"))
            _ = try await interactions.recordTouchpoint(
                purchase("p2", at: now.addingTimeInterval(-100 * day), amount: 4_000, code: "B"))
            _ = try await interactions.recordTouchpoint(
                purchase("p3", at: now.addingTimeInterval(-10 * day), amount: 6_000))
            var refund = message("r1", at: now.addingTimeInterval(-5 * day), kind: .refund)
            refund.touchpoint.purchase = .with {
                $0.orderID = "order-p3"
                $0.amount = .with {
                    $0.amountMinor = 1_000
                    $0.currencyCode = "USD"
                }
            }
            _ = try await interactions.recordTouchpoint(refund)
            let stats = try await interactions.getCommerceStats(.with { $0.customerID = Customers.ada })
            // Gross 12,000; net 11,000; AOV 12,000 / 3 = 4,000; repeat rate 2/3; discount share 2/3 (not driven).
            #expect(stats.orders == 3 && stats.refunds == 1)
            #expect(stats.grossRevenue.amountMinor == 12_000 && stats.netRevenue.amountMinor == 11_000)
            #expect(stats.averageOrderValue.amountMinor == 4_000)
            #expect(abs(stats.repeatPurchaseRate - 2.0 / 3.0) < 1e-9 && abs(stats.discountShare - 2.0 / 3.0) < 1e-9)
            #expect(!stats.discountDriven && stats.historicClv.amountMinor == 11_000)
            // 3 orders over 200 days = 5.48 per year; predictive CLV = 4,000 × 5.479 × 3 years ≈ 65,745.
            let perYear = 3.0 / (200.0 / 365.25)
            #expect(abs(stats.purchasesPerYear - perYear) < 1e-6)
            #expect(abs(Double(stats.predictiveClv.amountMinor) - (4_000 * perYear * 3).rounded()) <= 1)
            #expect(stats.rfm.segment != .unspecified)
        }
    }

    @Test("GetCustomerStats returns the newest touchpoints beside the statistics when asked, and refuses more than 100")
    func statsWithRecentTouchpoints() async throws {
        let clock = TestClock()
        try await withInteractionClient(clock: clock) { interactions in
            let now = clock.now()
            for (index, hoursAgo) in [30.0, 2, 10, 1].enumerated() {
                _ = try await interactions.recordTouchpoint(
                    message("e\(index)", at: now.addingTimeInterval(-hoursAgo * 3_600)))
            }
            let plain = try await interactions.getCustomerStats(.with { $0.customerID = Customers.ada })
            #expect(plain.recentTouchpoints.isEmpty)
            #expect(plain.engagement.totalTouchpoints == 4)

            let withRecent = try await interactions.getCustomerStats(
                .with {
                    $0.customerID = Customers.mergedAway
                    $0.recentTouchpoints = 3
                })
            #expect(withRecent.customerID == Customers.ada)
            #expect(withRecent.recentTouchpoints.map(\.eventID) == ["e3", "e1", "e2"])
            #expect(withRecent.engagement == plain.engagement)

            await #expect(throws: RPCError.self) {
                _ = try await interactions.getCustomerStats(
                    .with {
                        $0.customerID = Customers.ada
                        $0.recentTouchpoints = 101
                    })
            }
            do {
                _ = try await interactions.getCustomerStats(
                    .with {
                        $0.customerID = Customers.ada
                        $0.recentTouchpoints = -1
                    })
                Issue.record("a negative count was accepted")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains("recent_touchpoints"))
            }
        }
    }
}
