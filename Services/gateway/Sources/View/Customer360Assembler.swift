import C360Contracts
import C360ServerKit
import Foundation
import GRPCCore
import SwiftProtobuf

/// Builds the 360° view of one customer: resolves who they are with profile-service, then asks every service for
/// its sections concurrently, each call under the peers' deadline. A service that fails leaves its sections empty
/// and named in `missing_sections`; the view never fails for it.
struct Customer360Assembler: Sendable {
    let peers: Peers

    /// The resolved customer id and the profile, when profile-service could be asked.
    enum Resolution: Sendable {
        case found(Customer360_V1_Customer)
        /// profile-service is down; the id as asked is used and the profile section is missing.
        case profileUnavailable(customerID: String, status: Customer360_V1_ViewSectionStatus)
    }

    /// The customer an identifier belongs to (the survivor when it was merged).
    private func customer(with identifier: Customer360_V1_Identifier) async throws -> Customer360_V1_Customer {
        do {
            return try await peers.profile.lookupCustomer(.with { $0.identifier = identifier }, options: peers.options)
        } catch let error as RPCError where error.code == .unavailable || error.code == .deadlineExceeded {
            throw RPCError(
                code: .unavailable,
                message:
                    "profile-service is unavailable, so the identifier cannot be resolved; retry, or ask by customer_id"
            )
        }
    }

    /// The view `request` asks for, with `wanted` sections (all when empty) and `timelineLimit` recent touchpoints.
    ///
    /// Asked by id, the profile is fetched beside every other section: each service resolves a merged-away id to its
    /// survivor itself, so nothing waits for profile-service first. Asked by identifier, the identifier is resolved
    /// first, then the sections are fetched.
    func view(
        for request: Customer360_V1_GetCustomer360Request, wanted: Set<Customer360Section>, timelineLimit: Int
    ) async throws
        -> Customer360_V1_Customer360View
    {
        let requested: String
        switch request.lookup {
        case .customerID(let id):
            requested = id
        case .identifier(let identifier):
            let customer = try await customer(with: identifier)
            let sections = await sections(of: customer.customerID, wanted: wanted, timelineLimit: timelineLimit)
            return combine(.found(customer), sections, wanted: wanted)
        case nil:
            throw InvalidArgument("lookup", "set customer_id or identifier")
        }
        let id = try Validate.id(requested, field: "customer_id")
        let peers = self.peers
        async let profile = SectionCall([.profile]).run {
            try await peers.profile.getCustomer(.with { $0.customerID = id }, options: peers.options)
        }
        async let sections = sections(of: id, wanted: wanted, timelineLimit: timelineLimit)
        let (customer, statuses) = await profile
        if let customer {
            // A merged-away id: its rows are the survivor's now, and with the services sharded, on the survivor's
            // shards, which a call by the old id reaches only once its own shard applied the merge (and refuses it,
            // naming the survivor). Rare, so asked again by the survivor rather than resolved before every view.
            if customer.customerID != id {
                let survivors = await self.sections(
                    of: customer.customerID, wanted: wanted, timelineLimit: timelineLimit)
                return combine(.found(customer), survivors, wanted: wanted)
            }
            return combine(.found(customer), await sections, wanted: wanted)
        }
        if statuses[0].errorCode == "NOT_FOUND" { throw RPCError(code: .notFound, message: statuses[0].errorMessage) }
        return combine(.profileUnavailable(customerID: id, status: statuses[0]), await sections, wanted: wanted)
    }

    /// The profile part of the view put together with the other sections.
    private func combine(
        _ resolution: Resolution,
        _ sections: (view: Customer360_V1_Customer360View, statuses: [Customer360_V1_ViewSectionStatus]),
        wanted: Set<Customer360Section>
    ) -> Customer360_V1_Customer360View {
        var view = sections.view
        var statuses = sections.statuses
        switch resolution {
        case .found(let customer):
            view.customerID = customer.customerID
            view.profile = customer
            view.resolvedFrom = customer.resolvedFrom
            statuses.insert(
                .with {
                    $0.section = Customer360Section.profile.rawValue
                    $0.service = Customer360Section.profile.service.name
                    $0.ok = true
                }, at: 0)
        case .profileUnavailable(let id, let status):
            view.customerID = id
            statuses.insert(status, at: 0)
        }
        let wantedNames = Set(wanted.map(\.rawValue))
        view.sectionStatuses = statuses.filter { wanted.isEmpty || wantedNames.contains($0.section) }
        view.missingSections = view.sectionStatuses.filter { !$0.ok }.map(\.section)
        view.generatedAt = Google_Protobuf_Timestamp(date: Date())
        return view
    }

    /// Every section but the profile, asked of the services concurrently under `customerID` (which each service
    /// resolves to the survivor when it was merged away), with a status per section.
    private func sections(of customerID: String, wanted: Set<Customer360Section>, timelineLimit: Int) async
        -> (view: Customer360_V1_Customer360View, statuses: [Customer360_V1_ViewSectionStatus])
    {
        var view = Customer360_V1_Customer360View()
        var statuses: [Customer360_V1_ViewSectionStatus] = []
        func want(_ section: Customer360Section) -> Bool { wanted.isEmpty || wanted.contains(section) }
        let peers = self.peers
        let options = peers.options

        async let consents =
            want(.consents)
            ? SectionCall([.consents]).run {
                try await peers.profile.getConsents(.with { $0.customerID = customerID }, options: options)
            } : nil
        async let interaction = interactionSections(customerID, wanted: wanted, timelineLimit: timelineLimit)
        async let scores =
            want(.feedback)
            ? SectionCall([.feedback]).run {
                try await peers.feedback.getCustomerScores(
                    .with {
                        $0.customerID = customerID
                        $0.recentComments = Int32(Self.recentComments)
                    }, options: options)
            } : nil
        let successSections = [Customer360Section.successPlans, .health, .alerts].filter(want)
        async let success =
            successSections.isEmpty
            ? nil
            : SectionCall(successSections).run {
                try await peers.success.getCustomerSuccess(.with { $0.customerID = customerID }, options: options)
            }

        if let (value, status) = await consents {
            statuses += status
            if let value { view.consents = value.consents }
        }
        if let (value, status) = await interaction {
            statuses += status
            if let value {
                if want(.engagement) {
                    view.engagement = value.engagement
                    view.bestContact = value.bestContact
                }
                if want(.commerce) { view.commerce = value.commerce }
                if want(.support) {
                    view.support = value.support
                    view.openTickets = value.openTickets
                }
                if want(.timeline) { view.recentTimeline = value.recentTouchpoints }
            }
        }
        if let (value, status) = await scores {
            statuses += status
            if var scores = value {
                view.recentFeedback = scores.recentComments
                scores.recentComments = []
                view.feedback = scores
            }
        }
        if let (value, status) = await success {
            statuses += status
            if let value {
                if want(.successPlans) { view.successPlans = value.activePlans }
                if want(.health), value.hasHealth { view.health = value.health }
                if want(.alerts) { view.openAlerts = value.openAlerts }
            }
        }
        return (view, statuses)
    }

    /// Commented survey responses the view shows.
    static let recentComments = 5

    /// interaction-service's sections in one call: statistics with the recent touchpoints, or only the timeline when
    /// no statistic is wanted.
    private func interactionSections(
        _ customerID: String, wanted: Set<Customer360Section>, timelineLimit: Int
    ) async -> (Customer360_V1_GetCustomerStatsResponse?, [Customer360_V1_ViewSectionStatus])? {
        let sections = [Customer360Section.engagement, .commerce, .support, .timeline]
            .filter { wanted.isEmpty || wanted.contains($0) }
        guard !sections.isEmpty else { return nil }
        let peers = self.peers
        let recentTouchpoints = sections.contains(.timeline) ? Int32(timelineLimit) : 0
        let call = SectionCall(sections)
        guard sections != [.timeline] else {
            return await call.run {
                let timeline = try await peers.interaction.listTimeline(
                    .with {
                        $0.customerID = customerID
                        $0.page.pageSize = Int32(timelineLimit)
                    }, options: peers.options)
                return .with { $0.recentTouchpoints = timeline.touchpoints }
            }
        }
        return await call.run {
            try await peers.interaction.getCustomerStats(
                .with {
                    $0.customerID = customerID
                    $0.recentTouchpoints = recentTouchpoints
                }, options: peers.options)
        }
    }
}
