import C360Clients
import C360Interaction
import C360ServerKit
import C360TestSupport
import Foundation
import Testing

@Suite("interaction-service assembled in-process by its builder")
struct InteractionAssemblyTests {
    @Test(
        "the builder's group serves customer360.v1.InteractionService over TCP with its database in the data directory, before any peer answers, and stops on a graceful shutdown"
    )
    func builderServes() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let configuration = InteractionServiceConfiguration(
                server: InProcessServiceGroup.serverConfiguration(in: directory),
                profileAddress: try #require(PeerAddress("127.0.0.1:1")), currency: "EUR")
            let group = try makeInteractionServiceGroup(configuration)
            try await InProcessServiceGroup.run(group, in: directory) { _, client in
                try await waitUntilServing(
                    client, service: "customer360.v1.InteractionService",
                    timeout: InProcessServiceGroup.firstAnswerTimeout)
            }
            #expect(
                FileManager.default.fileExists(atPath: directory.appendingPathComponent("data/interaction.sqlite").path)
            )
        }
    }
}
