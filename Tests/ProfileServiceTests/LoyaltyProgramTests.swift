import C360ServerKit
import C360TestSupport
import Foundation
import Testing

@testable import C360Profile

/// The program of `deploy/loyalty-program.json` with a short expiry: 1 point per dollar, silver from $500 (1%
/// cashback), gold from $2,000 (2%), platinum from $10,000 (3%), over 365 days.
func testProgram(expireAfterDays: Int = 30) -> LoyaltyProgram {
    LoyaltyProgram(
        version: "test", currencyCode: "USD", earnPoints: 1, earnPerAmountMinor: 100, tierWindowDays: 365,
        tiers: [
            .init(tier: .bronze, minNetSpendMinor: 0, cashbackBasisPoints: 0),
            .init(tier: .silver, minNetSpendMinor: 50_000, cashbackBasisPoints: 100),
            .init(tier: .gold, minNetSpendMinor: 200_000, cashbackBasisPoints: 200),
            .init(tier: .platinum, minNetSpendMinor: 1_000_000, cashbackBasisPoints: 300),
        ],
        pointsExpireAfterDays: expireAfterDays)
}

func purchase(
    _ id: String, order: String, amount: Int64, at date: Date, kind: PurchaseFact.Kind = .purchase,
    currency: String = "USD"
) -> PurchaseFact {
    PurchaseFact(
        touchpointID: id, kind: kind, orderID: order, amountMinor: amount, currencyCode: currency, occurredAt: date)
}

@Suite("Loyalty program: the rules")
struct LoyaltyProgramRuleTests {
    @Test("points are earned per amount, rounded down; tiers follow net spend; cashback follows the tier")
    func calculators() {
        let program = testProgram()
        #expect(program.points(forAmountMinor: 12_999) == 129)
        #expect(program.points(forAmountMinor: 0) == 0)
        #expect(program.tier(forNetSpendMinor: 49_999) == .bronze)
        #expect(program.tier(forNetSpendMinor: 50_000) == .silver)
        #expect(program.tier(forNetSpendMinor: 1_000_000) == .platinum)
        #expect(program.cashback(forAmountMinor: 10_000, tier: .gold) == 200)
        #expect(program.cashback(forAmountMinor: 10_000, tier: .bronze) == 0)
    }

    @Test("the shipped program file loads")
    func shippedFile() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/loyalty-program.json")
        let program = try LoyaltyProgram.load(contentsOf: url)
        #expect(program.currencyCode == "USD")
        #expect(program.tiers.map(\.tier) == LoyaltyTier.allCases)
    }

    @Test(
        "a program that cannot run is refused with the field at fault",
        arguments: [
            "currencyCode", "earnPerAmountMinor", "tierWindowDays", "tiers", "tiers.gold.minNetSpendMinor",
            "tiers.silver.cashbackBasisPoints",
        ])
    func invalid(field: String) {
        var program = testProgram()
        switch field {
        case "currencyCode": program.currencyCode = "usd"
        case "earnPerAmountMinor": program.earnPerAmountMinor = 0
        case "tierWindowDays": program.tierWindowDays = 0
        case "tiers": program.tiers.removeLast()
        case "tiers.gold.minNetSpendMinor": program.tiers[2].minNetSpendMinor = 10
        default: program.tiers[1].cashbackBasisPoints = 10_001
        }
        #expect {
            try program.validated()
        } throws: { error in
            (error as? LoyaltyProgramError)?.field == field
        }
    }

    @Test("a file with a missing key names it")
    func missingKey() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("program-\(UUID()).json")
        try Data(#"{"version": "x", "currencyCode": "USD"}"#.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect {
            try LoyaltyProgram.load(contentsOf: url)
        } throws: { error in
            (error as? LoyaltyProgramError)?.field == "earnPoints"
        }
    }
}

@Suite("Profile store: loyalty that runs itself")
struct LoyaltyAutomationStoreTests {
    @Test("a purchase earns points and cashback once, however often it is applied")
    func exactlyOnce() async throws {
        let clock = TestClock()
        let store = try makeStore(clock: clock)
        let customer = try await store.createCustomer(newCustomer(email: "p@example.com"))
        let program = testProgram()
        // Silver already (60,000 in the window), then a 10,000 purchase: 100 points, 1% cashback.
        let history = [purchase("t1", order: "o1", amount: 60_000, at: clock.now().addingTimeInterval(-86_400))]
        let first = try await store.applyPurchases(history, customer: customer.id, program: program)
        #expect(first.applied == 1 && first.pointsDelta == 600 && first.tier == .silver && first.rewardDeltaMinor == 0)

        let more = history + [purchase("t2", order: "o2", amount: 10_000, at: clock.now())]
        let second = try await store.applyPurchases(more, customer: customer.id, program: program)
        #expect(second.applied == 1 && second.pointsDelta == 100 && second.rewardDeltaMinor == 100)
        let again = try await store.applyPurchases(more, customer: customer.id, program: program)
        #expect(again.applied == 0 && again.pointsDelta == 0 && again.rewardDeltaMinor == 0)

        let account = try await store.loyalty(customer: customer.id).account
        #expect(account.balance == 700 && account.lifetimeEarned == 700)
        #expect(account.rewardBalanceMinor == 100 && account.windowNetSpendMinor == 70_000 && account.tier == .silver)
        let history2 = try await store.loyaltyHistory(customer: customer.id, after: nil, limit: 10).items
        #expect(history2.map(\.reason) == ["order o2", "order o1"])
        #expect(history2.first?.rewardDeltaMinor == 100)
    }

    @Test("a refund takes back the refunded share of the order's points and cashback, and lowers the tier")
    func refund() async throws {
        let clock = TestClock()
        let store = try makeStore(clock: clock)
        let customer = try await store.createCustomer(newCustomer(email: "r@example.com"))
        let program = testProgram()
        let bought = [
            purchase("t1", order: "o1", amount: 60_000, at: clock.now().addingTimeInterval(-3_600)),
            // silver: 200 cashback
            purchase("t2", order: "o2", amount: 20_000, at: clock.now().addingTimeInterval(-60)),
        ]
        _ = try await store.applyPurchases(Array(bought.prefix(1)), customer: customer.id, program: program)
        _ = try await store.applyPurchases(bought, customer: customer.id, program: program)
        let refunded = bought + [purchase("t3", order: "o2", amount: 10_000, at: clock.now(), kind: .refund)]
        let result = try await store.applyPurchases(refunded, customer: customer.id, program: program)
        #expect(result.pointsDelta == -100 && result.rewardDeltaMinor == -100)
        #expect(result.windowNetSpendMinor == 70_000)

        // Refunding the big order drops the customer below silver.
        let all = refunded + [purchase("t4", order: "o1", amount: 60_000, at: clock.now(), kind: .refund)]
        let dropped = try await store.applyPurchases(all, customer: customer.id, program: program)
        #expect(dropped.tier == .bronze && dropped.pointsDelta == -600)
        let account = try await store.loyalty(customer: customer.id).account
        #expect(account.balance == 100 && account.lifetimeEarned == 800 && account.rewardBalanceMinor == 100)
    }

    @Test("purchases outside the window or in another currency neither earn nor count, and are not retried")
    func outsideWindow() async throws {
        let clock = TestClock()
        let store = try makeStore(clock: clock)
        let customer = try await store.createCustomer(newCustomer(email: "o@example.com"))
        let history = [
            purchase("old", order: "o1", amount: 900_000, at: clock.now().addingTimeInterval(-400 * 86_400)),
            purchase("eur", order: "o2", amount: 900_000, at: clock.now(), currency: "EUR"),
        ]
        let result = try await store.applyPurchases(history, customer: customer.id, program: testProgram())
        #expect(result.applied == 2 && result.pointsDelta == 0 && result.tier == .bronze)
        #expect(try await store.applyPurchases(history, customer: customer.id, program: testProgram()).applied == 0)
    }

    @Test("the tier falls when the purchases that earned it leave the window")
    func rollingWindow() async throws {
        let clock = TestClock()
        let store = try makeStore(clock: clock)
        let customer = try await store.createCustomer(newCustomer(email: "w@example.com"))
        let history = [purchase("t1", order: "o1", amount: 250_000, at: clock.now())]
        #expect(try await store.applyPurchases(history, customer: customer.id, program: testProgram()).tier == .gold)
        #expect(try await store.queueTierReview(now: clock.now()) == 1)
        clock.advance(by: 366 * 86_400)
        // The reader passes only purchases within the window, as interaction-service's time range does.
        let evaluated = try await store.applyPurchases([], customer: customer.id, program: testProgram())
        #expect(evaluated.tier == .bronze && evaluated.windowNetSpendMinor == 0)
        #expect(try await store.customer(customer.id).loyalty.tier == .bronze)
    }

    @Test("points expire oldest first; a redemption uses the points about to expire")
    func expiry() async throws {
        let clock = TestClock()
        let store = try makeStore(clock: clock)
        let customer = try await store.createCustomer(newCustomer(email: "e@example.com"))
        let program = testProgram(expireAfterDays: 30)
        _ = try await store.applyPurchases(
            [purchase("t1", order: "o1", amount: 10_000, at: clock.now())],
            customer: customer.id, program: program) // 100 points, expire day 30
        clock.advance(by: 10 * 86_400)
        _ = try await store.applyPoints(
            50, reason: "birthday", transactionID: nil,
            expiresAt: program.expiry(ofPointsEarnedAt: clock.now()), customer: customer.id)
        _ = try await store.applyPoints(-30, reason: "coffee", transactionID: nil, customer: customer.id)
        let before = try await store.loyalty(customer: customer.id).account
        #expect(before.balance == 120 && before.expiring?.points == 70)

        clock.advance(by: 21 * 86_400) // day 31: the purchase's remaining 70 expire, the birthday's 50 stay
        #expect(try await store.expirePoints(now: clock.now()) == 1)
        #expect(try await store.expirePoints(now: clock.now()) == 0)
        let after = try await store.loyalty(customer: customer.id).account
        #expect(after.balance == 50 && after.lifetimeEarned == 150 && after.expiring?.points == 50)
        #expect(
            try await store.loyaltyHistory(customer: customer.id, after: nil, limit: 1).items.first?.reason
                == "points expired")
    }

    @Test("a merge carries the reward balance to the survivor and an unmerge takes it back")
    func merge() async throws {
        let clock = TestClock()
        let store = try makeStore(clock: clock)
        let survivor = try await store.createCustomer(newCustomer(email: "s@example.com"))
        let merged = try await store.createCustomer(newCustomer(email: "m@example.com"))
        let program = testProgram()
        _ = try await store.applyPurchases(
            [purchase("t1", order: "o1", amount: 300_000, at: clock.now())],
            customer: merged.id, program: program)
        _ = try await store.applyPurchases(
            [
                purchase("t1", order: "o1", amount: 300_000, at: clock.now()),
                purchase("t2", order: "o2", amount: 10_000, at: clock.now()),
            ],
            customer: merged.id, program: program) // gold: 200 cashback
        _ = try await store.mergeCustomers(survivor: survivor.id, merged: merged.id)
        #expect(try await store.loyalty(customer: survivor.id).account.rewardBalanceMinor == 200)
        // The survivor's timeline now holds the merged purchases: applying it credits nothing twice.
        let after = try await store.applyPurchases(
            [
                purchase("t1", order: "o1", amount: 300_000, at: clock.now()),
                purchase("t2", order: "o2", amount: 10_000, at: clock.now()),
            ], customer: survivor.id, program: program)
        #expect(after.applied == 0 && after.tier == .gold)
        let entries = try await store.merges(customer: survivor.id, after: nil, limit: 10).items
        _ = try await store.unmergeCustomers(mergeID: try #require(entries.first).entry.id, requestedBy: "test")
        #expect(try await store.loyalty(customer: survivor.id).account.rewardBalanceMinor == 0)
        #expect(try await store.loyalty(customer: merged.id).account.rewardBalanceMinor == 200)
    }
}
