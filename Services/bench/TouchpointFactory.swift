import C360Interaction
import C360ServerKit
import Foundation

/// A small, fast, seedable random number generator (SplitMix64), so the same `--seed` always gives the same data
/// and two runs compare like with like.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Which kinds of touchpoints a generated data set holds.
enum TouchpointMix: Sendable {
    /// The ingest benchmark's mix: 70% page_view / login / feature_use, 10% purchase (USD), 10% message,
    /// 10% campaign_open.
    case ingest
    /// The ingest mix with support traffic, so the support queries have rows to find: 3% self_service and 1%
    /// ticket_opened (each a new ticket), taken from the page_view share.
    case withSupport
}

/// Builds benchmark touchpoints as domain values (`C360Interaction.Touchpoint`), the same values the direct path
/// stores and the gRPC path sends after conversion.
///
/// Events are spread uniformly over `customerIDs`, happened within the last 365 days (whole milliseconds, the
/// precision the store keeps, so both paths store identical values), and have event ids `bench-<index>`. Every
/// event passes interaction-service's validation.
struct TouchpointFactory {
    private static let day: Int64 = 86_400_000
    private static let paths = ["/", "/pricing", "/docs", "/account", "/blog", "/cart"]
    private static let features = ["reports", "export", "search", "dashboards", "alerts"]
    private static let skus = ["PLAN-PRO", "ADDON-SEATS", "TRAINING", "SUPPORT-PLUS"]

    /// The customers events are spread over.
    let customerIDs: [String]
    /// The kinds of events produced.
    let mix: TouchpointMix
    /// "Now" in Unix milliseconds, fixed when the factory is made: every event happened before it.
    let nowMillis: Int64
    private var random: SplitMix64

    /// A factory over `customerIDs` (at least one) whose output is fixed by `seed`.
    init(customerIDs: [String], mix: TouchpointMix, seed: UInt64, now: Date = Date()) {
        precondition(!customerIDs.isEmpty, "a touchpoint needs a customer")
        self.customerIDs = customerIDs
        self.mix = mix
        self.nowMillis = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        self.random = SplitMix64(seed: seed)
    }

    /// The touchpoints with indexes in `range`, in order.
    mutating func make(_ range: Range<Int>) -> [Touchpoint] {
        var touchpoints: [Touchpoint] = []
        touchpoints.reserveCapacity(range.count)
        for index in range {
            touchpoints.append(make(index: index))
        }
        return touchpoints
    }

    /// The touchpoint with event id `bench-<index>`.
    mutating func make(index: Int) -> Touchpoint {
        let customerID = customerIDs[Int.random(in: 0..<customerIDs.count, using: &random)]
        let occurredMillis = nowMillis - Int64.random(in: 0..<(365 * Self.day), using: &random)
        var touchpoint = Touchpoint(
            eventID: "bench-\(index)", customerID: customerID,
            occurredAt: Date(timeIntervalSince1970: Double(occurredMillis) / 1000), channel: .web,
            kind: .pageView, direction: .inbound)

        let roll = Int.random(in: 0..<100, using: &random)
        // With the support mix the page views give up 4 points: 36..<39 self-service, 39 a ticket opening.
        let pageViewsEnd = mix == .withSupport ? 36 : 40
        switch roll {
        case ..<pageViewsEnd:
            touchpoint.kind = .pageView
            touchpoint.channel = .web
            touchpoint.attributes = ["path": pick(Self.paths)]
        case ..<39:
            touchpoint.kind = .selfService
            touchpoint.channel = .web
            touchpoint.attributes = ["article": "kb-\(Int.random(in: 0..<50, using: &random))"]
        case ..<40:
            touchpoint.kind = .ticketOpened
            touchpoint.channel = pick([Channel.chat, .email, .phone])
            touchpoint.ticketID = "bench-ticket-\(index)"
            touchpoint.attributes = ["subject": "Benchmark ticket \(index)"]
        case ..<55:
            touchpoint.kind = .login
            touchpoint.channel = pick([Channel.web, .app])
        case ..<70:
            touchpoint.kind = .featureUse
            touchpoint.channel = .app
            touchpoint.attributes = ["feature": pick(Self.features)]
        case ..<80:
            touchpoint.kind = .purchase
            touchpoint.channel = pick([Channel.web, .web, .app, .inStore])
            touchpoint.purchase = purchase(index: index)
        case ..<90:
            touchpoint.kind = .message
            touchpoint.channel = pick([Channel.email, .sms, .chat])
            touchpoint.direction = Bool.random(using: &random) ? .inbound : .outbound
            touchpoint.body = "Benchmark message \(index)"
        default:
            touchpoint.kind = .campaignOpen
            touchpoint.channel = pick([Channel.email, .email, .push])
            touchpoint.campaignID = "bench-campaign-\(Int.random(in: 0..<20, using: &random))"
        }
        return touchpoint
    }

    /// One order line in USD; one purchase in five used a discount code.
    private mutating func purchase(index: Int) -> Purchase {
        let quantity = Int.random(in: 1...3, using: &random)
        let unitPrice = Int64.random(in: 5...400, using: &random) * 100
        var amount = unitPrice * Int64(quantity)
        var discountCode = ""
        var discount: Money?
        if Int.random(in: 0..<5, using: &random) == 0 {
            discountCode = "BENCH10"
            discount = Money(amount / 10, "USD")
            amount -= amount / 10
        }
        return Purchase(
            orderID: "bench-order-\(index)", amount: Money(amount, "USD"), discountCode: discountCode,
            discountAmount: discount,
            items: [PurchaseItem(sku: pick(Self.skus), quantity: quantity, unitPrice: Money(unitPrice, "USD"))])
    }

    private mutating func pick<Element>(_ choices: [Element]) -> Element {
        choices[Int.random(in: 0..<choices.count, using: &random)]
    }
}
