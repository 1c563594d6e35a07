import C360ServerKit
import C360StoreKit
import C360TestSupport
import Foundation
import GRDB

@testable import C360Interaction

/// A store on a fresh in-memory database, summing in USD, with a hand-moved clock.
func makeInteractionStore(
    clock: TestClock = TestClock(), owned: OwnedSlots = .everyone,
    handOver: @escaping @Sendable (Database, String) throws -> Void = { _, _ in }
) throws -> InteractionStore {
    try InteractionStore(
        writer: ServiceDatabase.inMemory(), keyring: .inMemory(), currency: "USD", owned: owned, handOver: handOver,
        now: { clock.now() })
}

/// Customer ids that exist in the tests' profile directory.
enum Customers {
    static let ada = "01900000-0000-7000-8000-00000000000a"
    static let sara = "01900000-0000-7000-8000-00000000000b"
    static let mergedAway = "01900000-0000-7000-8000-00000000000c"
    static let unknown = "01900000-0000-7000-8000-0000000000ff"
}

/// A touchpoint with sensible defaults, `minutes` after the clock's start.
func touchpoint(
    _ eventID: String, customer: String = Customers.ada, at date: Date, channel: Channel = .web,
    kind: TouchpointKind = .pageView, direction: TouchpointDirection = .inbound, ticketID: String = "",
    agentID: String = "", purchase: Purchase? = nil, attributes: [String: String] = [:]
) -> Touchpoint {
    Touchpoint(
        eventID: eventID, customerID: customer, occurredAt: date, channel: channel, kind: kind,
        direction: direction, agentID: agentID, ticketID: ticketID, purchase: purchase, attributes: attributes)
}
