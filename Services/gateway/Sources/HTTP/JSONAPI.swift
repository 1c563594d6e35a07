public import C360Contracts
public import GRPCCore
public import GRPCInProcessTransport
public import Hummingbird
import SwiftProtobuf

/// The HTTP/JSON face of GatewayService: `POST /api/v1/<Method>` with the request message in the protobuf JSON
/// mapping answers the response message the same way. Every unary RPC is available, and three streams:
/// `ExportCustomerData` answers the export document itself, written as its chunks arrive; `WatchAlerts` one
/// `AlertEvent` and `WatchCustomer360` one `Customer360Update` per line (newline-delimited JSON) for as long as the
/// client listens.
public struct JSONAPI: Sendable {
    public typealias Client = Customer360_V1_GatewayService.Client<InProcessTransport.Client>
    typealias Handler = @Sendable (Client, ByteBuffer, Metadata) async throws -> String

    typealias StreamHandler = @Sendable (Client, ByteBuffer, Metadata) throws -> HTTPStream

    private let client: Client
    /// Every RPC of the contracts by its full name.
    let contract: ContractJSON
    private let handlers: [String: Handler]
    private let streams: [String: StreamHandler]

    public init(client: GRPCClient<InProcessTransport.Client>) {
        self.client = Client(wrapping: client)
        self.contract = ContractJSON(client: client)
        var handlers: [String: Handler] = [:]
        func route<Request: SwiftProtobuf.Message & Sendable, Response: SwiftProtobuf.Message & Sendable>(
            _ name: String, _: Request.Type,
            _ call: @escaping @Sendable (Client, Request, Metadata) async throws -> Response
        ) {
            handlers[name] = { client, body, metadata in
                try await call(client, try Self.decode(Request.self, from: body), metadata).jsonString()
            }
        }
        var streams: [String: StreamHandler] = [:]
        streams["ExportCustomerData"] = { client, body, metadata in
            let request = try Self.decode(Customer360_V1_PrivacyExportRequest.self, from: body)
            return HTTPStream(contentType: "application/json") { emit in
                try await client.exportCustomerData(request, metadata: metadata) { response in
                    for try await chunk in response.messages { try await emit(chunk.json) }
                }
            }
        }
        streams["WatchAlerts"] = { client, body, metadata in
            let request = try Self.decode(Customer360_V1_WatchAlertsRequest.self, from: body)
            return HTTPStream(contentType: "application/x-ndjson") { emit in
                try await client.watchAlerts(request, metadata: metadata) { response in
                    for try await event in response.messages { try await emit(try event.jsonString() + "\n") }
                }
            }
        }
        streams["WatchCustomer360"] = { client, body, metadata in
            let request = try Self.decode(Customer360_V1_WatchCustomer360Request.self, from: body)
            return HTTPStream(contentType: "application/x-ndjson") { emit in
                try await client.watchCustomer360(request, metadata: metadata) { response in
                    for try await update in response.messages { try await emit(try update.jsonString() + "\n") }
                }
            }
        }
        self.streams = streams
        route("GetCustomer360", Customer360_V1_GetCustomer360Request.self) {
            try await $0.getCustomer360($1, metadata: $2)
        }
        route("GetKpiDashboard", Customer360_V1_GetKpiDashboardRequest.self) {
            try await $0.getKpiDashboard($1, metadata: $2)
        }
        route("ListCustomers", Customer360_V1_ListCustomersRequest.self) {
            try await $0.listCustomers($1, metadata: $2)
        }
        route("ListTimeline", Customer360_V1_ListTimelineRequest.self) { try await $0.listTimeline($1, metadata: $2) }
        route("ListAtRisk", Customer360_V1_ListAtRiskRequest.self) { try await $0.listAtRisk($1, metadata: $2) }
        route("ListAlerts", Customer360_V1_ListAlertsRequest.self) { try await $0.listAlerts($1, metadata: $2) }
        route("ListTasks", Customer360_V1_ListTasksRequest.self) { try await $0.listTasks($1, metadata: $2) }
        route("CreateCustomer", Customer360_V1_CreateCustomerRequest.self) {
            try await $0.createCustomer($1, metadata: $2)
        }
        route("UpdateCustomer", Customer360_V1_UpdateCustomerRequest.self) {
            try await $0.updateCustomer($1, metadata: $2)
        }
        route("SetConsent", Customer360_V1_SetConsentRequest.self) { try await $0.setConsent($1, metadata: $2) }
        route("RecordTouchpoint", Customer360_V1_RecordTouchpointRequest.self) {
            try await $0.recordTouchpoint($1, metadata: $2)
        }
        route("OpenTicket", Customer360_V1_OpenTicketRequest.self) { try await $0.openTicket($1, metadata: $2) }
        route("ReplyToTicket", Customer360_V1_ReplyToTicketRequest.self) {
            try await $0.replyToTicket($1, metadata: $2)
        }
        route("ResolveTicket", Customer360_V1_ResolveTicketRequest.self) {
            try await $0.resolveTicket($1, metadata: $2)
        }
        route("RecordResponse", Customer360_V1_RecordResponseRequest.self) {
            try await $0.recordResponse($1, metadata: $2)
        }
        route("CreateSuccessPlan", Customer360_V1_CreateSuccessPlanRequest.self) {
            try await $0.createSuccessPlan($1, metadata: $2)
        }
        route("UpdateSuccessPlan", Customer360_V1_UpdateSuccessPlanRequest.self) {
            try await $0.updateSuccessPlan($1, metadata: $2)
        }
        route("AddGoal", Customer360_V1_AddGoalRequest.self) { try await $0.addGoal($1, metadata: $2) }
        route("RecordGoalProgress", Customer360_V1_RecordGoalProgressRequest.self) {
            try await $0.recordGoalProgress($1, metadata: $2)
        }
        route("AcknowledgeAlert", Customer360_V1_AcknowledgeAlertRequest.self) {
            try await $0.acknowledgeAlert($1, metadata: $2)
        }
        route("CompleteTask", Customer360_V1_CompleteTaskRequest.self) { try await $0.completeTask($1, metadata: $2) }
        route("CreateApiKey", Customer360_V1_CreateApiKeyRequest.self) { try await $0.createApiKey($1, metadata: $2) }
        route("ListApiKeys", Customer360_V1_ListApiKeysRequest.self) { try await $0.listApiKeys($1, metadata: $2) }
        route("RevokeApiKey", Customer360_V1_RevokeApiKeyRequest.self) { try await $0.revokeApiKey($1, metadata: $2) }
        route("ListAuditLog", Customer360_V1_ListAuditLogRequest.self) { try await $0.listAuditLog($1, metadata: $2) }
        route("EraseCustomer", Customer360_V1_PrivacyEraseRequest.self) { try await $0.eraseCustomer($1, metadata: $2) }
        self.handlers = handlers
    }

    /// The request message in a body (an empty body is the default message).
    static func decode<Request: SwiftProtobuf.Message>(_: Request.Type, from body: ByteBuffer) throws -> Request {
        do {
            return body.readableBytes == 0
                ? Request()
                : try Request(
                    jsonUTF8Bytes: body.getBytes(at: body.readerIndex, length: body.readableBytes) ?? [],
                    options: decoding)
        } catch {
            throw RPCError(
                code: .invalidArgument, message: "the body is not a JSON \(Request.protoMessageName): \(error)")
        }
    }

    static let decoding: JSONDecodingOptions = {
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = false
        return options
    }()

    /// The methods served.
    public var methods: [String] { (Array(handlers.keys) + Array(streams.keys)).sorted() }

    /// Answers `method` for a JSON body; `nil` when there is no such unary method.
    public func call(_ method: String, body: ByteBuffer, metadata: Metadata) async throws -> String? {
        guard let handler = handlers[method] else { return nil }
        return try await handler(client, body, metadata)
    }

    /// The stream `method` answers for a JSON body; `nil` when there is no such streaming method.
    func stream(_ method: String, body: ByteBuffer, metadata: Metadata) throws -> HTTPStream? {
        guard let handler = streams[method] else { return nil }
        return try handler(client, body, metadata)
    }
}
