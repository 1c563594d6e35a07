import C360Clients
import C360Profile
import C360ServerKit
import C360TestSupport
import Foundation
import Testing

@Suite("profile-service assembled in-process by its builder")
struct ProfileAssemblyTests {
    @Test(
        "the builder's group serves customer360.v1.ProfileService over TCP with its database in the data directory, before any peer answers, and stops on a graceful shutdown"
    )
    func builderServes() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let configuration = ProfileServiceConfiguration(
                server: InProcessServiceGroup.serverConfiguration(in: directory),
                interactionAddress: try #require(PeerAddress("127.0.0.1:1")))
            let group = try makeProfileServiceGroup(configuration)
            try await InProcessServiceGroup.run(group, in: directory) { _, client in
                try await waitUntilServing(
                    client, service: "customer360.v1.ProfileService", timeout: InProcessServiceGroup.firstAnswerTimeout)
            }
            #expect(
                FileManager.default.fileExists(atPath: directory.appendingPathComponent("data/profile.sqlite").path))
        }
    }
}
