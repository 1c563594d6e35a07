import C360ServerKit
import C360StoreKit
import Foundation
import GRDB

// Conversions between domain values and database rows, kept in one place.

extension Survey {
    init(row: Row) throws {
        self.init(id: row["surveyId"], type: try StoredValue.decode(SurveyType.self, row["type"]), name: row["name"],
                  question: row["question"], language: row["language"],
                  channel: try StoredValue.decode(Channel.self, row["channel"]),
                  scale: (row["scaleMin"] as Int)...(row["scaleMax"] as Int),
                  createdAt: Date(unixMillis: row["createdAt"]), active: row["active"])
    }

}

extension SurveyResponse {
    init(row: Row, keyring: Keyring) throws {
        self.init(id: row["responseId"], customerID: row["customerId"], surveyID: row["surveyId"],
                  surveyType: try StoredValue.decode(SurveyType.self, row["surveyType"]),
                  surveyLanguage: row["surveyLanguage"], score: row["score"],
                  channel: try StoredValue.decode(Channel.self, row["channel"]),
                  answeredAt: Date(unixMillis: row["answeredAt"]), recordedAt: Date(unixMillis: row["recordedAt"]))
        comment = try keyring.open(row["comment"])
        sentiment = try Sentiment(score: row["sentimentScore"], label: row["sentimentLabel"], language: row["commentLanguage"])
        touchpointID = row["touchpointId"]
        ticketID = row["ticketId"]
    }
}

extension Sentiment {
    /// The stored sentiment columns; `nil` when the row has no comment.
    init?(score: Double?, label: String?, language: String?) throws {
        guard let score, let label, let language else { return nil }
        self.init(score: score, label: try StoredValue.decode(SentimentLabel.self, label),
                  language: try StoredValue.decode(CommentLanguage.self, language))
    }
}

extension FeatureRequest {
    init(row: Row) throws {
        self.init(id: row["featureRequestId"], title: row["title"], details: row["details"],
                  createdAt: Date(unixMillis: row["createdAt"]))
        status = try StoredValue.decode(FeatureRequestStatus.self, row["status"])
        votes = row["votes"]
        updatedAt = Date(unixMillis: row["updatedAt"])
        statusNote = row["statusNote"]
        duplicateOfID = row["duplicateOfId"]
    }
}

extension FeatureVote {
    init(row: Row, keyring: Keyring) throws {
        self.init(featureRequestID: row["featureRequestId"], customerID: row["customerId"],
                  comment: try keyring.open(row["comment"]),
                  channel: try (row["channel"] as String?).map { try StoredValue.decode(Channel.self, $0) },
                  votedAt: Date(unixMillis: row["votedAt"]))
        featureRequestTitle = row["title"] ?? ""
    }
}

extension ChurnReason {
    init(row: Row, keyring: Keyring) throws {
        self.init(id: row["churnReasonId"], customerID: row["customerId"],
                  category: try StoredValue.decode(ChurnReasonCategory.self, row["category"]),
                  text: try keyring.open(row["text"]),
                  sentiment: try Sentiment(score: row["sentimentScore"], label: row["sentimentLabel"],
                                           language: row["sentimentLanguage"]),
                  churnedAt: Date(unixMillis: row["churnedAt"]),
                  channel: try (row["channel"] as String?).map { try StoredValue.decode(Channel.self, $0) },
                  recordedBy: row["recordedBy"], recordedAt: Date(unixMillis: row["recordedAt"]))
    }
}
