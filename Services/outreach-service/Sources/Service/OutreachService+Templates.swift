public import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
public import GRPCCore

extension OutreachService {
    public func putTemplate(
        request: Customer360_V1_PutTemplateRequest, context: ServerContext
    ) async throws -> Customer360_V1_MessageTemplate {
        let id = try Validate.clientID(request.templateID, field: "template_id")
        let name = try Validate.text(request.name, field: "name", maxLength: 200, required: true)
        guard let purpose = MessagePurpose(proto: request.purpose) else {
            throw InvalidArgument("purpose", "must be MARKETING or SERVICE")
        }
        guard (1...20).contains(request.variants.count) else {
            throw InvalidArgument(
                "variants", "needs 1 to 20 variants (one per channel × language), not \(request.variants.count)")
        }
        var variants: [TemplateVariant] = []
        for (index, variant) in request.variants.enumerated() {
            let field = "variants[\(index)]"
            guard let channel = Channel(proto: variant.channel), SendPlanner.messagingChannels.contains(channel) else {
                throw InvalidArgument("\(field).channel", "must be EMAIL, SMS or PUSH")
            }
            let language = try Validate.language(variant.language, field: "\(field).language")
            guard !language.isEmpty else { throw InvalidArgument("\(field).language", "is required (e.g. en, fa)") }
            // Bodies keep their own white space and direction marks: only length and known placeholders are checked.
            guard !variant.body.isEmpty, variant.body.count <= 10_000 else {
                throw InvalidArgument("\(field).body", "must be 1 to 10,000 characters")
            }
            guard variant.subject.count <= 500 else {
                throw InvalidArgument("\(field).subject", "must be at most 500 characters")
            }
            _ = try TemplateText(variant.body, field: "\(field).body")
            _ = try TemplateText(variant.subject, field: "\(field).subject")
            guard !variants.contains(where: { $0.channel == channel && $0.language == language }) else {
                throw InvalidArgument(field, "repeats channel \(channel.rawValue) in language \(language)")
            }
            variants.append(
                TemplateVariant(channel: channel, language: language, subject: variant.subject, body: variant.body))
        }
        let defaultLanguage =
            request.defaultLanguage.isEmpty
            ? variants[0].language : try Validate.language(request.defaultLanguage, field: "default_language")
        guard variants.contains(where: { $0.language == defaultLanguage }) else {
            throw InvalidArgument("default_language", "'\(defaultLanguage)' has no variant")
        }
        let stamp = now().unixMillis
        let template = TemplateRecord(
            templateId: id, name: name, purpose: purpose, defaultLanguage: defaultLanguage,
            variants: variants, createdAt: stamp, updatedAt: stamp)
        return try await store.putTemplate(template).proto
    }

    public func getTemplate(
        request: Customer360_V1_GetTemplateRequest, context: ServerContext
    ) async throws -> Customer360_V1_MessageTemplate {
        try await store.template(id: try Validate.clientID(request.templateID, field: "template_id")).proto
    }

    public func listTemplates(
        request: Customer360_V1_ListTemplatesRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListTemplatesResponse {
        let limit = try Validate.pageSize(request.page.pageSize)
        let token: PageToken<String>? = try Validate.pageToken(request.page.pageToken, filter: "templates")
        let page = try await store.templates(after: token?.position, limit: limit)
        return .with {
            $0.templates = page.items.map(\.proto)
            $0.page.nextPageToken = page.nextToken(filter: "templates") { $0.templateId }
        }
    }

    public func previewMessage(
        request: Customer360_V1_PreviewMessageRequest, context: ServerContext
    ) async throws -> Customer360_V1_PreviewMessageResponse {
        try Validate.id(request.customerID, field: "customer_id")
        let templateID = try Validate.clientID(request.templateID, field: "template_id")
        let customerID = try await customers.resolve(request.customerID)
        let template = try await store.template(id: templateID)
        guard let planner else {
            throw RPCError(code: .unavailable, message: "sending is not configured in this process")
        }
        let probe = MessageRecord(
            messageId: "preview", customerId: customerID, templateId: templateID, campaignId: "", idempotencyKey: "",
            purpose: template.purpose, forcedChannel: "", channel: "", status: .queued, statusReason: "",
            createdAt: now().unixMillis, scheduledFor: now().unixMillis, sentAt: nil, attempts: 0, language: "")
        let plan = try await planner.plan(probe, template: template, now: now())
        return .with {
            $0.customerID = customerID
            switch plan {
            case .send(let envelope, let missing), .postpone(_, _, let envelope, let missing):
                $0.channel = envelope.channel.proto
                $0.language = envelope.language
                $0.subject = envelope.subject
                $0.body = envelope.body
                $0.recipient = envelope.recipient
                $0.missing = missing
                if case .postpone(let until, _, _, _) = plan { $0.deferredUntil = .init(date: until) }
            case .suppress(let reason):
                $0.blockedReason = reason
            }
        }
    }
}
