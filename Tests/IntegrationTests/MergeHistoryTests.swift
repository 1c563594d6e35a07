import C360Clients
import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

private typealias Transport = HTTP2ClientTransport.Posix
private typealias InteractionClient = Customer360_V1_InteractionService.Client<Transport>

/// Clients of the four data services of one test, each executable on a port of its own with its own data directory.
private struct DataServices {
    var profiles: Customer360_V1_ProfileService.Client<Transport>
    var interactions: InteractionClient
    var feedback: Customer360_V1_FeedbackService.Client<Transport>
    var success: Customer360_V1_SuccessService.Client<Transport>
}

/// Starts profile-service, interaction- and feedback-service pointed at it and success-service pointed at all three,
/// waits until each serves, and runs `body`. Afterwards each is stopped with SIGTERM and must exit 0.
private func withDataServices(_ body: (DataServices) async throws -> Void) async throws {
    try await withService("profile-service") { profileProcess, profileClient in
        let profilePeer = ["--profile-addr", "\(profileProcess.address)"]
        try await withService("interaction-service", arguments: profilePeer) { interactionProcess, interactionClient in
            try await withService("feedback-service", arguments: profilePeer) { feedbackProcess, feedbackClient in
                let peers =
                    profilePeer + [
                        "--interaction-addr", "\(interactionProcess.address)",
                        "--feedback-addr", "\(feedbackProcess.address)",
                    ]
                try await withService("success-service", arguments: peers) { _, successClient in
                    try await body(
                        DataServices(
                            profiles: .init(wrapping: profileClient), interactions: .init(wrapping: interactionClient),
                            feedback: .init(wrapping: feedbackClient), success: .init(wrapping: successClient)))
                }
            }
        }
    }
}

/// A touchpoint of `customer` that happened `minutesAgo` minutes ago: a purchase of `amountMinor` USD cents (order id
/// `order-<eventID>`) when given, else a page view.
private func touchpoint(
    _ eventID: String, customer: String, minutesAgo: Double, purchaseMinor amountMinor: Int64? = nil
) -> Customer360_V1_RecordTouchpointsRequest {
    .with {
        $0.customerID = customer
        $0.touchpoint = .with {
            $0.eventID = eventID
            $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-minutesAgo * 60))
            $0.channel = .web
            $0.direction = .inbound
            $0.kind = amountMinor == nil ? .pageView : .purchase
            if let amountMinor {
                $0.purchase = .with {
                    $0.orderID = "order-\(eventID)"
                    $0.amount = .with {
                        $0.amountMinor = amountMinor
                        $0.currencyCode = "USD"
                    }
                }
            }
        }
    }
}

/// Records `events` in one client stream and requires every one to be stored.
private func record(
    _ events: [Customer360_V1_RecordTouchpointsRequest], with interactions: InteractionClient
) async throws {
    let response = try await interactions.recordTouchpoints { writer in
        for event in events { try await writer.write(event) }
    }
    try #require(response.stored == Int64(events.count), "\(response)")
}

/// Every touchpoint `interactions` exports for `customerID`, with its tickets.
private func exported(
    _ customerID: String, from interactions: InteractionClient
) async throws -> (touchpoints: [Customer360_V1_Touchpoint], tickets: [Customer360_V1_Ticket]) {
    try await interactions.exportCustomerData(.with { $0.customerID = customerID }) { response in
        var touchpoints: [Customer360_V1_Touchpoint] = []
        var tickets: [Customer360_V1_Ticket] = []
        for try await chunk in response.messages {
            touchpoints += chunk.touchpoints
            tickets += chunk.tickets
        }
        return (touchpoints, tickets)
    }
}

/// The counters of one customer in interaction-service that a merge must add up exactly.
private struct Totals: Equatable, CustomStringConvertible {
    var touchpoints: Int64 = 0
    var orders: Int64 = 0
    var grossMinor: Int64 = 0

    init(touchpoints: Int64 = 0, orders: Int64 = 0, grossMinor: Int64 = 0) {
        self.touchpoints = touchpoints
        self.orders = orders
        self.grossMinor = grossMinor
    }

    /// The sums over `events`, worked out from what was sent: every event a touchpoint, every purchase an order.
    init(_ events: some Sequence<Customer360_V1_RecordTouchpointsRequest>) {
        for event in events {
            touchpoints += 1
            if event.touchpoint.kind == .purchase {
                orders += 1
                grossMinor += event.touchpoint.purchase.amount.amountMinor
            }
        }
    }

    /// What interaction-service answers for `customerID` (GetEngagementStats and GetCommerceStats), with the id the
    /// answer is about.
    static func answered(
        for customerID: String, by interactions: InteractionClient
    ) async throws -> (customerID: String, totals: Totals) {
        let commerce = try await interactions.getCommerceStats(.with { $0.customerID = customerID })
        let engagement = try await interactions.getEngagementStats(.with { $0.customerID = customerID })
        #expect(commerce.customerID == engagement.customerID)
        let totals = Totals(
            touchpoints: engagement.totalTouchpoints, orders: commerce.orders,
            grossMinor: commerce.grossRevenue.amountMinor)
        return (commerce.customerID, totals)
    }

    var description: String {
        "\(touchpoints) touchpoints, \(orders) orders, \(grossMinor) gross"
    }
}

// MARK: - One merge, every service

/// Ada (the survivor) and Bea (merged into her), with history in every service before the merge:
///
/// - interaction: Ada bought ada-order (15.00) 4 h ago and viewed a page 2 h ago; Bea viewed a page 5 h ago, bought
///   bea-order-1 (20.00) 3 h ago and bea-order-2 (32.50) 1 h ago, and opened a ticket 30 min ago.
/// - feedback: Ada answered NPS 10 2 h ago and voted for dark-mode; Bea answered NPS 4 1 h ago and voted for
///   dark-mode and csv-export.
/// - success: one plan each, ada-plan and bea-plan.
///
/// So once merged, Ada has 6 touchpoints, 3 orders worth 15.00 + 20.00 + 32.50 = 67.50 and 1 open ticket; 2 NPS
/// responses, the latest a 4; one customer's votes for dark-mode and csv-export (a customer counts once, so dark-mode
/// drops from 2 votes to 1); and 2 plans.
private struct MergedPair {
    var survivor: String
    var merged: String
    /// Bea's ticket (ticket ids are generated).
    var ticketID: String

    /// Every touchpoint of both, newest first: the survivor's timeline once merged.
    static let timeline = ["bea-ticket", "bea-order-2", "ada-view", "bea-order-1", "ada-order", "bea-view"]
    static let combined = Totals(touchpoints: 6, orders: 3, grossMinor: 6_750)
    /// Both responses, newest answered first.
    static let responses = ["bea-nps", "ada-nps"]
    /// The feature requests voted for, with their tallies once merged.
    static let votes: [String: Int64] = ["csv-export": 1, "dark-mode": 1]
    static let plans = ["ada-plan", "bea-plan"]
    static let surveyID = "merge-history-nps"

    /// Creates both customers, records the history above, merges Bea into Ada and waits until interaction-, feedback-
    /// and success-service have each re-keyed Bea's rows (their CUSTOMER_REKEYED events).
    static func prepare(in services: DataServices) async throws -> MergedPair {
        let ada = try await services.profiles.createCustomer(.with { $0.givenName = "Ada" }).customerID
        let bea = try await services.profiles.createCustomer(.with { $0.givenName = "Bea" }).customerID

        try await record(
            [
                touchpoint("bea-view", customer: bea, minutesAgo: 300),
                touchpoint("ada-order", customer: ada, minutesAgo: 240, purchaseMinor: 1_500),
                touchpoint("bea-order-1", customer: bea, minutesAgo: 180, purchaseMinor: 2_000),
                touchpoint("ada-view", customer: ada, minutesAgo: 120),
                touchpoint("bea-order-2", customer: bea, minutesAgo: 60, purchaseMinor: 3_250),
            ], with: services.interactions)
        let ticket = try await services.interactions.openTicket(
            .with {
                $0.customerID = bea
                $0.eventID = "bea-ticket"
                $0.subject = "Where is my order?"
                $0.channel = .email
                $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-30 * 60))
            })

        _ = try await services.feedback.createSurvey(
            .with {
                $0.surveyID = surveyID
                $0.surveyType = .nps
                $0.name = "NPS"
                $0.question = "How likely are you to recommend us?"
                $0.language = "en"
                $0.channel = .email
            })
        for (responseID, customer, score, minutesAgo) in [("ada-nps", ada, 10, 120.0), ("bea-nps", bea, 4, 60.0)] {
            _ = try await services.feedback.recordResponse(
                .with {
                    $0.responseID = responseID
                    $0.customerID = customer
                    $0.surveyID = surveyID
                    $0.score = Int32(score)
                    $0.answeredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-minutesAgo * 60))
                })
        }
        _ = try await services.feedback.createFeatureRequest(
            .with {
                $0.featureRequestID = "dark-mode"
                $0.customerID = ada
                $0.title = "Dark mode"
            })
        _ = try await services.feedback.voteFeatureRequest(
            .with {
                $0.featureRequestID = "dark-mode"
                $0.customerID = bea
            })
        _ = try await services.feedback.createFeatureRequest(
            .with {
                $0.featureRequestID = "csv-export"
                $0.customerID = bea
                $0.title = "CSV export"
            })

        for (planID, customer) in [("ada-plan", ada), ("bea-plan", bea)] {
            _ = try await services.success.createSuccessPlan(
                .with {
                    $0.planID = planID
                    $0.customerID = customer
                    $0.title = "Onboarding"
                    $0.csmOwnerID = "csm-1"
                })
        }

        _ = try await services.profiles.mergeCustomers(
            .with {
                $0.customerID = ada
                $0.mergedID = bea
            })
        async let interactionRekeyed: Void = services.interactions.waitForRekey(of: bea)
        async let feedbackRekeyed: Void = services.feedback.waitForRekey(of: bea)
        async let successRekeyed: Void = services.success.waitForRekey(of: bea)
        _ = try await (interactionRekeyed, feedbackRekeyed, successRekeyed)
        return MergedPair(survivor: ada, merged: bea, ticketID: ticket.ticketID)
    }
}

@Suite("A merge carries the merged-away customer's history into every service, once")
struct MergeHistoryTests {
    @Test("the survivor's timeline, counters and tickets hold both customers' touchpoints, each purchase counted once")
    func survivorHoldsBothInteractionHistories() async throws {
        try await withDataServices { services in
            // Given Bea merged into Ada, re-keyed everywhere
            let pair = try await MergedPair.prepare(in: services)

            // When interaction-service is asked about Ada
            let timeline = try await services.interactions.listTimeline(.with { $0.customerID = pair.survivor })
            let answered = try await Totals.answered(for: pair.survivor, by: services.interactions)
            let tickets = try await services.interactions.listTickets(.with { $0.customerID = pair.survivor }).tickets
            let support = try await services.interactions.getSupportStats(.with { $0.customerID = pair.survivor })

            // Then it shows every touchpoint of both under Ada, interleaved by time, and counts each purchase once
            #expect(timeline.touchpoints.map(\.eventID) == MergedPair.timeline)
            #expect(timeline.touchpoints.allSatisfy { $0.customerID == pair.survivor })
            #expect(answered.totals == MergedPair.combined)
            #expect(tickets.map(\.ticketID) == [pair.ticketID])
            #expect(tickets.allSatisfy { $0.customerID == pair.survivor })
            #expect(support.ticketsOpened == 1 && support.ticketsOpen == 1, "\(support)")
        }
    }

    @Test("the survivor's responses, scores, votes and plans include the merged-away customer's, a shared vote once")
    func survivorHoldsBothFeedbackAndPlans() async throws {
        try await withDataServices { services in
            // Given Bea merged into Ada, re-keyed everywhere
            let pair = try await MergedPair.prepare(in: services)

            // When feedback- and success-service are asked about Ada
            let responses = try await services.feedback.listResponses(.with { $0.customerID = pair.survivor })
            let scores = try await services.feedback.getCustomerScores(.with { $0.customerID = pair.survivor })
            let requests = try await services.feedback.listFeatureRequests(.with { $0.customerID = pair.survivor })
            let plans = try await services.success.listSuccessPlans(.with { $0.customerID = pair.survivor }).plans

            // Then both responses are Ada's and scored together, the latest being Bea's 4
            #expect(responses.responses.map(\.responseID) == MergedPair.responses)
            #expect(responses.responses.allSatisfy { $0.customerID == pair.survivor })
            #expect(scores.responses == 2 && scores.nps.responses == 2, "\(scores)")
            #expect(scores.nps.latestScore == 4 && scores.latestNpsCategory == .detractor, "\(scores)")
            // And the request both voted for counts Ada once
            let tallies = Dictionary(
                uniqueKeysWithValues: requests.featureRequests.map {
                    ($0.featureRequest.featureRequestID, $0.featureRequest.votes)
                })
            #expect(tallies == MergedPair.votes)
            // And both plans are Ada's
            #expect(plans.map(\.planID).sorted() == MergedPair.plans)
            #expect(plans.allSatisfy { $0.customerID == pair.survivor })
        }
    }

    @Test("reads by the merged-away id answer the survivor's combined history in every service")
    func mergedIDReadsTheSurvivor() async throws {
        try await withDataServices { services in
            // Given Bea merged into Ada, re-keyed everywhere (each service resolved Bea as herself before, to write)
            let pair = try await MergedPair.prepare(in: services)

            // When each service is asked by Bea's id
            let answered = try await Totals.answered(for: pair.merged, by: services.interactions)
            let timeline = try await services.interactions.listTimeline(.with { $0.customerID = pair.merged })
            let scores = try await services.feedback.getCustomerScores(.with { $0.customerID = pair.merged })
            let responses = try await services.feedback.listResponses(.with { $0.customerID = pair.merged })
            let plans = try await services.success.listSuccessPlans(.with { $0.customerID = pair.merged }).plans

            // Then each answers Ada's combined data
            #expect(answered.customerID == pair.survivor)
            #expect(answered.totals == MergedPair.combined)
            #expect(timeline.touchpoints.map(\.eventID) == MergedPair.timeline)
            #expect(scores.customerID == pair.survivor && scores.responses == 2, "\(scores)")
            #expect(responses.responses.map(\.responseID) == MergedPair.responses)
            #expect(plans.map(\.planID).sorted() == MergedPair.plans)
        }
    }

    @Test("the survivor's data export in every service includes the merged-away customer's rows")
    func exportIncludesMergedRows() async throws {
        try await withDataServices { services in
            // Given Bea merged into Ada, re-keyed everywhere
            let pair = try await MergedPair.prepare(in: services)

            // When Ada's data is exported from each service
            let interaction = try await exported(pair.survivor, from: services.interactions)
            let feedback = try await services.feedback.exportCustomerData(.with { $0.customerID = pair.survivor }) {
                try await $0.messages.reduce(into: Customer360_V1_ExportFeedbackDataResponse()) { all, chunk in
                    all.responses += chunk.responses
                    all.votes += chunk.votes
                }
            }
            let plans = try await services.success.exportCustomerData(.with { $0.customerID = pair.survivor }) {
                try await $0.messages.reduce(into: [Customer360_V1_SuccessPlan]()) { $0 += $1.plans }
            }

            // Then each export holds Bea's rows beside Ada's, all under Ada, each once
            #expect(interaction.touchpoints.map(\.eventID).sorted() == MergedPair.timeline.sorted())
            #expect(interaction.touchpoints.allSatisfy { $0.customerID == pair.survivor })
            #expect(interaction.tickets.map(\.ticketID) == [pair.ticketID])
            #expect(interaction.tickets.allSatisfy { $0.customerID == pair.survivor })
            #expect(feedback.responses.map(\.responseID).sorted() == MergedPair.responses.sorted())
            #expect(feedback.responses.allSatisfy { $0.customerID == pair.survivor })
            #expect(feedback.votes.map(\.featureRequestID).sorted() == MergedPair.votes.keys.sorted())
            #expect(feedback.votes.allSatisfy { $0.customerID == pair.survivor })
            #expect(plans.map(\.planID).sorted() == MergedPair.plans)
            #expect(plans.allSatisfy { $0.customerID == pair.survivor })
        }
    }

    @Test("erasing the survivor in every service erases the merged-away customer's rows too; none are left under B")
    func erasureReachesMergedRows() async throws {
        try await withDataServices { services in
            // Given Bea merged into Ada, re-keyed everywhere
            let pair = try await MergedPair.prepare(in: services)

            // When Ada's data is erased in each service
            let survivor = Customer360_V1_EraseInteractionDataRequest.with { $0.customerID = pair.survivor }
            let interaction = try await services.interactions.eraseCustomerData(survivor)
            let feedback = try await services.feedback.eraseCustomerData(.with { $0.customerID = pair.survivor })
            let success = try await services.success.eraseCustomerData(.with { $0.customerID = pair.survivor })

            // Then the counts include Bea's rows: 2 + 4 touchpoints and her ticket; 1 + 1 responses; 1 + 1 votes (the
            // one both cast counted once); 1 + 1 plans
            #expect(interaction.touchpointsErased == 6 && interaction.ticketsErased == 1, "\(interaction)")
            #expect(feedback.responsesErased == 2 && feedback.votesErased == 2, "\(feedback)")
            #expect(success.plansErased == 2, "\(success)")
            // And erasing Bea's id (taken as given, not resolved) finds nothing left under it anywhere
            let merged = Customer360_V1_EraseInteractionDataRequest.with { $0.customerID = pair.merged }
            let interactionAgain = try await services.interactions.eraseCustomerData(merged)
            let feedbackAgain = try await services.feedback.eraseCustomerData(.with { $0.customerID = pair.merged })
            let successAgain = try await services.success.eraseCustomerData(.with { $0.customerID = pair.merged })
            #expect(interactionAgain.touchpointsErased == 0, "\(interactionAgain)")
            #expect(interactionAgain.ticketsErased == 0, "\(interactionAgain)")
            #expect(feedbackAgain.responsesErased == 0 && feedbackAgain.votesErased == 0, "\(feedbackAgain)")
            #expect(successAgain.plansErased == 0, "\(successAgain)")
            // And Ada's counters are empty
            #expect(try await Totals.answered(for: pair.survivor, by: services.interactions).totals == Totals())
        }
    }

    @Test("WatchChanges answers INVALID_ARGUMENT naming customer_id for a malformed customer id, in every service")
    func watchChangesRefusesMalformedCustomerID() async throws {
        try await withDataServices { services in
            var options = CallOptions.defaults
            // A watch that wrongly went live would wait for events until this deadline instead (generous: a full run
            // on two cores has taken more than 5 s to answer).
            options.timeout = .seconds(30)
            // Not a UUID at all, and a UUID in upper case (ids are lower-case).
            for customerID in ["not-a-customer", "01900000-0000-7000-8000-0000000000AB"] {
                let request = Customer360_V1_WatchChangesRequest.with { $0.customerID = customerID }
                let watches: [(service: String, watch: () async throws -> Void)] = [
                    (
                        "profile",
                        {
                            try await services.profiles.watchChanges(request, options: options, onResponse: drain)
                        }
                    ),
                    (
                        "interaction",
                        {
                            try await services.interactions.watchChanges(request, options: options, onResponse: drain)
                        }
                    ),
                    (
                        "feedback",
                        {
                            try await services.feedback.watchChanges(request, options: options, onResponse: drain)
                        }
                    ),
                    (
                        "success",
                        {
                            try await services.success.watchChanges(request, options: options, onResponse: drain)
                        }
                    ),
                ]
                for (service, watch) in watches {
                    let error = await #expect(throws: RPCError.self, "\(service), \(customerID)") { try await watch() }
                    let seen = "\(service), \(customerID): \(String(describing: error))"
                    #expect(error?.code == .invalidArgument, "\(seen)")
                    #expect(error?.message.hasPrefix("customer_id:") == true, "\(seen)")
                }
            }
        }
    }
}

/// Reads a change stream to its end.
private func drain(_ response: StreamingClientResponse<Customer360_V1_WatchChangesResponse>) async throws {
    for try await _ in response.messages {}
}

// MARK: - Many merges, many crashes

/// When interaction-service is killed with SIGKILL around the merge of one merged-away customer.
private enum KillMoment {
    /// Merge, then kill at once: the merge may be unread, being applied, or committed.
    case rightAfterMerge
    /// Merge, wait until interaction-service applied it, then kill: the restart must not apply it again.
    case afterRekey
    /// Kill first and merge while the service is down: the restart must catch up from its stored position.
    case beforeMerge
}

/// One executable started again and again on the data directory of its first run. `cleanup()` removes every run's
/// work directory, the first one's (which holds the data directory) last.
private final class Restarts {
    private let executable: String
    private let arguments: [String]
    private var runs: [ServiceProcess] = []

    init(_ executable: String, arguments: [String]) {
        self.executable = executable
        self.arguments = arguments
    }

    /// The run started last.
    var current: ServiceProcess {
        get throws {
            guard let run = runs.last else { throw ServiceNotStarted(executable: executable) }
            return run
        }
    }

    /// Starts a run on the shared data directory and waits until it serves.
    func start() async throws {
        let run = try await ServiceProcess.start(
            executable, arguments: arguments, dataDirectory: runs.first?.dataDirectory)
        runs.append(run)
        try await withConnectedClient(to: run.address) { try await waitUntilServing($0, process: run) }
    }

    /// SIGKILLs the current run, which must not have ended on its own.
    func kill() async throws {
        let outcome = try await current.kill()
        #expect(outcome == .signaled(SIGKILL), "\(executable) ended before it was killed: \(outcome)")
    }

    /// Runs `body` with a client connected to the current run.
    func withClient<T: Sendable>(_ body: (GRPCClient<Transport>) async throws -> T) async throws -> T {
        try await withConnectedClient(to: try current.address, body)
    }

    func cleanup() async {
        for run in runs.reversed() { await run.cleanup() }
        runs = []
    }
}

/// `Restarts` was asked for its current run before it started one.
private struct ServiceNotStarted: Error {
    var executable: String
}

extension MergeHistoryTests {
    @Test("a merge is applied exactly once across kill -9: survivors hold the exact sums, merged-away ids nothing")
    func exactlyOnceAcrossKills() async throws {
        try await withService("profile-service") { profileProcess, profileClient in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: profileClient)
            // Given two survivors with 10 touchpoints each (2 of them purchases), and five customers with 200
            // touchpoints each (every fourth a purchase of 100 × (i + 1) + j cents) to be merged into survivor i mod 2
            var survivors: [String] = []
            for index in 0..<2 {
                let survivor = try await profiles.createCustomer(.with { $0.givenName = "Survivor \(index)" })
                survivors.append(survivor.customerID)
            }
            let moments: [KillMoment] = [.rightAfterMerge, .afterRekey, .beforeMerge, .rightAfterMerge, .afterRekey]
            var merges: [(merged: String, survivor: String, kill: KillMoment)] = []
            for (index, moment) in moments.enumerated() {
                let merged = try await profiles.createCustomer(.with { $0.givenName = "Duplicate \(index)" })
                merges.append((merged.customerID, survivors[index % 2], moment))
            }
            var events: [Customer360_V1_RecordTouchpointsRequest] = []
            for (index, survivor) in survivors.enumerated() {
                for j in 0..<10 {
                    events.append(
                        touchpoint(
                            "s\(index)-\(j)", customer: survivor, minutesAgo: Double(j + 1),
                            purchaseMinor: j % 5 == 0 ? Int64(1_000 + j) : nil))
                }
            }
            for (index, merge) in merges.enumerated() {
                for j in 0..<200 {
                    events.append(
                        touchpoint(
                            "m\(index)-\(j)", customer: merge.merged, minutesAgo: Double(j + 1),
                            purchaseMinor: j % 4 == 0 ? Int64(100 * (index + 1) + j) : nil))
                }
            }
            // What each survivor must hold once every merge is applied, worked out from the events sent.
            let survivorOf = Dictionary(uniqueKeysWithValues: merges.map { ($0.merged, $0.survivor) })
            let eventsOf = Dictionary(grouping: events) { survivorOf[$0.customerID] ?? $0.customerID }
            let expected = eventsOf.mapValues { Totals($0) }
            let expectedEventIDs = eventsOf.mapValues { $0.map(\.touchpoint.eventID).sorted() }

            let profilePeer = ["--profile-addr", "\(profileProcess.address)"]
            let interaction = Restarts("interaction-service", arguments: profilePeer)
            do {
                try await interaction.start()
                try await interaction.withClient { try await record(events, with: InteractionClient(wrapping: $0)) }

                // When each customer is merged while interaction-service is killed around it and restarted
                for merge in merges {
                    if merge.kill == .beforeMerge { try await interaction.kill() }
                    _ = try await profiles.mergeCustomers(
                        .with {
                            $0.customerID = merge.survivor
                            $0.mergedID = merge.merged
                        })
                    switch merge.kill {
                    case .rightAfterMerge:
                        try await interaction.kill()
                    case .afterRekey:
                        try await interaction.withClient {
                            try await InteractionClient(wrapping: $0).waitForRekey(of: merge.merged)
                        }
                        try await interaction.kill()
                    case .beforeMerge:
                        break
                    }
                    try await interaction.start()
                }

                try await interaction.withClient { client in
                    let interactions = InteractionClient(wrapping: client)
                    for merge in merges { try await interactions.waitForRekey(of: merge.merged) }

                    // Then each merge was applied once: one CUSTOMER_REKEYED per merged-away id, naming the survivor
                    let rekeyed = try await interactions.watchChanges(
                        .with {
                            $0.kinds = [.customerRekeyed]
                            $0.untilCaughtUp = true
                        }
                    ) { try await $0.messages.reduce(into: [Customer360_V1_ChangeEvent]()) { $0 += $1.events } }
                    #expect(rekeyed.map(\.customerID).sorted() == merges.map(\.merged).sorted())
                    #expect(rekeyed.allSatisfy { $0.relatedCustomerID == survivorOf[$0.customerID] })

                    // And each survivor holds exactly its own and its merged customers' touchpoints, counted once
                    for survivor in survivors {
                        let answered = try await Totals.answered(for: survivor, by: interactions)
                        #expect(answered.totals == expected[survivor], "survivor \(survivor)")
                        let rows = try await exported(survivor, from: interactions).touchpoints
                        #expect(rows.map(\.eventID).sorted() == expectedEventIDs[survivor], "survivor \(survivor)")
                    }
                    let activity = try await interactions.listCustomerActivity(.with { $0.page.pageSize = 100 })
                    #expect(activity.customers.map(\.customerID).sorted() == survivors.sorted())
                    for customer in activity.customers {
                        #expect(customer.touchpoints == expected[customer.customerID]?.touchpoints)
                        #expect(customer.orders == expected[customer.customerID]?.orders)
                    }

                    // And a merged-away id reads as its survivor, with the same totals, and holds no rows of its own
                    for merge in merges {
                        let answered = try await Totals.answered(for: merge.merged, by: interactions)
                        #expect(answered.customerID == merge.survivor)
                        #expect(answered.totals == expected[merge.survivor], "merged \(merge.merged)")
                        let erased = try await interactions.eraseCustomerData(.with { $0.customerID = merge.merged })
                        #expect(erased.touchpointsErased == 0 && erased.ticketsErased == 0, "\(erased)")
                    }
                }
                #expect(try await interaction.current.terminate().isSuccess)
            } catch {
                await interaction.cleanup()
                throw error
            }
            await interaction.cleanup()
        }
    }
}
