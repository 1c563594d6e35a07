import C360Clients
import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

@Suite("interaction-service and profile-service executables together over TCP")
struct InteractionServiceProcessTests {
    @Test(
        "events are checked against the real profile-service, merged ids land on the survivor, and a kill -9 keeps them"
    )
    func endToEnd() async throws {
        try await withService("profile-service") { profileProcess, profileClient in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: profileClient)
            let ada = try await profiles.createCustomer(.with { $0.givenName = "Ada" }).customerID
            let duplicate = try await profiles.createCustomer(.with { $0.givenName = "Ada (old account)" }).customerID
            _ = try await profiles.mergeCustomers(
                .with {
                    $0.customerID = ada
                    $0.mergedID = duplicate
                })
            let unknown = "01900000-0000-7000-8000-0000000000ff"
            let profileAddress = "\(profileProcess.address)"

            let first = try await ServiceProcess.start(
                "interaction-service", arguments: ["--profile-addr", profileAddress])
            let response = try await withConnectedClient(to: first.address) { client in
                try await waitUntilServing(client, process: first)
                let interactions = Customer360_V1_InteractionService.Client(wrapping: client)
                return try await interactions.recordTouchpoints { writer in
                    for (index, customer) in [ada, duplicate, unknown, ada].enumerated() {
                        try await writer.write(
                            .with {
                                $0.customerID = customer
                                $0.touchpoint = .with {
                                    $0.eventID = "it-\(index)"
                                    $0.occurredAt = Google_Protobuf_Timestamp(
                                        date: Date().addingTimeInterval(-Double(index) * 60))
                                    $0.channel = .app
                                    $0.kind = .login
                                    $0.direction = .inbound
                                }
                            })
                    }
                }
            }
            #expect(response.stored == 3 && response.rejected == 1)
            #expect(response.rejections.first?.code == "FAILED_PRECONDITION")
            #expect(try await first.kill() == .signaled(SIGKILL))

            try await withService(
                "interaction-service", arguments: ["--profile-addr", profileAddress],
                dataDirectory: first.dataDirectory
            ) { _, client in
                let interactions = Customer360_V1_InteractionService.Client(wrapping: client)
                let timeline = try await interactions.listTimeline(.with { $0.customerID = ada })
                #expect(timeline.touchpoints.map(\.eventID) == ["it-0", "it-1", "it-3"])
                #expect(timeline.touchpoints.allSatisfy { $0.customerID == ada })
                let engagement = try await interactions.getEngagementStats(.with { $0.customerID = duplicate })
                #expect(engagement.customerID == ada && engagement.totalTouchpoints == 3)
            }
            await first.cleanup()
        }
    }

    @Test(
        "a touchpoint for a merged-away id is stored under the survivor, though that id was written to just before the merge"
    )
    func unaryWriteAfterMerge() async throws {
        try await withMergeAfterFirstWrite { interactions, survivor, merged in
            let response = try await interactions.recordTouchpoint(
                .with {
                    $0.customerID = merged
                    $0.touchpoint = Self.login("after-merge")
                })
            #expect(response.touchpoint.customerID == survivor)
        }
    }

    @Test("a streamed batch after a merge stores the merged-away id's events under the survivor")
    func streamedWriteAfterMerge() async throws {
        try await withMergeAfterFirstWrite { interactions, survivor, merged in
            let response = try await interactions.recordTouchpoints { writer in
                try await writer.write(
                    .with {
                        $0.customerID = merged
                        $0.touchpoint = Self.login("streamed-after-merge")
                    })
            }
            #expect(response.stored == 1)
            // The merge carries the earlier touchpoint over too, once interaction-service has applied it.
            try await interactions.waitForRekey(of: merged)
            let timeline = try await interactions.listTimeline(.with { $0.customerID = survivor })
            #expect(timeline.touchpoints.map(\.eventID) == ["streamed-after-merge", "before-merge"])
            #expect(timeline.touchpoints.allSatisfy { $0.customerID == survivor })
        }
    }

    /// A login touchpoint a minute old.
    static func login(_ eventID: String) -> Customer360_V1_Touchpoint {
        .with {
            $0.eventID = eventID
            $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
            $0.channel = .web
            $0.kind = .login
            $0.direction = .inbound
        }
    }

    /// Given two customers, a touchpoint for the second (so interaction-service has seen it as a live customer), and
    /// then the second merged into the first, runs `body` with (interaction client, survivor, merged-away id).
    func withMergeAfterFirstWrite(
        _ body: (Customer360_V1_InteractionService.Client<HTTP2ClientTransport.Posix>, String, String) async throws ->
            Void
    ) async throws {
        try await withService("profile-service") { profileProcess, profileClient in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: profileClient)
            let survivor = try await profiles.createCustomer(.with { $0.givenName = "Survivor" }).customerID
            let merged = try await profiles.createCustomer(.with { $0.givenName = "Duplicate" }).customerID
            try await withService("interaction-service", arguments: ["--profile-addr", "\(profileProcess.address)"]) {
                _, client in
                let interactions = Customer360_V1_InteractionService.Client(wrapping: client)
                let before = try await interactions.recordTouchpoint(
                    .with {
                        $0.customerID = merged
                        $0.touchpoint = Self.login("before-merge")
                    })
                #expect(before.touchpoint.customerID == merged)
                _ = try await profiles.mergeCustomers(
                    .with {
                        $0.customerID = survivor
                        $0.mergedID = merged
                    })
                try await body(interactions, survivor, merged)
            }
        }
    }

    @Test("with profile-service down, ingest answers UNAVAILABLE and reads still work")
    func peerDown() async throws {
        // A port nothing listens on: the profile peer is simply absent.
        try await withService("interaction-service", arguments: ["--profile-addr", "127.0.0.1:9"]) { _, client in
            let interactions = Customer360_V1_InteractionService.Client(wrapping: client)
            let error = await #expect(throws: RPCError.self) {
                _ = try await interactions.recordTouchpoint(
                    .with {
                        $0.customerID = "01900000-0000-7000-8000-00000000000a"
                        $0.touchpoint = .with {
                            $0.eventID = "down-1"
                            $0.occurredAt = Google_Protobuf_Timestamp(date: Date())
                            $0.channel = .web
                            $0.kind = .pageView
                            $0.direction = .inbound
                        }
                    })
            }
            #expect(error?.code == .unavailable)
            let timeline = try await interactions.listTimeline(
                .with { $0.customerID = "01900000-0000-7000-8000-00000000000a" })
            #expect(timeline.touchpoints.isEmpty)
        }
    }
}
