public import C360Contracts
import C360ServerKit
import Foundation
public import GRPCCore
import SwiftProtobuf

extension GatewayService {
    /// Global KPIs over a window (default the last 30 days), from every service concurrently; a service that fails
    /// leaves its sections missing.
    public func getKpiDashboard(
        request: Customer360_V1_GetKpiDashboardRequest, context: ServerContext
    ) async throws -> Customer360_V1_KpiDashboard {
        let window =
            request.hasWindow
            ? request.window
            : .with {
                $0.start = Google_Protobuf_Timestamp(date: now().addingTimeInterval(-30 * 86_400))
                $0.end = Google_Protobuf_Timestamp(date: now())
            }
        // Checked here, not only by the services: a window they refuse would otherwise come back as an OK dashboard
        // with every windowed section missing.
        _ = try Validate.window(window, field: "window")
        let peers = self.peers
        let options = peers.options
        let feedbackShards = peers.shards(of: .feedback)
        async let scores = SectionCall(sections: ["feedback"], service: .feedback).runOnShards(
            feedbackShards, merge: Customer360_V1_GetScoresResponse.merged
        ) { pin in
            try await peers.feedback.getScores(.with { $0.window = window }, metadata: pin, options: options)
        }
        async let churn = SectionCall(sections: ["churn"], service: .feedback).runOnShards(
            feedbackShards, merge: Customer360_V1_GetChurnReasonTallyResponse.merged
        ) { pin in
            try await peers.feedback.getChurnReasonTally(
                .with { $0.window = window }, metadata: pin, options: options)
        }
        async let health = SectionCall(sections: ["health"], service: .success).runOnShards(
            peers.shards(of: .success), merge: Customer360_V1_HealthSummary.merged
        ) { pin in
            try await peers.success.getHealthSummary(.init(), metadata: pin, options: options)
        }
        let interactionShards = peers.shards(of: .interaction)
        async let support = SectionCall(sections: ["support"], service: .interaction).runOnShards(
            interactionShards, merge: Customer360_V1_SupportKpis.merged
        ) { pin in
            try await peers.interaction.getSupportKpis(.with { $0.window = window }, metadata: pin, options: options)
        }
        async let commerce = SectionCall(sections: ["commerce"], service: .interaction).runOnShards(
            interactionShards, merge: Customer360_V1_GetRfmSegmentsResponse.merged
        ) { pin in
            try await peers.interaction.getRfmSegments(.init(), metadata: pin, options: options)
        }

        var dashboard = Customer360_V1_KpiDashboard()
        dashboard.window = window
        var statuses: [Customer360_V1_ViewSectionStatus] = []
        let (feedback, feedbackStatus) = await scores
        statuses += feedbackStatus
        if let overall = feedback?.overall {
            dashboard.feedback = overall
            if overall.nps.hasNps { dashboard.nps = overall.nps.nps }
            if overall.csat.hasCsatPercent { dashboard.csatPercent = overall.csat.csatPercent }
            if overall.ces.hasCesMean { dashboard.cesMean = overall.ces.cesMean }
        }
        let (rfm, commerceStatus) = await commerce
        statuses += commerceStatus
        if let rfm {
            dashboard.segments = rfm.segments
            dashboard.customers = rfm.customers
            if rfm.customersWithPurchases > 0 {
                dashboard.averageHistoricClv = .with {
                    $0.amountMinor = rfm.historicClvSum.amountMinor / rfm.customersWithPurchases
                    $0.currencyCode = rfm.historicClvSum.currencyCode
                }
                dashboard.averagePredictiveClv = .with {
                    $0.amountMinor = rfm.predictiveClvSum.amountMinor / rfm.customersWithPurchases
                    $0.currencyCode = rfm.predictiveClvSum.currencyCode
                }
                dashboard.repeatPurchaseRate =
                    Double(rfm.customersWithRepeatPurchases) / Double(rfm.customersWithPurchases)
            }
        }
        let (tally, churnStatus) = await churn
        statuses += churnStatus
        if let tally {
            dashboard.churnedCustomers = tally.churnedCustomers
            dashboard.churnReasons = tally.categories
            // The rate needs the customer base too (commerce section).
            if rfm != nil, dashboard.customers + tally.churnedCustomers > 0 {
                dashboard.churnRatePercent =
                    Double(tally.churnedCustomers)
                    / Double(dashboard.customers + tally.churnedCustomers) * 100
            }
        }
        let (summary, healthStatus) = await health
        statuses += healthStatus
        if let summary {
            dashboard.health = summary
            dashboard.atRiskCustomers = summary.red
        }
        let (kpis, supportStatus) = await support
        statuses += supportStatus
        if let kpis { dashboard.support = kpis }
        dashboard.sectionStatuses = statuses
        dashboard.missingSections = statuses.filter { !$0.ok }.map(\.section)
        dashboard.generatedAt = Google_Protobuf_Timestamp(date: now())
        return dashboard
    }
}
