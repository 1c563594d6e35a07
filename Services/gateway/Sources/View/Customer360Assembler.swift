import C360Contracts
import C360ServerKit
import Foundation
import GRPCCore
import SwiftProtobuf

/// Builds the 360° view of one customer: resolves who they are with profile-service, then asks every service for
/// its sections concurrently, each call under the peers' deadline. A service that fails leaves its sections empty
/// and named in `missing_sections`; the view never fails for it.
struct Customer360Assembler: Sendable {
    static let allSections = ["profile", "consents", "timeline", "engagement", "commerce", "support", "feedback",
                              "success_plans", "health", "alerts"]

    let peers: Peers

    /// The resolved customer id and the profile, when profile-service could be asked.
    enum Resolution: Sendable {
        case found(Customer360_V1_Customer)
        /// profile-service is down; the id as asked is used and the profile section is missing.
        case profileUnavailable(customerID: String, status: Customer360_V1_ViewSectionStatus)
    }

    func resolve(_ request: Customer360_V1_GetCustomer360Request) async throws -> Resolution {
        switch request.lookup {
        case .customerID(let id):
            let id = try Validate.id(id, field: "customer_id")
            let (customer, statuses) = await SectionCall(sections: ["profile"], service: "profile-service").run {
                try await peers.profile.getCustomer(.with { $0.customerID = id }, metadata: peers.metadata, options: peers.options)
            }
            if let customer { return .found(customer) }
            let status = statuses[0]
            if status.errorCode == "NOT_FOUND" { throw RPCError(code: .notFound, message: status.errorMessage) }
            return .profileUnavailable(customerID: id, status: status)
        case .identifier(let identifier):
            do {
                return .found(try await peers.profile.lookupCustomer(.with { $0.identifier = identifier },
                                                                     metadata: peers.metadata, options: peers.options))
            } catch let error as RPCError where error.code == .unavailable || error.code == .deadlineExceeded {
                throw RPCError(code: .unavailable,
                               message: "profile-service is unavailable, so the identifier cannot be resolved; retry, or ask by customer_id")
            }
        case nil:
            throw InvalidArgument("lookup", "set customer_id or identifier")
        }
    }

    /// The view for `resolution`, with `wanted` sections (all when empty) and `timelineLimit` recent touchpoints.
    func view(for resolution: Resolution, wanted: Set<String>, timelineLimit: Int) async -> Customer360_V1_Customer360View {
        var view = Customer360_V1_Customer360View()
        var statuses: [Customer360_V1_ViewSectionStatus] = []
        let customerID: String
        switch resolution {
        case .found(let customer):
            customerID = customer.customerID
            view.profile = customer
            view.resolvedFrom = customer.resolvedFrom
            statuses.append(.with {
                $0.section = "profile"
                $0.service = "profile-service"
                $0.ok = true
            })
        case .profileUnavailable(let id, let status):
            customerID = id
            statuses.append(status)
        }
        view.customerID = customerID
        func want(_ sections: String...) -> Bool { wanted.isEmpty || sections.contains(where: wanted.contains) }
        let peers = self.peers
        let options = peers.options

        async let consents = want("consents") ? SectionCall(sections: ["consents"], service: "profile-service").run {
            try await peers.profile.getConsents(.with { $0.customerID = customerID }, metadata: peers.metadata, options: options)
        } : nil
        async let stats = want("engagement", "commerce", "support")
            ? SectionCall(sections: ["engagement", "commerce", "support"].filter { want($0) }, service: "interaction-service").run {
                try await peers.interaction.getCustomerStats(.with { $0.customerID = customerID }, metadata: peers.metadata, options: options)
            } : nil
        async let timeline = want("timeline") ? SectionCall(sections: ["timeline"], service: "interaction-service").run {
            try await peers.interaction.listTimeline(.with {
                $0.customerID = customerID
                $0.page.pageSize = Int32(timelineLimit)
            }, metadata: peers.metadata, options: options)
        } : nil
        async let scores = want("feedback") ? SectionCall(sections: ["feedback"], service: "feedback-service").run {
            async let scores = peers.feedback.getCustomerScores(.with { $0.customerID = customerID }, metadata: peers.metadata, options: options)
            async let recent = peers.feedback.listResponses(.with {
                $0.customerID = customerID
                $0.withCommentOnly = true
                $0.page.pageSize = 5
            }, metadata: peers.metadata, options: options)
            return try await (scores, recent)
        } : nil
        async let plans = want("success_plans") ? SectionCall(sections: ["success_plans"], service: "success-service").run {
            try await peers.success.listSuccessPlans(.with {
                $0.customerID = customerID
                $0.statuses = [.active]
            }, metadata: peers.metadata, options: options)
        } : nil
        async let health = want("health") ? SectionCall(sections: ["health"], service: "success-service").run {
            () async throws -> Customer360_V1_HealthScore? in
            do {
                return try await peers.success.getHealthScore(.with { $0.customerID = customerID }, metadata: peers.metadata, options: options)
            } catch let error as RPCError where error.code == .notFound {
                return nil  // never computed: the section is there, with no score
            }
        } : nil
        async let alerts = want("alerts") ? SectionCall(sections: ["alerts"], service: "success-service").run {
            try await peers.success.listAlerts(.with {
                $0.customerID = customerID
                $0.states = [.open, .acknowledged]
            }, metadata: peers.metadata, options: options)
        } : nil

        if let (value, status) = await consents {
            statuses += status
            if let value { view.consents = value.consents }
        }
        if let (value, status) = await stats {
            statuses += status
            if let value {
                if want("engagement") {
                    view.engagement = value.engagement
                    view.bestContact = value.bestContact
                }
                if want("commerce") { view.commerce = value.commerce }
                if want("support") {
                    view.support = value.support
                    view.openTickets = value.openTickets
                }
            }
        }
        if let (value, status) = await timeline {
            statuses += status
            if let value { view.recentTimeline = value.touchpoints }
        }
        if let (value, status) = await scores {
            statuses += status
            if let (scores, recent) = value {
                view.feedback = scores
                view.recentFeedback = recent.responses
            }
        }
        if let (value, status) = await plans {
            statuses += status
            if let value { view.successPlans = value.plans }
        }
        if let (value, status) = await health {
            statuses += status
            if let score = value ?? nil { view.health = score }
        }
        if let (value, status) = await alerts {
            statuses += status
            if let value { view.openAlerts = value.alerts }
        }
        view.sectionStatuses = statuses.filter { wanted.isEmpty || wanted.contains($0.section) }
        view.missingSections = view.sectionStatuses.filter { !$0.ok }.map(\.section)
        view.generatedAt = Google_Protobuf_Timestamp(date: Date())
        return view
    }
}
