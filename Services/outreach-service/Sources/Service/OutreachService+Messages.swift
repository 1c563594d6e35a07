public import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
public import GRPCCore

extension OutreachService {
    public func sendMessage(
        request: Customer360_V1_SendMessageRequest, context: ServerContext
    ) async throws -> Customer360_V1_OutboundMessage {
        try Validate.id(request.customerID, field: "customer_id")
        let templateID = try Validate.clientID(request.templateID, field: "template_id")
        let key = try Validate.text(request.idempotencyKey, field: "idempotency_key", maxLength: 200, required: true)
        var forced = ""
        if request.channel != .unspecified {
            guard let channel = Channel(proto: request.channel), SendPlanner.messagingChannels.contains(channel) else {
                throw InvalidArgument("channel", "must be UNSPECIFIED (picked at send time), EMAIL, SMS or PUSH")
            }
            forced = channel.rawValue
        }
        let template = try await store.template(id: templateID)
        let customerID = try await customers.resolveForWrite(request.customerID)
        let stamp = now().unixMillis
        let message = MessageRecord(
            messageId: EntityID.generate(), customerId: customerID, templateId: templateID, campaignId: "",
            idempotencyKey: key, purpose: template.purpose, forcedChannel: forced, channel: "", status: .queued,
            statusReason: "", createdAt: stamp, scheduledFor: stamp, sentAt: nil, attempts: 0, language: "")
        // A repeated idempotency key answers the stored message, which may have been sent already.
        return try proto(try await store.enqueue(message))
    }

    public func getMessage(
        request: Customer360_V1_GetMessageRequest, context: ServerContext
    ) async throws -> Customer360_V1_OutboundMessage {
        try proto(try await store.message(id: try Validate.id(request.messageID, field: "message_id")))
    }

    public func listMessages(
        request: Customer360_V1_ListMessagesRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListMessagesResponse {
        let limit = try Validate.pageSize(request.page.pageSize)
        switch (request.customerID.isEmpty, request.campaignID.isEmpty) {
        case (false, true):
            try Validate.id(request.customerID, field: "customer_id")
            let customerID = try await customers.resolve(request.customerID)
            let filter = "messages:\(customerID)"
            let token: PageToken<InstantPosition>? = try Validate.pageToken(request.page.pageToken, filter: filter)
            let page = try await store.messages(customerID: customerID, after: token?.position, limit: limit)
            let messages = try page.items.map(proto)
            return .with {
                $0.messages = messages
                $0.page.nextPageToken = page.nextToken(filter: filter) {
                    InstantPosition(key: $0.createdAt, tie: $0.messageId)
                }
            }
        case (true, false):
            let campaignID = try Validate.clientID(request.campaignID, field: "campaign_id")
            let filter = "campaign:\(campaignID)"
            let token: PageToken<String>? = try Validate.pageToken(request.page.pageToken, filter: filter)
            let page = try await store.messages(campaignID: campaignID, after: token?.position, limit: limit)
            let messages = try page.items.map(proto)
            return .with {
                $0.messages = messages
                $0.page.nextPageToken = page.nextToken(filter: filter) { $0.customerId }
            }
        default:
            throw InvalidArgument("customer_id", "set exactly one of customer_id and campaign_id")
        }
    }

    /// A stored message as clients see it, its sealed recipient, subject and body opened.
    func proto(_ message: MessageRecord) throws -> Customer360_V1_OutboundMessage {
        message.proto(try store.content(of: message))
    }

    public func startCampaign(
        request: Customer360_V1_StartCampaignRequest, context: ServerContext
    ) async throws -> Customer360_V1_Campaign {
        let id =
            request.campaignID.isEmpty
            ? EntityID.generate() : try Validate.clientID(request.campaignID, field: "campaign_id")
        let segmentID = try Validate.clientID(request.segmentID, field: "segment_id")
        let templateID = try Validate.clientID(request.templateID, field: "template_id")
        let campaign = try await store.startCampaign(
            CampaignRecord(
                campaignId: id, segmentId: segmentID, templateId: templateID, queueing: true, cursor: "",
                startedAt: now().unixMillis, completedAt: nil, suppressDiscountDriven: request.suppressDiscountDriven))
        let (stored, counts) = try await store.campaign(id: campaign.campaignId)
        return stored.proto(counts)
    }

    public func getCampaign(
        request: Customer360_V1_GetCampaignRequest, context: ServerContext
    ) async throws -> Customer360_V1_Campaign {
        let (campaign, counts) = try await store.campaign(
            id: try Validate.clientID(request.campaignID, field: "campaign_id"))
        return campaign.proto(counts)
    }
}
