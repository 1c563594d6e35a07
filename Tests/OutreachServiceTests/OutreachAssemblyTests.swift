import C360Clients
import C360Outreach
import C360ServerKit
import C360TestSupport
import Foundation
import Testing

@Suite("outreach-service assembled in-process by its builder")
struct OutreachAssemblyTests {
    @Test(
        "the builder's group serves customer360.v1.OutreachService over TCP with its database in the data directory, before any peer answers, and stops on a graceful shutdown"
    )
    func builderServes() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let unreachable = try #require(PeerAddress("127.0.0.1:1"))
            let configuration = OutreachServiceConfiguration(
                server: InProcessServiceGroup.serverConfiguration(in: directory), profileAddress: unreachable,
                interactionAddress: unreachable, feedbackAddress: unreachable, successAddress: unreachable)
            let group = try makeOutreachServiceGroup(configuration)
            try await InProcessServiceGroup.run(group, in: directory) { _, client in
                try await waitUntilServing(
                    client, service: "customer360.v1.OutreachService", timeout: InProcessServiceGroup.firstAnswerTimeout
                )
            }
            #expect(
                FileManager.default.fileExists(atPath: directory.appendingPathComponent("data/outreach.sqlite").path))
        }
    }
}
