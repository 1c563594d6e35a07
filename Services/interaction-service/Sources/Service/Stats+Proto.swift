import C360Contracts
import C360ServerKit
import Foundation
import SwiftProtobuf

// Statistics as protobuf messages.

extension EngagementStats {
    func proto(customerID: String) -> Customer360_V1_EngagementStats {
        .with { message in
            message.customerID = customerID
            message.asOf = Google_Protobuf_Timestamp(date: asOf)
            message.windows = windows.map { window in
                .with {
                    $0.days = Int32(window.days)
                    $0.touchpoints = window.touchpoints
                    $0.inbound = window.inbound
                    $0.outbound = window.outbound
                    $0.activeDays = Int32(window.activeDays)
                    $0.byChannel = Channel.allCases.compactMap { channel in
                        window.byChannel[channel].map { count in
                            .with {
                                $0.channel = channel.proto
                                $0.touchpoints = count
                            }
                        }
                    }
                }
            }
            message.totalTouchpoints = totals.touchpoints
            if let first = totals.firstSeenAt { message.firstSeenAt = Google_Protobuf_Timestamp(date: first) }
            if let last = totals.lastSeenAt { message.lastSeenAt = Google_Protobuf_Timestamp(date: last) }
            if let inbound = totals.lastInboundAt { message.lastInboundAt = Google_Protobuf_Timestamp(date: inbound) }
        }
    }
}

extension CommerceStats {
    func proto(customerID: String) -> Customer360_V1_CommerceStats {
        func money(_ minor: Int64) -> Customer360_V1_Money { Money(minor, currency).proto }
        return .with { message in
            message.customerID = customerID
            message.asOf = Google_Protobuf_Timestamp(date: asOf)
            message.orders = totals.orders
            message.refunds = totals.refunds
            message.grossRevenue = money(totals.grossMinor)
            message.refunded = money(totals.refundedMinor)
            message.netRevenue = money(totals.netMinor)
            if let aov = averageOrderValueMinor { message.averageOrderValue = money(aov) }
            if let first = totals.firstPurchaseAt { message.firstPurchaseAt = Google_Protobuf_Timestamp(date: first) }
            if let last = totals.lastPurchaseAt { message.lastPurchaseAt = Google_Protobuf_Timestamp(date: last) }
            message.repeatOrders = repeatOrders
            if let rate = repeatPurchaseRate { message.repeatPurchaseRate = rate }
            message.discountedOrders = totals.discountedOrders
            if let share = discountShare { message.discountShare = share }
            message.discountDriven = discountDriven
            message.historicClv = money(historicCLVMinor)
            if let predictive = predictiveCLVMinor { message.predictiveClv = money(predictive) }
            if let perYear = purchasesPerYear { message.purchasesPerYear = perYear }
            message.expectedLifetimeYears = expectedLifetimeYears
            message.rfm = .with {
                if let rfm {
                    $0.recency = Int32(rfm.recency)
                    $0.frequency = Int32(rfm.frequency)
                    $0.monetary = Int32(rfm.monetary)
                    $0.segment = rfm.segment.proto
                } else {
                    $0.segment = .noPurchases
                }
                $0.computedAt = Google_Protobuf_Timestamp(date: asOf)
            }
            message.otherCurrencyOrders = totals.otherCurrencyOrders
        }
    }
}

extension SupportStats {
    func proto(customerID: String, window: Customer360_V1_TimeRange?) -> Customer360_V1_SupportStats {
        .with { message in
            message.customerID = customerID
            if let window { message.window = window }
            message.ticketsOpened = ticketsOpened
            message.ticketsOpen = ticketsOpen
            message.ticketsResolved = ticketsResolved
            message.ticketsResolvedFirstContact = ticketsResolvedFirstContact
            if let rate = firstContactResolutionRate { message.firstContactResolutionRate = rate }
            message.reopens = reopens
            if let mean = meanFirstResponseTime { message.meanFirstResponseTime = .seconds(mean) }
            if let median = medianFirstResponseTime { message.medianFirstResponseTime = .seconds(median) }
            if let mean = meanResolutionTime { message.meanResolutionTime = .seconds(mean) }
            message.selfServiceSessions = selfServiceSessions
            message.deflectedSessions = deflectedSessions
            if let rate = deflectionRate { message.deflectionRate = rate }
            if let last = lastTicketAt { message.lastTicketAt = Google_Protobuf_Timestamp(date: last) }
        }
    }

    func kpis(window: Customer360_V1_TimeRange?) -> Customer360_V1_SupportKpis {
        .with { message in
            if let window { message.window = window }
            message.ticketsOpened = ticketsOpened
            message.ticketsOpen = ticketsOpen
            message.ticketsResolved = ticketsResolved
            message.ticketsResolvedFirstContact = ticketsResolvedFirstContact
            message.reopens = reopens
            message.firstResponseCount = firstResponseCount
            message.firstResponseTotal = .seconds(firstResponseTotal)
            message.resolutionTotal = .seconds(resolutionTotal)
            message.firstResponseHistogram = firstResponseHistogram.enumerated().map { index, count in
                .with {
                    if index < Self.histogramBounds.count { $0.upperBound = .seconds(Self.histogramBounds[index]) }
                    $0.count = count
                }
            }
            message.selfServiceSessions = selfServiceSessions
            message.deflectedSessions = deflectedSessions
            if let rate = firstContactResolutionRate { message.firstContactResolutionRate = rate }
            if let mean = meanFirstResponseTime { message.meanFirstResponseTime = .seconds(mean) }
            if let median = medianFirstResponseTime { message.medianFirstResponseTime = .seconds(median) }
            if let rate = deflectionRate { message.deflectionRate = rate }
        }
    }
}

extension BestContactTime {
    func proto(customerID: String) -> Customer360_V1_BestContactTime {
        .with { message in
            message.customerID = customerID
            message.bestChannel = bestChannel?.proto ?? .unspecified
            if let hour = bestHourOfWeek { message.bestHourOfWeek = Int32(hour) }
            message.timeZone = timeZone
            message.sampleSize = sampleSize
            message.channels = channels.map { reach in
                .with {
                    $0.channel = reach.channel.proto
                    $0.interactions = reach.interactions
                    $0.score = reach.score
                }
            }
            message.topHours = topHours.map { hour in
                .with {
                    $0.hourOfWeek = Int32(hour.hourOfWeek)
                    $0.interactions = hour.interactions
                }
            }
        }
    }
}
