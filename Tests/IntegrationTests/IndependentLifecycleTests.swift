import C360Clients
import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import SwiftProtobuf
import Synchronization
import Testing

/// Which sections of the 360° view each service fills.
private let sectionsOf: [String: Set<String>] = [
    "profile-service": ["profile", "consents"],
    "interaction-service": ["engagement", "commerce", "support", "timeline"],
    "feedback-service": ["feedback"],
    "success-service": ["success_plans", "health", "alerts"],
]

/// What the light load saw: views answered (complete or partial) and calls that failed outright.
private final class LoadTally: Sendable {
    private let state = Mutex((answered: 0, failures: [String]()))

    func recordAnswer() { state.withLock { $0.answered += 1 } }
    func recordFailure(_ error: any Error) { state.withLock { $0.failures.append("\(error)") } }
    var answered: Int { state.withLock { $0.answered } }
    var failures: [String] { state.withLock { $0.failures } }
}

@Suite("Independent lifecycle", .serialized)
struct IndependentLifecycleTests {
    @Test(
        "each service stops and restarts under light load: the view goes partial, then whole again, with no caller restarted",
        .timeLimit(.minutes(5)))
    func restartEachServiceInTurn() async throws {
        try await withGatewayStack { stack in
            let admin = bearer(stack.adminSecret)
            let gateway = stack.gateway
            let ada = try await gateway.createCustomer(.with { $0.givenName = "Ada" }, metadata: admin).customerID
            _ = try await gateway.recordTouchpoint(touchpoint("lifecycle-1", for: ada), metadata: admin)
            try await waitForView(gateway, ada, admin, "the first whole view") { $0.missingSections.isEmpty }

            // Light load: one view every 25 ms for the whole test; every call must answer, whole or partial.
            let tally = LoadTally()
            let load = Task {
                while !Task.isCancelled {
                    do {
                        _ = try await gateway.getCustomer360(
                            .with { $0.customerID = ada }, metadata: admin,
                            options: .deadline(.seconds(10)))
                        tally.recordAnswer()
                    } catch {
                        tally.recordFailure(error)
                    }
                    try? await Task.sleep(for: .milliseconds(25))
                }
            }
            defer { load.cancel() }

            let processes = [
                (
                    "interaction-service", stack.interactionProcess,
                    ["--profile-addr", "\(stack.profileProcess.address)"]
                ),
                ("feedback-service", stack.feedbackProcess, ["--profile-addr", "\(stack.profileProcess.address)"]),
                (
                    "success-service", stack.successProcess,
                    [
                        "--profile-addr", "\(stack.profileProcess.address)",
                        "--interaction-addr", "\(stack.interactionProcess.address)",
                        "--feedback-addr", "\(stack.feedbackProcess.address)",
                    ]
                ),
                ("profile-service", stack.profileProcess, []),
            ]
            var restarted: [ServiceProcess] = []
            do {
                try await restartInTurn(processes, restarted: &restarted, gateway: gateway, ada: ada, admin: admin)
                try await checkAfterRestarts(
                    stack, restarted: &restarted, load: load, tally: tally, ada: ada, admin: admin)
            } catch {
                await stop(restarted)
                throw error
            }
            // The restarted processes use the first ones' data directories, which the stack removes afterwards.
            for process in restarted {
                #expect(try await process.terminate() == .exited(0), "\(process.executable) did not stop cleanly")
                await process.cleanup()
            }
        }
    }

    private func restartInTurn(
        _ processes: [(String, ServiceProcess, [String])], restarted: inout [ServiceProcess], gateway: GatewayClient,
        ada: String, admin: Metadata
    ) async throws {
        for (name, process, arguments) in processes {
            let sections = try #require(sectionsOf[name])
            #expect(try await process.terminate() == .exited(0), "\(name) did not stop cleanly")
            try await waitForView(gateway, ada, admin, "\(name)'s sections missing while it is down") {
                sections.isSubset(of: Set($0.missingSections))
            }
            // The same binary again, on its port and its data: nobody else is told anything. While it was down, the
            // port may have been handed to a connection another test opened (the kernel picks outgoing ports from the
            // same range): the restart is tried again while that connection may close.
            var again: ServiceProcess?
            for attempt in 1...10 where again == nil {
                do {
                    again = try await ServiceProcess.start(
                        name, arguments: arguments + ["--port", "\(process.port)"], dataDirectory: process.dataDirectory
                    )
                } catch ServiceProcessError.exitedBeforeListening where attempt < 10 {
                    try await Task.sleep(for: .seconds(1))
                }
            }
            restarted.append(try #require(again))
            try await waitForView(gateway, ada, admin, "a whole view after \(name) came back", timeout: .seconds(30)) {
                $0.missingSections.isEmpty
            }
        }
    }

    private func checkAfterRestarts(
        _ stack: GatewayStack, restarted: inout [ServiceProcess], load: Task<Void, Never>, tally: LoadTally,
        ada: String, admin: Metadata
    ) async throws {
        let gateway = stack.gateway
        // interaction-service reconnects to the restarted profile-service by itself: a customer it has never seen
        // (so not in its cache) is checked with profile-service when a touchpoint arrives. Until its connection's
        // backoff brings it back the answer is UNAVAILABLE, which is what a caller should retry on.
        let grace = try await gateway.createCustomer(.with { $0.givenName = "Grace" }, metadata: admin).customerID
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                let recorded = try await gateway.recordTouchpoint(
                    touchpoint("lifecycle-2", for: grace), metadata: admin)
                #expect(recorded.touchpoint.customerID == grace)
                break
            } catch let error as RPCError where error.code == .unavailable && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
        }

        load.cancel()
        #expect(tally.failures.isEmpty, "calls failed while services restarted: \(tally.failures.prefix(5))")
        // That the load kept being answered, not how fast: in the full suite on two cores it answered as few as 20
        // views (each waiting out the peer deadline of a service that was down), against hundreds alone.
        #expect(tally.answered > 5, "the load answered only \(tally.answered) views")

        // The gateway itself: the test's client (not restarted) reconnects once it is back on its port.
        let gatewayProcess = stack.gatewayProcess
        #expect(try await gatewayProcess.terminate() == .exited(0))
        let gatewayAgain = try await ServiceProcess.start(
            "gateway",
            arguments: [
                "--profile-addr", "\(stack.profileProcess.address)",
                "--interaction-addr", "\(stack.interactionProcess.address)",
                "--feedback-addr", "\(stack.feedbackProcess.address)",
                "--success-addr", "\(stack.successProcess.address)",
                "--peer-deadline-ms", "\(peerDeadlineMs)", "--http-port", "0",
                "--port", "\(gatewayProcess.port)",
            ], dataDirectory: gatewayProcess.dataDirectory)
        restarted.append(gatewayAgain)
        try await waitForView(gateway, ada, admin, "a whole view through the restarted gateway", timeout: .seconds(30))
        {
            $0.missingSections.isEmpty
        }
    }
}

private func stop(_ processes: [ServiceProcess]) async {
    for process in processes {
        _ = try? await process.terminate()
        await process.cleanup()
    }
}

private func touchpoint(_ eventID: String, for customer: String) -> Customer360_V1_RecordTouchpointRequest {
    .with {
        $0.customerID = customer
        $0.touchpoint = .with {
            $0.eventID = eventID
            $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
            $0.channel = .web
            $0.kind = .pageView
            $0.direction = .inbound
        }
    }
}

/// Polls the view of `customer` until `condition` holds; errors count as "not yet" (the gateway may be down).
private func waitForView(
    _ gateway: GatewayClient, _ customer: String, _ metadata: Metadata, _ what: String,
    timeout: Duration = .seconds(15), _ condition: (Customer360_V1_Customer360View) -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    var last = "no answer yet"
    while ContinuousClock.now < deadline {
        do {
            let view = try await gateway.getCustomer360(
                .with { $0.customerID = customer }, metadata: metadata,
                options: .deadline(.seconds(5)))
            if condition(view) { return }
            last = "missing sections \(view.missingSections)"
        } catch {
            last = "\(error)"
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw GatewayTestFailure(description: "waited \(timeout) for \(what); last: \(last)")
}
