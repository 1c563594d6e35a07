import C360Clients
import C360ServerKit
import C360Success
import C360TestSupport
import Foundation
import Testing

@Suite("success-service assembled in-process by its builder")
struct SuccessAssemblyTests {
    @Test(
        "the builder's group serves customer360.v1.SuccessService over TCP with its database in the data directory, before any peer answers, and stops on a graceful shutdown"
    )
    func builderServes() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let unreachable = try #require(PeerAddress("127.0.0.1:1"))
            let configuration = SuccessServiceConfiguration(
                server: InProcessServiceGroup.serverConfiguration(in: directory), profileAddress: unreachable,
                interactionAddress: unreachable, feedbackAddress: unreachable, sweepInterval: nil)
            let group = try await makeSuccessServiceGroup(configuration)
            try await InProcessServiceGroup.run(group, in: directory) { _, client in
                try await waitUntilServing(
                    client, service: "customer360.v1.SuccessService", timeout: InProcessServiceGroup.firstAnswerTimeout)
            }
            #expect(
                FileManager.default.fileExists(atPath: directory.appendingPathComponent("data/success.sqlite").path))
        }
    }
}
