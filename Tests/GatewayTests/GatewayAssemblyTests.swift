import C360Clients
import C360Gateway
import C360ServerKit
import C360TestSupport
import Foundation
import Testing

@Suite("gateway assembled in-process by its builder")
struct GatewayAssemblyTests {
    @Test(
        "the builder's group serves customer360.v1.GatewayService over TCP with its database in the data directory, before any peer answers, and stops on a graceful shutdown"
    )
    func builderServes() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let unreachable = try #require(PeerAddress("127.0.0.1:1"))
            let configuration = GatewayConfiguration(
                server: InProcessServiceGroup.serverConfiguration(in: directory), profileAddress: unreachable,
                interactionAddress: unreachable, feedbackAddress: unreachable, successAddress: unreachable,
                outreachAddress: unreachable, httpPort: 0)
            let group = try await makeGatewayServiceGroup(configuration)
            try await InProcessServiceGroup.run(group, in: directory) { _, client in
                try await waitUntilServing(
                    client, service: "customer360.v1.GatewayService", timeout: InProcessServiceGroup.firstAnswerTimeout)
            }
            #expect(
                FileManager.default.fileExists(atPath: directory.appendingPathComponent("data/gateway.sqlite").path))
        }
    }
}
