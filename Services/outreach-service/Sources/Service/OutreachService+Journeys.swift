public import C360Contracts
import C360ServerKit
import C360StoreKit
import Foundation
public import GRPCCore
import SwiftProtobuf

extension OutreachService {
    /// The changes on the data services' feeds a journey may start on.
    static let journeyEvents: Set<Customer360_V1_ChangeKind> = [
        .customerCreated, .purchaseRecorded, .ticketResolved, .responseRecorded, .alertRaised, .healthScored,
        .featureRequestShipped,
    ]

    public func putJourney(
        request: Customer360_V1_PutJourneyRequest, context: ServerContext
    ) async throws -> Customer360_V1_Journey {
        let id = try Validate.clientID(request.journeyID, field: "journey_id")
        var definition = request
        definition.name = try Validate.text(request.name, field: "name", maxLength: 200, required: true)
        var triggerSegment = ""
        var triggerEvent = 0
        switch request.trigger.trigger {
        case .segmentEntered(let segment):
            triggerSegment = try Validate.clientID(segment, field: "trigger.segment_entered")
            _ = try await referenced("trigger.segment_entered", "segment \(segment) does not exist") {
                try await store.segment(id: segment)
            }
        case .event(let kind):
            guard Self.journeyEvents.contains(kind) else {
                throw InvalidArgument(
                    "trigger.event",
                    "must be one of CUSTOMER_CREATED, PURCHASE_RECORDED, TICKET_RESOLVED, "
                        + "RESPONSE_RECORDED, ALERT_RAISED, HEALTH_SCORED, FEATURE_REQUEST_SHIPPED")
            }
            triggerEvent = kind.rawValue
        case nil:
            throw InvalidArgument("trigger", "is required: segment_entered or event")
        }
        guard (1...50).contains(request.steps.count) else {
            throw InvalidArgument("steps", "needs 1 to 50 steps, not \(request.steps.count)")
        }
        for (index, step) in request.steps.enumerated() {
            let field = "steps[\(index)]"
            switch step.step {
            case .wait(let wait):
                guard let span = wait.validSpan, span >= 1, span <= 366 * 86_400 else {
                    throw InvalidArgument("\(field).wait", "must be 1 second to 366 days")
                }
            case .send(let send):
                let template = try Validate.clientID(send.templateID, field: "\(field).send.template_id")
                _ = try await referenced("\(field).send.template_id", "template \(template) does not exist") {
                    try await store.template(id: template)
                }
                if send.channel != .unspecified {
                    guard let channel = Channel(proto: send.channel), SendPlanner.messagingChannels.contains(channel)
                    else {
                        throw InvalidArgument("\(field).send.channel", "must be UNSPECIFIED, EMAIL, SMS or PUSH")
                    }
                }
            case .branch(let branch):
                guard branch.hasRule else { throw InvalidArgument("\(field).branch.rule", "is required") }
                _ = try SegmentQuery(branch.rule, field: "\(field).branch.rule", now: now())
                for (name, target) in [("then_step", branch.thenStep), ("else_step", branch.elseStep)]
                where target < -1 || Int(target) >= request.steps.count {
                    throw InvalidArgument(
                        "\(field).branch.\(name)", "must be a step index (0…\(request.steps.count - 1)) or -1 to end")
                }
            case .addTag(let tag):
                _ = try Validate.text(tag, field: "\(field).add_tag", maxLength: 64, required: true)
            case .earnPoints(let points):
                guard (1...1_000_000).contains(points.points) else {
                    throw InvalidArgument("\(field).earn_points.points", "must be 1 to 1,000,000")
                }
                _ = try Validate.text(
                    points.reason, field: "\(field).earn_points.reason", maxLength: 200, required: true)
            case .createTask(let task):
                _ = try Validate.text(task.title, field: "\(field).create_task.title", maxLength: 200, required: true)
                _ = try Validate.text(task.instructions, field: "\(field).create_task.instructions", maxLength: 2000)
                _ = try Validate.text(task.ownerID, field: "\(field).create_task.owner_id", maxLength: 128)
                if task.hasDueIn {
                    guard let span = task.dueIn.validSpan, span >= 60, span <= 365 * 86_400 else {
                        throw InvalidArgument("\(field).create_task.due_in", "must be 1 minute to 365 days")
                    }
                }
            case nil:
                throw InvalidArgument(field, "is empty: set wait, send, branch, add_tag, earn_points or create_task")
            }
        }
        let stamp = now().unixMillis
        let (journey, running, completed) = try await store.putJourney(
            JourneyRecord(
                journeyId: id, definition: try definition.serializedBytes(), active: request.active,
                triggerSegment: triggerSegment, triggerEvent: triggerEvent, allowReentry: request.trigger.allowReentry,
                createdAt: stamp, updatedAt: stamp))
        return journey.proto(running: running, completed: completed)
    }

    /// Runs `lookup`, turning "not found" into FAILED_PRECONDITION naming the request field that refers to it.
    private func referenced<T>(_ field: String, _ detail: String, _ lookup: () async throws -> T) async throws -> T {
        do {
            return try await lookup()
        } catch let error as OutreachError where error.rpcErrorCode == .notFound {
            throw OutreachError.journeyReference(field: field, detail: detail)
        }
    }

    public func getJourney(
        request: Customer360_V1_GetJourneyRequest, context: ServerContext
    ) async throws -> Customer360_V1_Journey {
        let (journey, running, completed) = try await store.journey(
            id: try Validate.clientID(request.journeyID, field: "journey_id"))
        return journey.proto(running: running, completed: completed)
    }

    public func listJourneys(
        request: Customer360_V1_ListJourneysRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListJourneysResponse {
        let limit = try Validate.pageSize(request.page.pageSize)
        let token: PageToken<String>? = try Validate.pageToken(request.page.pageToken, filter: "journeys")
        let page = try await store.journeys(after: token?.position, limit: limit)
        return .with {
            $0.journeys = page.items.map { $0.0.proto(running: $0.running, completed: $0.completed) }
            $0.page.nextPageToken = page.nextToken(filter: "journeys") { $0.0.journeyId }
        }
    }

    public func listJourneyRuns(
        request: Customer360_V1_ListJourneyRunsRequest, context: ServerContext
    ) async throws -> Customer360_V1_ListJourneyRunsResponse {
        let limit = try Validate.pageSize(request.page.pageSize)
        let page: Page<JourneyRunRecord>
        let filter: String
        switch (request.journeyID.isEmpty, request.customerID.isEmpty) {
        case (false, true):
            let journeyID = try Validate.clientID(request.journeyID, field: "journey_id")
            filter = "runs:\(journeyID)"
            let token: PageToken<String>? = try Validate.pageToken(request.page.pageToken, filter: filter)
            page = try await store.runs(journeyID: journeyID, after: token?.position, limit: limit)
        case (true, false):
            try Validate.id(request.customerID, field: "customer_id")
            let customerID = try await customers.resolve(request.customerID)
            filter = "runs-of:\(customerID)"
            let token: PageToken<String>? = try Validate.pageToken(request.page.pageToken, filter: filter)
            page = try await store.runs(customerID: customerID, after: token?.position, limit: limit)
        default:
            throw InvalidArgument("journey_id", "set exactly one of journey_id and customer_id")
        }
        return .with {
            $0.runs = page.items.map(\.proto)
            $0.page.nextPageToken = page.nextToken(filter: filter) { $0.runId }
        }
    }
}

extension JourneyRecord {
    func proto(running: Int, completed: Int) -> Customer360_V1_Journey {
        let definition = proto
        return .with {
            $0.journeyID = journeyId
            $0.name = definition.name
            $0.trigger = definition.trigger
            $0.steps = definition.steps
            $0.active = active
            $0.running = Int64(running)
            $0.completed = Int64(completed)
            $0.createdAt = .init(unixMillis: createdAt)
            $0.updatedAt = .init(unixMillis: updatedAt)
        }
    }
}

extension JourneyRunRecord {
    var proto: Customer360_V1_JourneyRun {
        .with {
            $0.runID = runId
            $0.journeyID = journeyId
            $0.customerID = customerId
            $0.step = Int32(step)
            $0.state =
                switch state {
                case .waiting: .waiting
                case .completed: .completed
                case .exited: .exited
                }
            if state == .waiting { $0.nextStepAt = .init(unixMillis: dueAt) }
            $0.enteredAt = .init(unixMillis: enteredAt)
            $0.updatedAt = .init(unixMillis: updatedAt)
            $0.reason = reason
        }
    }
}

extension OutreachService {
    public func exportCustomerData(
        request: Customer360_V1_ExportOutreachDataRequest,
        response: RPCWriter<Customer360_V1_ExportOutreachDataResponse>,
        context: ServerContext
    ) async throws {
        try Validate.id(request.customerID, field: "customer_id")
        let customerID = try await customers.resolve(request.customerID)
        let held = try await store.export(customerID: customerID)
        for chunk in stride(from: 0, to: max(held.messages.count, 1), by: 500) {
            // Opened here: the export is the customer's own copy of what they were sent.
            let messages = try held.messages[chunk..<min(chunk + 500, held.messages.count)].map(proto)
            try await response.write(
                .with {
                    $0.messages = messages
                    if chunk == 0 {
                        $0.journeyRuns = held.runs.map(\.proto)
                        $0.memberships = held.memberships.map { membership in
                            .with {
                                $0.segmentID = membership.segmentId
                                $0.enteredAt = .init(unixMillis: membership.enteredAt)
                            }
                        }
                    }
                })
        }
    }
}
