public import C360Contracts
import C360ServerKit
public import GRPCCore

// Reads and writes routed to the owning service. Errors of the owning service (validation, not found, unavailable)
// reach the client as they are; every write and every personal-data read is audited.
extension GatewayService {
    public func listCustomers(
        request: Customer360_V1_ListCustomersRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListCustomersResponse {
        try await audited(.read, customer: "", context: context) {
            var page = try await peers.profile.listCustomers(request, options: peers.options)
            if !showsPersonalData { for index in page.customers.indices { Redaction.redact(&page.customers[index]) } }
            return (page, "")
        }
    }

    public func listTimeline(
        request: Customer360_V1_ListTimelineRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListTimelineResponse {
        try await audited(.read, customer: request.customerID, context: context) {
            var page = try await peers.interaction.listTimeline(request, options: peers.options)
            if !showsPersonalData {
                for index in page.touchpoints.indices { Redaction.redact(&page.touchpoints[index]) }
            }
            return (page, request.customerID)
        }
    }

    public func listAtRisk(
        request: Customer360_V1_ListAtRiskRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListAtRiskResponse {
        try await peers.success.listAtRisk(request, options: peers.options)
    }

    public func listAlerts(
        request: Customer360_V1_ListAlertsRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListAlertsResponse {
        try await audited(.read, customer: request.customerID, context: context) {
            (try await peers.success.listAlerts(request, options: peers.options), request.customerID)
        }
    }

    /// Relays success-service's feed until the client or the gateway stops it (no deadline: the stream is open-ended).
    /// A client that goes away closes the stream to success-service too: left open, it would keep the gateway's
    /// connection to success-service — and so the gateway's shutdown — waiting for good.
    public func watchAlerts(
        request: Customer360_V1_WatchAlertsRequest, response: RPCWriter<Customer360_V1_AlertEvent>,
        context: ServerContext
    ) async throws {
        // Audited when the stream ends, with how it ended.
        try await audited(.read, customer: request.customerID, context: context) {
            try await ServerDrain.serverStream(context: context) {
                try await peers.success.watchAlerts(request) { events in
                    for try await event in events.messages { try await response.write(event) }
                }
            }
            return ((), request.customerID)
        }
    }

    public func listTasks(
        request: Customer360_V1_ListTasksRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListTasksResponse {
        try await audited(.read, customer: request.customerID, context: context) {
            (try await peers.success.listTasks(request, options: peers.options), request.customerID)
        }
    }

    // MARK: - Writes

    public func createCustomer(
        request: Customer360_V1_CreateCustomerRequest, context: ServerContext
    ) async throws -> Customer360_V1_Customer {
        try await audited(.write, customer: "", context: context) {
            let customer = try await peers.profile.createCustomer(request, options: peers.options)
            return (customer, customer.customerID)
        }
    }

    public func updateCustomer(
        request: Customer360_V1_UpdateCustomerRequest, context: ServerContext
    ) async throws -> Customer360_V1_Customer {
        try await write(request.customerID, context) {
            try await $0.profile.updateCustomer(request, options: $0.options)
        }
    }

    public func setConsent(
        request: Customer360_V1_SetConsentRequest, context: ServerContext
    ) async throws -> Customer360_V1_ConsentState {
        try await write(request.customerID, context) { try await $0.profile.setConsent(request, options: $0.options) }
    }

    public func recordTouchpoint(
        request: Customer360_V1_RecordTouchpointRequest, context: ServerContext
    ) async throws -> Customer360_V1_RecordTouchpointResponse {
        try await write(request.customerID, context) {
            try await $0.interaction.recordTouchpoint(request, options: $0.options)
        }
    }

    /// Relays a client stream of touchpoints to interaction-service as it arrives (back-pressure end to end).
    public func recordTouchpoints(
        request: RPCAsyncSequence<Customer360_V1_RecordTouchpointsRequest, any Error>, context: ServerContext
    ) async throws -> Customer360_V1_RecordTouchpointsResponse {
        try await audited(.write, customer: "", context: context) {
            let answer = try await peers.interaction.recordTouchpoints { writer in
                for try await message in request { try await writer.write(message) }
            }
            return (answer, "")
        }
    }

    public func openTicket(
        request: Customer360_V1_OpenTicketRequest, context: ServerContext
    ) async throws -> Customer360_V1_Ticket {
        try await write(request.customerID, context) {
            try await $0.interaction.openTicket(request, options: $0.options)
        }
    }

    public func replyToTicket(
        request: Customer360_V1_ReplyToTicketRequest, context: ServerContext
    ) async throws -> Customer360_V1_Ticket {
        try await write(request.customerID, context) {
            try await $0.interaction.replyToTicket(request, options: $0.options)
        }
    }

    public func resolveTicket(
        request: Customer360_V1_ResolveTicketRequest, context: ServerContext
    ) async throws -> Customer360_V1_Ticket {
        try await write(request.customerID, context) {
            try await $0.interaction.resolveTicket(request, options: $0.options)
        }
    }

    public func recordResponse(
        request: Customer360_V1_RecordResponseRequest, context: ServerContext
    ) async throws -> Customer360_V1_RecordResponseResponse {
        try await write(request.customerID, context) {
            try await $0.feedback.recordResponse(request, options: $0.options)
        }
    }

    public func createSuccessPlan(
        request: Customer360_V1_CreateSuccessPlanRequest, context: ServerContext
    ) async throws -> Customer360_V1_SuccessPlan {
        try await write(request.customerID, context) {
            try await $0.success.createSuccessPlan(request, options: $0.options)
        }
    }

    public func updateSuccessPlan(
        request: Customer360_V1_UpdateSuccessPlanRequest, context: ServerContext
    ) async throws -> Customer360_V1_SuccessPlan {
        try await write(request.customerID, context) {
            try await $0.success.updateSuccessPlan(request, options: $0.options)
        }
    }

    public func addGoal(
        request: Customer360_V1_AddGoalRequest, context: ServerContext
    ) async throws -> Customer360_V1_SuccessGoal {
        try await write(request.customerID, context) { try await $0.success.addGoal(request, options: $0.options) }
    }

    public func recordGoalProgress(
        request: Customer360_V1_RecordGoalProgressRequest, context: ServerContext
    ) async throws -> Customer360_V1_SuccessGoal {
        try await write(request.customerID, context) {
            try await $0.success.recordGoalProgress(request, options: $0.options)
        }
    }

    public func acknowledgeAlert(
        request: Customer360_V1_AcknowledgeAlertRequest, context: ServerContext
    ) async throws -> Customer360_V1_Alert {
        try await write(request.customerID, context) {
            try await $0.success.acknowledgeAlert(request, options: $0.options)
        }
    }

    public func completeTask(
        request: Customer360_V1_CompleteTaskRequest, context: ServerContext
    ) async throws -> Customer360_V1_PlaybookTask {
        try await write(request.customerID, context) { try await $0.success.completeTask(request, options: $0.options) }
    }

    /// An audited write about `customerID`, routed through `call`.
    private func write<Response: Sendable>(
        _ customerID: String, _ context: ServerContext, _ call: (Peers) async throws -> Response
    ) async throws -> Response {
        try await audited(.write, customer: customerID, context: context) { (try await call(peers), customerID) }
    }
}
