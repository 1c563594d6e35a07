import C360ServerKit
import C360StoreKit
import Foundation
public import GRDB

/// A row of `customer`: the profile's scalar fields and its lifecycle state.
struct CustomerRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "customer"

    /// Whether the row is a live customer, soft-deleted, erased (tombstone) or merged into another.
    enum State: String, Codable {
        case active, deleted, erased, merged
    }

    var id: String
    var state: State
    var mergedInto: String?
    // Names, city and company are personal: sealed under the customer's data key (`Keyring`), read through
    // `ProfileStore.personal(of:)` and written through `ProfileStore.setPersonal(_:of:_:)`.
    var givenName: SealedText
    var familyName: SealedText
    /// The blind index (`Keyring.blindIndex`) of the name, birth year and city folded for identity resolution
    /// (`IdentityMatch.personKey`); nil unless all are known.
    var matchKey: String?
    var birthYear: Int?
    var city: SealedText
    var countryCode: String
    var language: String
    var company: SealedText
    var preferredChannel: Channel?
    var preferredLanguage: String
    var quietHours: QuietHours?
    var lifecycleStage: LifecycleStage?
    var loyaltyBalance: Int64
    var loyaltyLifetime: Int64
    /// Set by the loyalty program (migration v3); optional so merge-undo snapshots written before it still decode.
    var spendTier: LoyaltyTier? = nil
    var windowSpendMinor: Int64? = nil
    var rewardBalanceMinor: Int64? = nil
    var createdAt: Date
    var updatedAt: Date
    var deletedAt: Date?
    var erasedAt: Date?

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let state = Column(CodingKeys.state)
        static let mergedInto = Column(CodingKeys.mergedInto)
        static let matchKey = Column(CodingKeys.matchKey)
        static let countryCode = Column(CodingKeys.countryCode)
        static let lifecycleStage = Column(CodingKeys.lifecycleStage)
        static let createdAt = Column(CodingKeys.createdAt)
        static let windowSpendMinor = Column(CodingKeys.windowSpendMinor)
    }

    /// Whether the customer whose id `column` holds exists and is active.
    static func isActive(_ column: Column) -> SQLExpression {
        filter(Columns.id == column && Columns.state == State.active.rawValue).exists()
    }

    /// The row's loyalty standing (the soonest expiry is read separately, from the lots).
    var loyaltyAccount: LoyaltyAccount {
        LoyaltyAccount(
            balance: loyaltyBalance, lifetimeEarned: loyaltyLifetime, spendTier: spendTier,
            windowNetSpendMinor: windowSpendMinor, rewardBalanceMinor: rewardBalanceMinor)
    }

}

/// A row of `customer_identifier`: one external identifier, unique across all customers.
///
/// The value is personal, so it is sealed under its customer's key; uniqueness and lookups use its blind index.
struct IdentifierRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "customer_identifier"
    var kind: IdentifierKind
    /// The blind index of the (normalised) value: the primary key with `kind`.
    var valueIndex: String
    var value: SealedText
    var customerId: String
    var createdAt: Date
    /// The blind index of the value as identity resolution compares it (`IdentityMatch.identifierKey`).
    var matchKey: String

    enum Columns {
        static let kind = Column(CodingKeys.kind)
        static let valueIndex = Column(CodingKeys.valueIndex)
        static let customerId = Column(CodingKeys.customerId)
        static let matchKey = Column(CodingKeys.matchKey)
    }
}

/// A row of `customer_search_token`: one blind-indexed prefix (`SearchTerms`) of a customer's name words or email,
/// so prefix search finds candidates through an index without the names being stored in the clear.
struct SearchTokenRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "customer_search_token"
    var token: String
    var customerId: String

    enum Columns {
        static let token = Column(CodingKeys.token)
        static let customerId = Column(CodingKeys.customerId)
    }
}

/// A row of `customer_tag`.
struct TagRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "customer_tag"
    var customerId: String
    var tag: String

    enum Columns {
        static let customerId = Column(CodingKeys.customerId)
        static let tag = Column(CodingKeys.tag)
    }
}

/// A row of `customer_attribute`: a custom key/value set by clients.
struct AttributeRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "customer_attribute"
    var customerId: String
    var key: String
    /// Attribute values may be anything a client keeps about the person (an address, a birthday): all are sealed.
    var value: SealedText

    enum Columns {
        static let customerId = Column(CodingKeys.customerId)
        static let key = Column(CodingKeys.key)
    }
}

/// A row of `customer_trait`: a computed value another service published.
struct TraitRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "customer_trait"
    var customerId: String
    var key: String
    var value: TraitValue
    var updatedAt: Date

    enum Columns {
        static let customerId = Column(CodingKeys.customerId)
        static let key = Column(CodingKeys.key)
        static let updatedAt = Column(CodingKeys.updatedAt)
    }
}

/// A row of `consent_decision`: one grant or withdrawal, never updated.
struct ConsentRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "consent_decision"
    var id: String
    var customerId: String
    var purpose: ConsentPurpose
    var channel: Channel
    var status: ConsentStatus
    var source: String
    var decidedAt: Date
    var recordedAt: Date

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let customerId = Column(CodingKeys.customerId)
        static let decidedAt = Column(CodingKeys.decidedAt)
    }
}

/// A row of `loyalty_transaction`: one earn, redemption or expiry. Only `remaining` ever changes: an earn whose
/// points expire is also a lot that redemptions, refunds and expiry draw down, soonest expiry first.
struct LoyaltyRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "loyalty_transaction"
    var id: String
    var customerId: String
    var pointsDelta: Int64
    var reason: String
    var occurredAt: Date
    var balanceAfter: Int64
    var requestFingerprint: String
    /// Points of this earn not yet redeemed or expired; nil for entries that are not expiring lots.
    var remaining: Int64? = nil
    var expiresAt: Date? = nil
    /// Cashback credited or taken back with this entry (minor units).
    var rewardDeltaMinor: Int64? = nil

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let customerId = Column(CodingKeys.customerId)
        static let remaining = Column(CodingKeys.remaining)
        static let expiresAt = Column(CodingKeys.expiresAt)
    }
}

/// A row of `loyalty_purchase`: a purchase or refund touchpoint the loyalty program has applied, so each is applied
/// exactly once (its points and cashback are written in the same transaction).
struct LoyaltyPurchaseRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "loyalty_purchase"
    var touchpointId: String
    var customerId: String
    var orderId: String
    var kind: PurchaseFact.Kind
    var amountMinor: Int64
    var currencyCode: String
    var occurredAt: Date
    var points: Int64
    var cashbackMinor: Int64
    var appliedAt: Date

    enum Columns {
        static let touchpointId = Column(CodingKeys.touchpointId)
        static let customerId = Column(CodingKeys.customerId)
        static let orderId = Column(CodingKeys.orderId)
        static let kind = Column(CodingKeys.kind)
        static let amountMinor = Column(CodingKeys.amountMinor)
        static let cashbackMinor = Column(CodingKeys.cashbackMinor)
    }
}

// Domain enums are stored by their raw (snake_case) names.
extension IdentifierKind: DatabaseValueConvertible {}
extension LifecycleStage: DatabaseValueConvertible {}
extension LoyaltyTier: DatabaseValueConvertible {}
extension PurchaseFact.Kind: DatabaseValueConvertible {}
extension ConsentPurpose: DatabaseValueConvertible {}
extension ConsentStatus: DatabaseValueConvertible {}
