public import C360ServerKit
public import Foundation

/// Where a feature request stands.
public enum FeatureRequestStatus: String, Codable, Sendable, CaseIterable {
    case open
    case underReview = "under_review"
    case planned
    case inProgress = "in_progress"
    case shipped, declined, duplicate
}

/// Something customers ask the product to do, with the number of distinct customers who asked.
public struct FeatureRequest: Sendable, Equatable {
    public var id: String
    public var title: String
    public var details: String
    public var status: FeatureRequestStatus
    /// Distinct customers who voted.
    public var votes: Int
    public var createdAt: Date
    public var updatedAt: Date
    /// Note given with the latest status change.
    public var statusNote = ""
    /// For `.duplicate`: the request it duplicates.
    public var duplicateOfID = ""

    public init(id: String, title: String, details: String, createdAt: Date) {
        self.id = id
        self.title = title
        self.details = details
        self.status = .open
        self.votes = 0
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }
}

/// One customer's vote for a feature request.
public struct FeatureVote: Sendable, Equatable {
    public var featureRequestID: String
    public var customerID: String
    public var comment: String
    public var channel: Channel?
    public var votedAt: Date
    /// The title of the request voted for (filled in on export).
    public var featureRequestTitle = ""

    public init(featureRequestID: String, customerID: String, comment: String, channel: Channel?, votedAt: Date) {
        self.featureRequestID = featureRequestID
        self.customerID = customerID
        self.comment = comment
        self.channel = channel
        self.votedAt = votedAt
    }
}

/// How a list of feature requests is ordered.
public enum FeatureRequestOrder: String, Sendable {
    /// Most votes overall first, then newest.
    case votes
    /// Most votes cast within the window first, then newest.
    case windowVotes
    /// Newest first.
    case newest
}

/// Which feature requests a list shows.
public struct FeatureRequestFilter: Sendable, Hashable {
    public var statuses: Set<FeatureRequestStatus> = []
    /// Votes cast in [from, until) count as window votes.
    public var from: Date?
    public var until: Date?
    public var order: FeatureRequestOrder = .votes
    /// Only requests this customer voted for.
    public var customerID = ""

    public init() {}

    /// Identifies the filter inside page tokens.
    public var fingerprint: String {
        [
            statuses.map(\.rawValue).sorted().joined(separator: ","), from.map { "\($0.timeIntervalSince1970)" } ?? "",
            until.map { "\($0.timeIntervalSince1970)" } ?? "", order.rawValue, customerID,
        ].joined(separator: "\u{1F}")
    }
}

/// A feature request with the votes cast for it within the asked window.
public struct FeatureRequestTally: Sendable, Equatable {
    public var request: FeatureRequest
    public var windowVotes: Int
}
