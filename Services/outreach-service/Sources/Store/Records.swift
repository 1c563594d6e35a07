public import C360ServerKit
public import C360StoreKit
public import Foundation
public import GRDB

/// What outreach-service knows of one customer, copied from the services that own each fact (profile, interaction,
/// feedback, success) whenever their feeds say it changed. Segments are evaluated over these rows alone.
///
/// Who the customer is and how to reach them (names, addresses, city) is personal data: it is held here only sealed
/// under the customer's key (`OutreachStore.store` seals a `CustomerContact`), so the database, its WAL and its
/// backups hold ciphertext, and erasure shreds the key. No segment rule reads these columns; what rules read stays in
/// the clear.
public struct CustomerFacts: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "customer_fact"

    public var customerId: String
    public internal(set) var givenName = SealedText.empty
    public internal(set) var familyName = SealedText.empty
    public internal(set) var email = SealedText.empty
    public internal(set) var phone = SealedText.empty
    /// A device token for push messages, from the profile attribute `push_token`.
    public internal(set) var pushToken = SealedText.empty
    public var language = ""
    public var countryCode = ""
    public internal(set) var city = SealedText.empty
    /// IANA zone of quiet hours and local times; empty means UTC.
    public var timeZone = ""
    public var quietStartMinute: Int?
    public var quietEndMinute: Int?
    public var preferredChannel = ""
    public var bestChannel = ""
    public var lifecycleStage = ""
    public var loyaltyTier = ""
    public var loyaltyPoints: Int64 = 0
    public var rfmSegment = ""
    public var clvMinor: Int64 = 0
    public var orders: Int64 = 0
    public var discountDriven = false
    public var lastPurchaseAt: Int64?
    public var lastSeenAt: Int64?
    public var createdAt: Int64?
    public var totalTouchpoints: Int64 = 0
    public var touchpoints7d: Int64 = 0
    public var touchpoints30d: Int64 = 0
    public var touchpoints90d: Int64 = 0
    public var npsCategory = ""
    public var latestCsat: Int?
    public var sentiment = ""
    public var healthBand = ""
    public var healthScore: Double?
    public var openAlerts: Int64 = 0
    public var churnRisk = false
    /// The profile's free attributes as a JSON object (segment rules read them with `json_extract`).
    public var attributes = "{}"
    /// The top item-to-item recommendation (interaction-service's RecommendProducts): the product's name, or its SKU.
    public var recommendation = ""
    public var refreshedAt: Int64

    public init(customerId: String, refreshedAt: Int64) {
        self.customerId = customerId
        self.refreshedAt = refreshedAt
    }

    public enum Columns {
        public static let customerId = Column(CodingKeys.customerId)
        public static let lifecycleStage = Column(CodingKeys.lifecycleStage)
        public static let npsCategory = Column(CodingKeys.npsCategory)
        public static let latestCsat = Column(CodingKeys.latestCsat)
        public static let clvMinor = Column(CodingKeys.clvMinor)
        public static let healthBand = Column(CodingKeys.healthBand)
        public static let churnRisk = Column(CodingKeys.churnRisk)
        public static let discountDriven = Column(CodingKeys.discountDriven)
    }
}

/// Who a customer is and how to reach them, in the clear: what the store seals into `CustomerFacts`, and what a send
/// reads afresh from profile-service (never from the read model, which may lag).
public struct CustomerContact: Sendable, Equatable {
    public var givenName = ""
    public var familyName = ""
    public var email = ""
    public var phone = ""
    /// A device token for push messages, from the profile attribute `push_token`.
    public var pushToken = ""
    public var city = ""

    public init(
        givenName: String = "", familyName: String = "", email: String = "", phone: String = "",
        pushToken: String = "", city: String = ""
    ) {
        self.givenName = givenName
        self.familyName = familyName
        self.email = email
        self.phone = phone
        self.pushToken = pushToken
        self.city = city
    }

    /// The address a message on `channel` goes to; "" when the customer has none.
    public func address(on channel: Channel) -> String {
        switch channel {
        case .email: email
        case .sms: phone
        default: pushToken
        }
    }
}

/// One tag of a customer (the read model's copy).
public struct CustomerTag: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "customer_tag"
    public var customerId: String
    public var tag: String
}

/// One consent decision of a customer (the read model's copy, for segment rules; sending asks profile-service).
public struct CustomerConsent: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "customer_consent"
    public var customerId: String
    /// `marketing`, `service_messages`…
    public var purpose: String
    public var channel: String
    public var granted: Bool

    public init(customerId: String, purpose: String, channel: String, granted: Bool) {
        self.customerId = customerId
        self.purpose = purpose
        self.channel = channel
        self.granted = granted
    }
}

/// Touchpoints of a customer on one channel within the last 7, 30 or 90 days.
public struct ChannelCount: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "customer_channel_count"
    public var customerId: String
    public var windowDays: Int
    public var channel: String
    public var touchpoints: Int64

    public init(customerId: String, windowDays: Int, channel: String, touchpoints: Int64) {
        self.customerId = customerId
        self.windowDays = windowDays
        self.channel = channel
        self.touchpoints = touchpoints
    }
}

/// A saved segment; `rule` is the `customer360.v1.SegmentRule` as protobuf bytes.
public struct SegmentRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "segment"
    public var segmentId: String
    public var name: String
    public var description: String
    public var rule: Data
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(segmentId: String, name: String, description: String, rule: Data, createdAt: Int64, updatedAt: Int64) {
        self.segmentId = segmentId
        self.name = name
        self.description = description
        self.rule = rule
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public enum Columns {
        static let segmentId = Column(CodingKeys.segmentId)
    }
}

/// A customer in a segment since `enteredAt`.
public struct SegmentMembership: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "segment_member"
    public var segmentId: String
    public var customerId: String
    public var enteredAt: Int64

    public enum Columns {
        static let segmentId = Column(CodingKeys.segmentId)
        static let customerId = Column(CodingKeys.customerId)
    }
}

/// What a message is for: decides the consent asked for, the frequency cap and quiet hours.
public enum MessagePurpose: String, Codable, Sendable {
    case marketing, service

    /// The consent purpose (profile-service's spelling) a message of this purpose needs.
    public var consentPurpose: String {
        switch self {
        case .marketing: "marketing"
        case .service: "service_messages"
        }
    }
}

/// One text of a template.
public struct TemplateVariant: Codable, Sendable, Equatable {
    public var channel: Channel
    public var language: String
    public var subject: String
    public var body: String
}

/// A message template; `variants` is JSON.
public struct TemplateRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "template"
    public var templateId: String
    public var name: String
    public var purpose: MessagePurpose
    public var defaultLanguage: String
    public var variants: [TemplateVariant]
    public var createdAt: Int64
    public var updatedAt: Int64

    public enum Columns {
        static let templateId = Column(CodingKeys.templateId)
    }

    public static let databaseJSONEncoder: @Sendable (String) -> JSONEncoder = { _ in
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }

    /// The variant for `channel` in `language`, else in the default language, else none.
    public func variant(for channel: Channel, language: String) -> TemplateVariant? {
        variants.first { $0.channel == channel && $0.language == language }
            ?? variants.first { $0.channel == channel && $0.language == defaultLanguage }
            ?? variants.first { $0.channel == channel }
    }
}

public enum MessageStatus: String, Codable, Sendable, CaseIterable {
    /// `sending`: an adapter has it right now (shown to clients as QUEUED). Found after a restart, it means the
    /// process stopped mid-delivery, and whether the customer got it is unknown (`OutreachStore.recoverInterruptedSends`).
    case queued, deferred, sending, sent, suppressed, failed

    /// Still to be sent.
    public var isPending: Bool { self == .queued || self == .deferred || self == .sending }
}

/// One outbound message, from queued to its final status.
public struct MessageRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "message"
    public var messageId: String
    public var customerId: String
    public var templateId: String
    public var campaignId: String
    public var idempotencyKey: String
    public var purpose: MessagePurpose
    /// The channel the caller insisted on, or "".
    public var forcedChannel: String
    /// The channel picked when it was sent, or "".
    public var channel: String
    public var status: MessageStatus
    public var statusReason: String
    public var createdAt: Int64
    public var scheduledFor: Int64
    public var sentAt: Int64?
    public var attempts: Int
    /// The address, subject and text it was sent with (personal: "Hi Ana", her email), sealed under the key of the
    /// customer it reached (`OutreachStore.settle`); empty until sent. `OutreachStore.content(of:)` opens them.
    public internal(set) var recipient = SealedText.empty
    public internal(set) var subject = SealedText.empty
    public internal(set) var body = SealedText.empty
    public var language: String
    /// The send is stored in interaction-service as an outbound touchpoint (event id `outreach:<message_id>`).
    public var touchpointRecorded = false
    /// Placeholder values that come with the message rather than from the customer (a journey's `feature_title`),
    /// as a JSON object; they win over the customer's.
    public var context = "{}"

    /// `context` decoded; empty when it is not a JSON object of strings.
    public var contextValues: [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(context.utf8))) ?? [:]
    }

    public enum Columns {
        static let touchpointRecorded = Column(CodingKeys.touchpointRecorded)
        static let messageId = Column(CodingKeys.messageId)
        static let customerId = Column(CodingKeys.customerId)
        static let campaignId = Column(CodingKeys.campaignId)
        static let idempotencyKey = Column(CodingKeys.idempotencyKey)
        static let purpose = Column(CodingKeys.purpose)
        static let status = Column(CodingKeys.status)
        static let createdAt = Column(CodingKeys.createdAt)
        static let scheduledFor = Column(CodingKeys.scheduledFor)
        static let sentAt = Column(CodingKeys.sentAt)
    }
}

/// What a sent message said and where it went, opened from its `MessageRecord`.
public struct MessageContent: Sendable, Equatable {
    public var recipient = ""
    public var subject = ""
    public var body = ""

    public init(recipient: String = "", subject: String = "", body: String = "") {
        self.recipient = recipient
        self.subject = subject
        self.body = body
    }
}

/// A campaign: a template sent to a segment's members; `cursor` is the last member queued, so queueing resumes
/// after a restart where it stopped.
public struct CampaignRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "campaign"
    public var campaignId: String
    public var segmentId: String
    public var templateId: String
    public var queueing: Bool
    public var cursor: String
    public var startedAt: Int64
    public var completedAt: Int64?
    /// Members whose read-model facts say they buy mostly on discount get a SUPPRESSED message instead.
    public var suppressDiscountDriven = false

    public enum Columns {
        static let campaignId = Column(CodingKeys.campaignId)
        static let segmentId = Column(CodingKeys.segmentId)
        static let queueing = Column(CodingKeys.queueing)
        static let completedAt = Column(CodingKeys.completedAt)
    }
}

extension MessageStatus: DatabaseValueConvertible {}
extension MessagePurpose: DatabaseValueConvertible {}
