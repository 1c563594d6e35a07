public import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
public import GRPCCore

extension SuccessService {
    /// Stored events replayed per read when a watcher catches up.
    static let replayChunk = 500
    /// How far back `since` may reach.
    static let replayHorizon: TimeInterval = 7 * 86_400

    public func listAlerts(
        request: Customer360_V1_ListAlertsRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListAlertsResponse {
        var filter = AlertFilter()
        if !request.customerID.isEmpty { filter.customerID = try await readableCustomer(request.customerID) }
        for (index, value) in request.kinds.enumerated() {
            guard let kind = AlertKind(proto: value) else {
                throw InvalidArgument("kinds[\(index)]", "is not an alert kind")
            }
            filter.kinds.insert(kind)
        }
        for (index, value) in request.states.enumerated() {
            guard let state = AlertState(proto: value) else {
                throw InvalidArgument("states[\(index)]", "is not an alert state")
            }
            filter.states.insert(state)
        }
        (filter.from, filter.until) = try Validate.window(request.hasRaised ? request.raised : nil, field: "raised")
        let limit = try Validate.pageSize(request.page.pageSize)
        let token: PageToken<InstantPosition>? = try Validate.pageToken(
            request.page.pageToken, filter: filter.fingerprint)
        let page = try await store.alerts(filter: filter, after: token?.position, limit: limit)
        return .with {
            $0.alerts = page.items.map(\.alert.proto)
            $0.page.nextPageToken = page.nextToken(filter: filter.fingerprint) { $0.position }
        }
    }

    public func acknowledgeAlert(
        request: Customer360_V1_AcknowledgeAlertRequest, context: ServerContext
    ) async throws -> Customer360_V1_Alert {
        try await transition(
            customer: request.customerID, alert: request.alertID, to: .acknowledged,
            by: request.acknowledgedBy, byField: "acknowledged_by", note: request.note)
    }

    public func resolveAlert(
        request: Customer360_V1_ResolveAlertRequest, context: ServerContext
    ) async throws -> Customer360_V1_Alert {
        try await transition(
            customer: request.customerID, alert: request.alertID, to: .resolved,
            by: request.resolvedBy, byField: "resolved_by", note: request.note)
    }

    /// Replays stored events after `after_event_id` (or since `since`), then streams live ones, skipping any live
    /// event the replay already delivered. Ends when the client goes away, or with UNAVAILABLE when the server
    /// drains.
    public func watchAlerts(
        request: Customer360_V1_WatchAlertsRequest, response: RPCWriter<Customer360_V1_AlertEvent>,
        context: ServerContext
    ) async throws {
        try await ServerDrain.serverStream(context: context) {
            try await streamAlerts(request, to: response)
        }
    }

    private func streamAlerts(
        _ request: Customer360_V1_WatchAlertsRequest, to response: RPCWriter<Customer360_V1_AlertEvent>
    ) async throws {
        let customerID = request.customerID.isEmpty ? "" : try await readableCustomer(request.customerID)
        var kinds = Set<AlertKind>()
        for (index, value) in request.kinds.enumerated() {
            guard let kind = AlertKind(proto: value) else {
                throw InvalidArgument("kinds[\(index)]", "is not an alert kind")
            }
            kinds.insert(kind)
        }
        let afterID =
            request.afterEventID.isEmpty ? nil : try Validate.id(request.afterEventID, field: "after_event_id")
        var since: Date?
        if request.hasSince {
            let requested = try Validate.instant(request.since, field: "since", now: now())
            since = max(requested, now().addingTimeInterval(-Self.replayHorizon))
        }
        func wanted(_ event: AlertEvent) -> Bool {
            (customerID.isEmpty || event.alert.customerID == customerID)
                && (kinds.isEmpty || kinds.contains(event.alert.kind))
        }
        // Subscribe before replaying, so nothing published during the replay is lost.
        let live = feed.subscribe()
        var lastDelivered = afterID ?? ""
        if afterID != nil || since != nil {
            var cursor = afterID
            while true {
                let chunk = try await store.events(
                    afterEventID: cursor, since: cursor == nil ? since : nil,
                    limit: Self.replayChunk)
                for event in chunk where wanted(event) { try await response.write(event.proto) }
                guard let last = chunk.last else { break }
                cursor = last.id
                lastDelivered = last.id
                if chunk.count < Self.replayChunk { break }
            }
        }
        for await event in live where event.id > lastDelivered && wanted(event) {
            try await response.write(event.proto)
        }
        // The feed ends only when it shuts down, or when this watch's task is cancelled (and then nobody listens).
        throw ServerDrain.shuttingDown
    }

    public func listTasks(
        request: Customer360_V1_ListTasksRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListTasksResponse {
        var filter = TaskFilter()
        if !request.customerID.isEmpty { filter.customerID = try await readableCustomer(request.customerID) }
        filter.ownerID = try Validate.text(request.ownerID, field: "owner_id", maxLength: 128)
        for (index, value) in request.statuses.enumerated() {
            guard let status = TaskStatus(proto: value) else {
                throw InvalidArgument("statuses[\(index)]", "is not a task status")
            }
            filter.statuses.insert(status)
        }
        if request.overdueOnly { filter.overdueAt = now() }
        let limit = try Validate.pageSize(request.page.pageSize)
        let token: PageToken<InstantPosition>? = try Validate.pageToken(
            request.page.pageToken, filter: filter.fingerprint)
        let page = try await store.tasks(filter: filter, after: token?.position, limit: limit)
        return .with {
            $0.tasks = page.items.map(\.task.proto)
            $0.page.nextPageToken = page.nextToken(filter: filter.fingerprint) { $0.position }
        }
    }

    public func createTask(
        request: Customer360_V1_CreateTaskRequest, context: ServerContext
    ) async throws -> Customer360_V1_PlaybookTask {
        try Validate.id(request.customerID, field: "customer_id")
        let taskID = try Validate.clientID(request.taskID, field: "task_id")
        let playbook = try Validate.text(request.playbook, field: "playbook", maxLength: 100, required: true)
        let title = try Validate.text(request.title, field: "title", maxLength: 200, required: true)
        let instructions = try Validate.text(request.instructions, field: "instructions", maxLength: 2000)
        let owner = try Validate.text(request.ownerID, field: "owner_id", maxLength: 128)
        var due: TimeInterval = 3 * 86_400
        if request.hasDueIn {
            due = try Validate.duration(request.dueIn, field: "due_in", maximum: 365 * 86_400)
            guard due >= 60 else { throw InvalidArgument("due_in", "must be at least 1 minute, not \(due) s") }
        }
        let customerID = try await customers.resolveForWrite(request.customerID)
        let at = now()
        let task = PlaybookTask(
            id: taskID, customerID: customerID, alertID: "", playbook: playbook, title: title,
            instructions: instructions,
            ownerID: owner.isEmpty ? scorer.rules.owner(plans: try await store.plans(customerID: customerID)) : owner,
            dueAt: at.addingTimeInterval(due), createdAt: at)
        return try await store.createTask(task).proto
    }

    public func completeTask(
        request: Customer360_V1_CompleteTaskRequest, context: ServerContext
    ) async throws -> Customer360_V1_PlaybookTask {
        let customerID = try await readableCustomer(request.customerID)
        let taskID = try Validate.id(request.taskID, field: "task_id")
        let person = try Validate.text(request.completedBy, field: "completed_by", maxLength: 128, required: true)
        let note = try Validate.text(request.outcomeNote, field: "outcome_note", maxLength: 2000)
        return try await store.completeTask(id: taskID, customerID: customerID, by: person, note: note, at: now()).proto
    }

    private func transition(
        customer: String, alert: String, to state: AlertState, by person: String, byField: String, note: String
    ) async throws -> Customer360_V1_Alert {
        let customerID = try await readableCustomer(customer)
        let alertID = try Validate.id(alert, field: "alert_id")
        let person = try Validate.text(person, field: byField, maxLength: 128, required: true)
        let note = try Validate.text(note, field: "note", maxLength: 2000)
        let (changed, event) = try await store.transition(
            alert: alertID, customerID: customerID, to: state, by: person,
            note: note, at: now())
        if let event { feed.publish(event) }
        return changed.proto
    }
}
