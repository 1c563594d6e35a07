import C360Clients
import C360Contracts
import C360TestExpectations
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

private typealias Update = Customer360_V1_Customer360Update

/// Every section of a 360° view, in the order updates list them (gateway.proto, Customer360View).
private let everySection = [
    "profile", "consents", "timeline", "engagement", "commerce", "support", "feedback", "success_plans", "health",
    "alerts",
]
/// The sections interaction-service fills.
private let interactionSections: Set<String> = ["timeline", "engagement", "commerce", "support"]

/// How long a watch may stay open in a test: long enough for the few updates a test waits for. A change reaches the
/// watcher in well under a second; the bound only tells a lost update from a CI machine running every suite's
/// processes at once (where 10 s ran out on a merge test).
private let updateDeadline: Duration = .seconds(30)

/// The updates of one open watch, read in order by the test that opened it.
private struct Updates {
    var iterator: AsyncThrowingStream<Update, any Error>.Iterator

    /// The next update; fails when the watch ended or its deadline passed first.
    mutating func next() async throws -> Update {
        guard let update = try await iterator.next() else {
            throw GatewayTestFailure(description: "the watch ended without another update")
        }
        return update
    }

    /// The first update `matches` accepts, skipping others (e.g. a health re-score success-service makes after a
    /// touchpoint); fails when the watch ended or its deadline passed first.
    mutating func first(where matches: (Update) -> Bool) async throws -> Update {
        while true {
            let update = try await next()
            if matches(update) { return update }
        }
    }
}

/// Opens `WatchCustomer360` for `customerID` with `metadata` under `deadline` (the readiness bound of every wait on
/// it), runs `body` with its updates as they arrive, then cancels the watch and waits until it ended.
private func withWatch<Result>(
    _ gateway: GatewayClient, _ customerID: String, metadata: Metadata, deadline: Duration = updateDeadline,
    _ body: (inout Updates) async throws -> Result
) async throws -> Result {
    let (stream, sink) = AsyncThrowingStream<Update, any Error>.makeStream()
    let call = Task {
        do {
            try await gateway.watchCustomer360(
                .with { $0.customerID = customerID }, metadata: metadata, options: .deadline(deadline)
            ) { response in
                for try await update in response.messages { sink.yield(update) }
            }
            sink.finish()
        } catch {
            sink.finish(throwing: error)
        }
    }
    var updates = Updates(iterator: stream.makeAsyncIterator())
    do {
        let result = try await body(&updates)
        call.cancel()
        _ = await call.result
        return result
    } catch {
        call.cancel()
        _ = await call.result
        throw error
    }
}

/// A touchpoint of `customerID` one minute ago: an inbound chat message with `body`, under a fresh event id.
private func chatMessage(_ customerID: String, body: String) -> Customer360_V1_RecordTouchpointRequest {
    .with {
        $0.customerID = customerID
        $0.touchpoint = .with {
            $0.eventID = "watch-\(UUID().uuidString.lowercased())"
            $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
            $0.channel = .chat
            $0.kind = .message
            $0.direction = .inbound
            $0.body = body
        }
    }
}

/// The gateway and profile-service alone, the other peers pointing where nothing listens: enough for the tests that
/// need a customer to exist but no other section, at less than half the processes of `withGatewayStack`.
private struct SmallStack {
    var profileProcess: ServiceProcess
    var gatewayProcess: ServiceProcess
    var gateway: GatewayClient
    var adminSecret: String
    var httpPort: Int
}

/// Starts profile-service and a gateway pointed at it (its other peers nowhere, so their feeds fail and are retried),
/// runs `body`, then stops both with SIGTERM.
private func withGatewayAndProfile(
    profileArguments: [String] = [], _ body: (SmallStack) async throws -> Void
) async throws {
    let nowhere = "127.0.0.1:1"
    let httpPortFile = FileManager.default.temporaryDirectory.appendingPathComponent("c360-watch-http-\(UUID()).port")
    defer { try? FileManager.default.removeItem(at: httpPortFile) }
    try await withService("profile-service", arguments: profileArguments) { profile, _ in
        let arguments = [
            "--profile-addr", "\(profile.address)", "--interaction-addr", nowhere, "--feedback-addr", nowhere,
            "--success-addr", nowhere, "--peer-deadline-ms", "\(peerDeadlineMs)",
            "--http-port", "0", "--http-port-file", httpPortFile.path,
        ]
        try await withService("gateway", arguments: arguments) { gatewayProcess, client in
            try await body(
                SmallStack(
                    profileProcess: profile, gatewayProcess: gatewayProcess, gateway: GatewayClient(wrapping: client),
                    adminSecret: try await bootstrapSecret(of: gatewayProcess),
                    httpPort: try await portInFile(httpPortFile, of: gatewayProcess)))
        }
    }
}

/// The time limit only catches a hang: each test starts a whole stack, and in CI every suite's processes start at once
/// on two cores (two of these tests once ran out of a 2-minute limit there, one of them behind a gateway that did not
/// exit).
@Suite("WatchCustomer360: the 360° view, then updates of the sections that changed", .timeLimit(.minutes(5)))
struct WatchCustomer360Tests {
    @Test("the first update is the whole view, as GetCustomer360 shows it: cause \"initial\", every section listed")
    func initialView() async throws {
        try await withGatewayStack { stack in
            // Given a customer with one touchpoint
            let admin = bearer(stack.adminSecret)
            let ada = try await stack.gateway.createCustomer(
                .with {
                    $0.givenName = "Ada"
                    $0.tags = ["vip"]
                }, metadata: admin
            ).customerID
            _ = try await stack.gateway.recordTouchpoint(chatMessage(ada, body: "hello"), metadata: admin)

            // When the customer is watched
            let first = try await withWatch(stack.gateway, ada, metadata: admin) { try await $0.next() }

            // Then the first update carries all of the view
            #expect(first.cause == "initial")
            #expect(first.sections == everySection)
            #expect(first.view.customerID == ada)
            #expect(first.view.profile.givenName == "Ada" && first.view.profile.tags == ["vip"])
            #expect(first.view.recentTimeline.map(\.body) == ["hello"])
            #expect(first.view.missingSections.isEmpty, "\(first.view.sectionStatuses)")
            #expect(Set(first.view.sectionStatuses.map(\.section)) == Set(everySection))
        }
    }

    @Test("a touchpoint recorded for the watched customer arrives within seconds, updating the interaction sections")
    func touchpointUpdate() async throws {
        try await withGatewayStack { stack in
            let admin = bearer(stack.adminSecret)
            let ada = try await stack.gateway.createCustomer(.with { $0.givenName = "Ada" }, metadata: admin).customerID
            let other = try await stack.gateway.createCustomer(.with { $0.givenName = "Bob" }, metadata: admin)
                .customerID
            try await withWatch(stack.gateway, ada, metadata: admin) { updates in
                // Given a watch that delivered its whole view (so every feed is at its head)
                _ = try await updates.next()

                // When a touchpoint is recorded for another customer, then one for the watched customer
                _ = try await stack.gateway.recordTouchpoint(chatMessage(other, body: "not Ada's"), metadata: admin)
                _ = try await stack.gateway.recordTouchpoint(
                    chatMessage(ada, body: "where is my order?"),
                    metadata: admin)

                // Then an update with the interaction sections carries Ada's touchpoint, and only hers
                let update = try await updates.first { interactionSections.isSubset(of: $0.sections) }
                #expect(update.view.recentTimeline.map(\.body) == ["where is my order?"])
                #expect(update.view.engagement.totalTouchpoints == 1)
                #expect(update.cause.hasPrefix("CHANGE_KIND_"), "cause \(update.cause)")
                // Services without a change are not asked again: their sections are neither listed nor filled.
                #expect(
                    !update.sections.contains("profile") && !update.sections.contains("feedback"),
                    "\(update.sections)")
                #expect(!update.view.hasProfile && update.view.customerID == ada)
                #expect(Set(update.view.sectionStatuses.map(\.section)) == Set(update.sections))
            }
        }
    }

    @Test("a burst of 100 touchpoints is coalesced into a few updates, the last of them showing all 100")
    func burstIsCoalesced() async throws {
        try await withGatewayStack { stack in
            let admin = bearer(stack.adminSecret)
            let ada = try await stack.gateway.createCustomer(.with { $0.givenName = "Ada" }, metadata: admin).customerID
            try await withWatch(stack.gateway, ada, metadata: admin) { updates in
                _ = try await updates.next()

                // When 100 touchpoints arrive in one client stream
                _ = try await stack.gateway.recordTouchpoints(metadata: admin) { writer in
                    for index in 0..<100 {
                        try await writer.write(
                            .with {
                                $0.customerID = ada
                                $0.touchpoint = chatMessage(ada, body: "message \(index)").touchpoint
                            })
                    }
                }

                // Then the interaction sections are updated a few times, not 100
                var interactionUpdates = 0
                _ = try await updates.first { update in
                    guard interactionSections.isSubset(of: update.sections) else { return false }
                    interactionUpdates += 1
                    return update.view.engagement.totalTouchpoints == 100
                }
                // 150 ms of coalescing: 100 ingests would need more than 3 s to make 20 updates.
                #expect(interactionUpdates <= 20, "\(interactionUpdates) updates for 100 touchpoints")
            }
        }
    }

    @Test("a viewer's watch is redacted like GetCustomer360: no names in the view, no message bodies in updates")
    func viewerIsRedacted() async throws {
        try await withGatewayStack { stack in
            let admin = bearer(stack.adminSecret)
            let viewer = bearer(
                try await stack.gateway.createApiKey(
                    .with {
                        $0.name = "watch viewer"
                        $0.role = .viewer
                    }, metadata: admin
                ).secret)
            let ada = try await stack.gateway.createCustomer(
                .with {
                    $0.givenName = "Ada"
                    $0.familyName = "Lovelace"
                }, metadata: admin
            ).customerID
            try await withWatch(stack.gateway, ada, metadata: viewer) { updates in
                let first = try await updates.next()
                #expect(first.view.personalDataRedacted)
                #expect(first.view.profile.givenName.isEmpty && first.view.profile.familyName.isEmpty)
                #expect(first.view.customerID == ada)

                _ = try await stack.gateway.recordTouchpoint(
                    chatMessage(ada, body: "my card is 4111…"),
                    metadata: admin)

                let update = try await updates.first { interactionSections.isSubset(of: $0.sections) }
                #expect(update.view.personalDataRedacted)
                #expect(update.view.recentTimeline.count == 1)
                #expect(update.view.recentTimeline.allSatisfy { $0.body.isEmpty })
            }
        }
    }

    @Test("a malformed id is INVALID_ARGUMENT naming customer_id; an unknown one is NOT_FOUND")
    func refusals() async throws {
        try await withGatewayAndProfile { stack in
            let admin = bearer(stack.adminSecret)
            do {
                try await withWatch(stack.gateway, "not-an-id", metadata: admin) { _ = try await $0.next() }
                Issue.record("a malformed id was watched")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument && error.message.contains("customer_id"), "\(error)")
            }
            await expectStatus(.notFound) {
                try await withWatch(stack.gateway, "01900000-0000-7000-8000-0000000000ff", metadata: admin) {
                    _ = try await $0.next()
                }
            }
        }
    }

    @Test("a customer merged away while watched: the survivor's whole view (cause CUSTOMER_MERGED), then its updates")
    func followsTheSurvivor() async throws {
        try await withGatewayStack { stack in
            let admin = bearer(stack.adminSecret)
            let merged = try await stack.gateway.createCustomer(.with { $0.givenName = "Ada" }, metadata: admin)
                .customerID
            let survivor = try await stack.gateway.createCustomer(.with { $0.givenName = "Ada L." }, metadata: admin)
                .customerID
            try await withConnectedClient(to: stack.profileProcess.address) { client in
                try await withWatch(stack.gateway, merged, metadata: admin) { updates in
                    _ = try await updates.next()

                    // When the watched customer is merged into another
                    _ = try await Customer360_V1_ProfileService.Client(wrapping: client).mergeCustomers(
                        .with {
                            $0.customerID = survivor
                            $0.mergedID = merged
                            $0.note = "same person"
                        })

                    // Then the whole view of the survivor follows
                    let moved = try await updates.first { $0.cause == "CHANGE_KIND_CUSTOMER_MERGED" }
                    #expect(moved.sections == everySection)
                    #expect(moved.view.customerID == survivor && moved.view.profile.givenName == "Ada L.")
                    #expect(moved.view.resolvedFrom == merged)

                    // And the watch goes on with the survivor's changes
                    _ = try await stack.gateway.recordTouchpoint(
                        chatMessage(survivor, body: "hi again"),
                        metadata: admin)
                    let update = try await updates.first { update in
                        interactionSections.isSubset(of: update.sections)
                            && update.view.recentTimeline.contains { $0.body == "hi again" }
                    }
                    #expect(update.view.customerID == survivor)
                }
            }
        }
    }

    @Test("a service that is down leaves its sections missing and does not stop the others' updates")
    func serviceDown() async throws {
        try await withGatewayStack { stack in
            let admin = bearer(stack.adminSecret)
            let ada = try await stack.gateway.createCustomer(.with { $0.givenName = "Ada" }, metadata: admin).customerID
            // Given feedback-service stopped
            #expect(try await stack.feedbackProcess.terminate() == .exited(0))

            try await withWatch(stack.gateway, ada, metadata: admin) { updates in
                // Then the whole view comes without feedback
                let first = try await updates.next()
                #expect(first.view.missingSections == ["feedback"], "\(first.view.sectionStatuses)")

                // And a touchpoint still arrives
                _ = try await stack.gateway.recordTouchpoint(chatMessage(ada, body: "still here"), metadata: admin)
                // (an earlier update of the interaction sections, such as the customer's creation reaching them, may
                // come first: the one that counts is the one with the touchpoint)
                let update = try await updates.first { update in
                    interactionSections.isSubset(of: update.sections) && !update.view.recentTimeline.isEmpty
                }
                #expect(update.view.recentTimeline.map(\.body) == ["still here"])
            }
        }
    }

    @Test("SIGTERM of the gateway ends an open watch with UNAVAILABLE, and the gateway exits 0")
    func drainEndsTheWatch() async throws {
        try await withGatewayAndProfile { stack in
            let admin = bearer(stack.adminSecret)
            let ada = try await stack.gateway.createCustomer(.with { $0.givenName = "Ada" }, metadata: admin).customerID
            let exit = Mutex<Task<ProcessExit, any Error>?>(nil)
            await expectStatus(.unavailable) {
                try await withWatch(stack.gateway, ada, metadata: admin) { updates in
                    _ = try await updates.next()
                    let gateway = stack.gatewayProcess
                    exit.withLock { $0 = Task { try await gateway.terminate(timeout: .seconds(5)) } }
                    while true { _ = try await updates.next() }
                }
            }
            let terminated = try #require(exit.withLock { $0 })
            #expect(try await terminated.value == .exited(0))
        }
    }

    @Test("a client that goes away closes the watch's change feeds on the services too")
    func clientGoneClosesFeeds() async throws {
        try await withGatewayAndProfile(profileArguments: ["--metrics-port", "0"]) { stack in
            let admin = bearer(stack.adminSecret)
            let metrics = try await metricsPort(of: stack.profileProcess)
            let ada = try await stack.gateway.createCustomer(.with { $0.givenName = "Ada" }, metadata: admin).customerID

            // Given a watch whose feed on profile-service is open (a stream is counted once it ended)
            try await withWatch(stack.gateway, ada, metadata: admin) { updates in
                _ = try await updates.next()
                #expect(try await watchChangesEnded(metrics) == 0)
            }

            // When its client went away (withWatch cancelled it), then profile-service sees the feed end. Nothing
            // announces that to a third party, so its metrics are read until they say so.
            let deadline = ContinuousClock.now + updateDeadline
            while try await watchChangesEnded(metrics) == 0 {
                guard ContinuousClock.now < deadline else {
                    Issue.record("the feed on profile-service stayed open after the client went away")
                    return
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    @Test("over HTTP, both the full and the short route stream NDJSON whose first line is the whole view")
    func overHTTP() async throws {
        try await withGatewayAndProfile { stack in
            let admin = bearer(stack.adminSecret)
            let ada = try await stack.gateway.createCustomer(.with { $0.givenName = "Ada" }, metadata: admin).customerID
            for route in ["customer360.v1.GatewayService/WatchCustomer360", "WatchCustomer360"] {
                let (status, contentType, line) = try await firstLine(
                    port: stack.httpPort, route: route, key: stack.adminSecret, body: #"{"customerId": "\#(ada)"}"#)
                #expect(status == 200 && contentType.hasPrefix("application/x-ndjson"), "\(route): \(status) \(line)")
                let update = try Update(jsonString: line)
                #expect(update.cause == "initial" && update.view.customerID == ada, "\(route)")
            }
            let (status, _, body) = try await firstLine(
                port: stack.httpPort, route: "WatchCustomer360", key: stack.adminSecret,
                body: #"{"customerId": "nope"}"#)
            #expect(status == 400 && body.contains("INVALID_ARGUMENT"), "\(body)")
        }
    }
}

// MARK: - Metrics and HTTP

/// The port of a process's metrics endpoint, from its "metrics listening" log line, read until it appears.
private func metricsPort(of process: ServiceProcess) async throws -> Int {
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline {
        for line in process.logText().split(separator: "\n") where line.contains("metrics listening") {
            if let range = line.range(of: #"127\.0\.0\.1:(\d+)/metrics"#, options: .regularExpression),
                let port = Int(line[range].dropFirst("127.0.0.1:".count).prefix { $0.isNumber })
            {
                return port
            }
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw GatewayTestFailure(description: "no 'metrics listening' line in 10 s; log tail:\n\(process.logTail())")
}

/// How many `WatchChanges` streams profile-service has finished, whatever their status.
private func watchChangesEnded(_ port: Int) async throws -> Double {
    let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
    return String(decoding: data, as: UTF8.self).split(separator: "\n")
        .filter { $0.hasPrefix("grpc_server_requests_total{") && $0.contains("ProfileService/WatchChanges") }
        .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
        .reduce(0, +)
}

/// POSTs `body` to `/api/v1/<route>` and answers the status, content type and the first line of the body (or the
/// whole body when it has none), then closes the connection.
private func firstLine(port: Int, route: String, key: String, body: String) async throws -> FirstLineReader.Answer {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/\(route)")!)
    request.httpMethod = "POST"
    request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
    request.httpBody = Data(body.utf8)
    request.timeoutInterval = 10
    let reader = FirstLineReader()
    let session = URLSession(configuration: .ephemeral, delegate: reader, delegateQueue: nil)
    defer { session.invalidateAndCancel() }
    return try await withCheckedThrowingContinuation { continuation in
        reader.start(continuation)
        session.dataTask(with: request).resume()
    }
}

/// Reads a streamed response up to its first newline.
private final class FirstLineReader: NSObject, URLSessionDataDelegate, Sendable {
    typealias Answer = (status: Int, contentType: String, line: String)

    private struct State {
        var continuation: CheckedContinuation<Answer, any Error>?
        var status = 0
        var contentType = ""
        var received = Data()
    }

    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<Answer, any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        let http = response as? HTTPURLResponse
        state.withLock { state in
            state.status = http?.statusCode ?? 0
            state.contentType = http?.value(forHTTPHeaderField: "Content-Type") ?? ""
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let done = state.withLock { state -> (CheckedContinuation<Answer, any Error>, Answer)? in
            state.received.append(data)
            guard let newline = state.received.firstIndex(of: UInt8(ascii: "\n")),
                let continuation = state.continuation
            else { return nil }
            state.continuation = nil
            let line = String(decoding: state.received[..<newline], as: UTF8.self)
            return (continuation, (state.status, state.contentType, line))
        }
        if let (continuation, answer) = done {
            continuation.resume(returning: answer)
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let pending = state.withLock { state in
            defer { state.continuation = nil }
            let body = String(decoding: state.received, as: UTF8.self)
            return state.continuation.map { ($0, (status: state.status, contentType: state.contentType, line: body)) }
        }
        guard let (continuation, answer) = pending else { return }
        if let error, answer.line.isEmpty {
            continuation.resume(throwing: error)
        } else {
            continuation.resume(returning: answer)
        }
    }
}
