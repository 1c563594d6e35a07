public import Foundation

/// A loyalty program that runs by itself: purchases earn points and cashback, the tier follows net spend over a
/// rolling window, and points expire. Read from a JSON file (`--loyalty-program`, e.g. `deploy/loyalty-program.json`)
/// so marketing can change the rules without a release; the pure calculators here are what the store applies.
public struct LoyaltyProgram: Sendable, Equatable, Codable {
    /// One tier's threshold and cashback rate.
    public struct TierRule: Sendable, Equatable, Codable {
        public var tier: LoyaltyTier
        /// The lowest net spend in the window (minor units) that holds the tier.
        public var minNetSpendMinor: Int64
        /// Cashback in basis points of a purchase's amount (100 = 1%).
        public var cashbackBasisPoints: Int

        public init(tier: LoyaltyTier, minNetSpendMinor: Int64, cashbackBasisPoints: Int) {
            self.tier = tier
            self.minNetSpendMinor = minNetSpendMinor
            self.cashbackBasisPoints = cashbackBasisPoints
        }
    }

    public var version: String
    /// ISO-4217 code; purchases in other currencies neither earn nor count to a tier.
    public var currencyCode: String
    /// `earnPoints` points per `earnPerAmountMinor` of the amount, rounded down.
    public var earnPoints: Int64
    public var earnPerAmountMinor: Int64
    public var tierWindowDays: Int
    /// Every tier once, bronze at 0.
    public var tiers: [TierRule]
    /// 0: points never expire.
    public var pointsExpireAfterDays: Int

    public init(
        version: String, currencyCode: String, earnPoints: Int64, earnPerAmountMinor: Int64,
        tierWindowDays: Int, tiers: [TierRule], pointsExpireAfterDays: Int
    ) {
        self.version = version
        self.currencyCode = currencyCode
        self.earnPoints = earnPoints
        self.earnPerAmountMinor = earnPerAmountMinor
        self.tierWindowDays = tierWindowDays
        self.tiers = tiers
        self.pointsExpireAfterDays = pointsExpireAfterDays
    }

    /// Reads and validates a program file.
    ///
    /// - Throws: `LoyaltyProgramError` naming the file and the field at fault.
    public static func load(contentsOf url: URL) throws -> LoyaltyProgram {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw LoyaltyProgramError(
                file: url.path, field: "", problem: "cannot be read: \(error.localizedDescription)")
        }
        let program: LoyaltyProgram
        do {
            program = try JSONDecoder().decode(LoyaltyProgram.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw LoyaltyProgramError(file: url.path, field: key.stringValue, problem: "is missing")
        } catch let DecodingError.dataCorrupted(context) {
            throw LoyaltyProgramError(
                file: url.path, field: context.codingPath.map(\.stringValue).joined(separator: "."),
                problem: "is not valid: \(context.debugDescription)")
        } catch let DecodingError.typeMismatch(_, context) {
            throw LoyaltyProgramError(
                file: url.path, field: context.codingPath.map(\.stringValue).joined(separator: "."),
                problem: "has the wrong type: \(context.debugDescription)")
        } catch {
            throw LoyaltyProgramError(file: url.path, field: "", problem: "is not a loyalty program: \(error)")
        }
        do {
            return try program.validated()
        } catch var error as LoyaltyProgramError {
            error.file = url.path
            throw error
        }
    }

    /// The program, checked: a three-letter currency, positive earn rate, a window of 1–3,650 days, every tier once
    /// with bronze at 0 and thresholds rising with the tier, cashback 0–10,000 basis points, expiry 0–3,650 days.
    public func validated() throws -> LoyaltyProgram {
        func fail(_ field: String, _ problem: String) -> LoyaltyProgramError {
            LoyaltyProgramError(file: "", field: field, problem: problem)
        }
        guard currencyCode.count == 3, currencyCode.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw fail("currencyCode", "must be an ISO-4217 code such as USD, not \"\(currencyCode)\"")
        }
        guard earnPoints > 0 else { throw fail("earnPoints", "must be greater than 0, not \(earnPoints)") }
        guard earnPerAmountMinor > 0 else {
            throw fail("earnPerAmountMinor", "must be greater than 0, not \(earnPerAmountMinor)")
        }
        guard (1...3_650).contains(tierWindowDays) else {
            throw fail("tierWindowDays", "must be 1 to 3650, not \(tierWindowDays)")
        }
        guard (0...3_650).contains(pointsExpireAfterDays) else {
            throw fail("pointsExpireAfterDays", "must be 0 (never) to 3650, not \(pointsExpireAfterDays)")
        }
        let sorted = tiers.sorted { $0.tier < $1.tier }
        guard sorted.map(\.tier) == LoyaltyTier.allCases else {
            throw fail(
                "tiers", "must name each of \(LoyaltyTier.allCases.map(\.rawValue).joined(separator: ", ")) once")
        }
        guard sorted[0].minNetSpendMinor == 0 else { throw fail("tiers.bronze.minNetSpendMinor", "must be 0") }
        for (lower, higher) in zip(sorted, sorted.dropFirst()) where higher.minNetSpendMinor <= lower.minNetSpendMinor {
            throw fail(
                "tiers.\(higher.tier.rawValue).minNetSpendMinor",
                "must be above \(lower.tier.rawValue)'s \(lower.minNetSpendMinor), not \(higher.minNetSpendMinor)")
        }
        for rule in sorted where !(0...10_000).contains(rule.cashbackBasisPoints) {
            throw fail(
                "tiers.\(rule.tier.rawValue).cashbackBasisPoints",
                "must be 0 to 10000, not \(rule.cashbackBasisPoints)")
        }
        var program = self
        program.tiers = sorted
        return program
    }

    /// Points a purchase (or a refund, taken back) of `amountMinor` is worth, rounded down.
    public func points(forAmountMinor amountMinor: Int64) -> Int64 {
        guard amountMinor > 0 else { return 0 }
        let (product, overflow) = amountMinor.multipliedReportingOverflow(by: earnPoints)
        return overflow ? Int64.max / earnPerAmountMinor : product / earnPerAmountMinor
    }

    /// The tier a net spend over the window holds.
    public func tier(forNetSpendMinor spend: Int64) -> LoyaltyTier {
        tiers.last { spend >= $0.minNetSpendMinor }?.tier ?? .bronze
    }

    /// Cashback for a purchase of `amountMinor` by a customer holding `tier`, rounded down.
    public func cashback(forAmountMinor amountMinor: Int64, tier: LoyaltyTier) -> Int64 {
        guard amountMinor > 0, let rule = tiers.first(where: { $0.tier == tier }) else { return 0 }
        let (product, overflow) = amountMinor.multipliedReportingOverflow(by: Int64(rule.cashbackBasisPoints))
        return overflow ? amountMinor / 10_000 * Int64(rule.cashbackBasisPoints) : product / 10_000
    }

    /// When points earned at `earnedAt` expire; nil when the program keeps points forever.
    public func expiry(ofPointsEarnedAt earnedAt: Date) -> Date? {
        pointsExpireAfterDays == 0 ? nil : earnedAt.addingTimeInterval(Double(pointsExpireAfterDays) * 86_400)
    }

    /// The start of the tier window ending at `now`.
    public func windowStart(endingAt now: Date) -> Date {
        now.addingTimeInterval(-Double(tierWindowDays) * 86_400)
    }
}

/// A program file that cannot be run, naming the field at fault.
public struct LoyaltyProgramError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var field: String
    public var problem: String

    public var description: String {
        let place = file.isEmpty ? "loyalty program" : "loyalty program \(file)"
        return field.isEmpty ? "\(place) \(problem)" : "\(place): \(field) \(problem)"
    }
}
