public import C360Clients
import C360Contracts
import C360ServerKit
public import Foundation
public import GRPCCore
import GRPCNIOTransportHTTP2

/// Where the facts about a customer's engagement, support, commerce and feedback come from.
public protocol HealthFactsSource: Sendable {
    /// Facts from interaction-service (engagement, support, commercial), each missing with a reason when it cannot
    /// be asked.
    func interactionFacts(customerID: String, at now: Date)
        async -> (Fact<EngagementFacts>, Fact<SupportFacts>, Fact<CommercialFacts>)
    /// Facts from feedback-service.
    func feedbackFacts(customerID: String) async -> Fact<FeedbackFacts>
}

/// One page of the customers a batch visits.
public protocol CustomerPager: Sendable {
    /// Customer ids after the page `token` ("" = first page), and the next page's token ("" at the end): ascending
    /// within one shard of interaction-service, shard after shard when it is sharded.
    func customers(pageToken: String, activeSince: Date?, pageSize: Int) async throws -> (ids: [String], next: String)
}

/// Asks interaction-service and feedback-service over gRPC, every call under a deadline.
public struct PeerHealthFacts: HealthFactsSource, CustomerPager {
    private let interactions: Customer360_V1_InteractionService.Client<PeerTransport>
    private let feedback: Customer360_V1_FeedbackService.Client<PeerTransport>
    private let deadline: Duration

    public init(
        interaction: GRPCClient<PeerTransport>, feedback: GRPCClient<PeerTransport>, deadline: Duration = .seconds(2)
    ) {
        self.interactions = Customer360_V1_InteractionService.Client(wrapping: interaction)
        self.feedback = Customer360_V1_FeedbackService.Client(wrapping: feedback)
        self.deadline = deadline
    }

    public func interactionFacts(customerID: String, at now: Date)
        async -> (Fact<EngagementFacts>, Fact<SupportFacts>, Fact<CommercialFacts>)
    {
        do {
            let stats = try await interactions.getCustomerStats(
                .with { $0.customerID = customerID },
                options: .deadline(deadline))
            return (.known(stats.engagement.facts), .known(stats.support.facts), .known(stats.commerce.facts))
        } catch {
            return (
                Self.fact(error, peer: .interaction), Self.fact(error, peer: .interaction),
                Self.fact(error, peer: .interaction)
            )
        }
    }

    public func feedbackFacts(customerID: String) async -> Fact<FeedbackFacts> {
        do {
            let scores = try await feedback.getCustomerScores(
                .with { $0.customerID = customerID },
                options: .deadline(deadline))
            return .known(
                FeedbackFacts(
                    latestNps: scores.hasNps ? Int(scores.nps.latestScore) : nil,
                    latestCsat: scores.hasCsat ? Int(scores.csat.latestScore) : nil,
                    latestCes: scores.hasCes ? Int(scores.ces.latestScore) : nil,
                    meanSentiment: scores.hasSentiment && scores.sentiment.hasMeanScore
                        ? scores.sentiment.meanScore : nil))
        } catch {
            return Self.fact(error, peer: .feedback)
        }
    }

    /// One page of interaction-service's customers, in id order. With interaction-service sharded, the transport reads
    /// every shard and merges (`AcrossShards`); a token from a map with another number of shards (a batch stored before
    /// the change) ends the batch rather than failing it on every resume.
    public func customers(pageToken: String, activeSince: Date?, pageSize: Int) async throws -> (
        ids: [String], next: String
    ) {
        do {
            let page = try await interactions.listCustomerActivity(
                .with {
                    $0.page.pageSize = Int32(pageSize)
                    $0.page.pageToken = pageToken
                    if let activeSince { $0.activeSince = .init(date: activeSince) }
                }, options: .deadline(deadline * 5))
            return (page.customers.map(\.customerID), page.page.nextPageToken)
        } catch let error as RPCError where error.code == .invalidArgument && !pageToken.isEmpty {
            return ([], "")
        }
    }

    /// Why a component is missing when asking `peer` failed with `error`: unreachable ("feedback-service
    /// unavailable", "… deadline exceeded") when the peer could not answer, missing when it refused.
    static func fact<Value>(_ error: any Error, peer: ServiceIdentity) -> Fact<Value> {
        let failure = failure(error, peer: peer)
        return failure.unreachable ? .unreachable(failure.reason) : .missing(failure.reason)
    }

    /// What asking `peer` failing with `error` means: a sentence, and whether the peer could not be reached at all.
    static func failure(_ error: any Error, peer: ServiceIdentity) -> (reason: String, unreachable: Bool) {
        guard let rpc = error as? RPCError else { return ("\(peer.name) failed: \(error)", false) }
        switch rpc.code {
        case .unavailable: return ("\(peer.name) unavailable", true)
        case .deadlineExceeded: return ("\(peer.name) deadline exceeded", true)
        default: return ("\(peer.name) answered \(rpc.code): \(rpc.message)", false)
        }
    }
}

extension Customer360_V1_EngagementStats {
    var facts: EngagementFacts {
        let month = windows.first { $0.days == 30 }
        let lastActive = hasLastInboundAt ? lastInboundAt.date : hasLastSeenAt ? lastSeenAt.date : nil
        return EngagementFacts(
            totalTouchpoints: Int(totalTouchpoints), lastActiveAt: lastActive,
            activeDays30: Int(month?.activeDays ?? 0), touchpoints30: Int(month?.touchpoints ?? 0))
    }
}

extension Customer360_V1_SupportStats {
    var facts: SupportFacts {
        SupportFacts(
            ticketsOpened: Int(ticketsOpened), ticketsOpen: Int(ticketsOpen), ticketsResolved: Int(ticketsResolved),
            firstContactResolutionRate: hasFirstContactResolutionRate ? firstContactResolutionRate : nil,
            meanFirstResponseTime: hasMeanFirstResponseTime
                ? Double(meanFirstResponseTime.seconds) + Double(meanFirstResponseTime.nanos) / 1e9 : nil)
    }
}

extension Customer360_V1_CommerceStats {
    var facts: CommercialFacts {
        let historic = Double(historicClv.amountMinor)
        let trend: Double? = hasPredictiveClv && historic > 0 ? Double(predictiveClv.amountMinor) / historic : nil
        return CommercialFacts(
            orders: Int(orders), lastPurchaseAt: hasLastPurchaseAt ? lastPurchaseAt.date : nil,
            repeatPurchaseRate: hasRepeatPurchaseRate ? repeatPurchaseRate : nil, clvTrend: trend)
    }
}
