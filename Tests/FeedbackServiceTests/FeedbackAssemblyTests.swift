import C360Clients
import C360Feedback
import C360ServerKit
import C360TestSupport
import Foundation
import Testing

@Suite("feedback-service assembled in-process by its builder")
struct FeedbackAssemblyTests {
    @Test(
        "the builder's group serves customer360.v1.FeedbackService over TCP with its database in the data directory, before any peer answers, and stops on a graceful shutdown"
    )
    func builderServes() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let configuration = FeedbackServiceConfiguration(
                server: InProcessServiceGroup.serverConfiguration(in: directory),
                profileAddress: try #require(PeerAddress("127.0.0.1:1")), sentimentThreshold: 0.1)
            let group = try makeFeedbackServiceGroup(configuration)
            try await InProcessServiceGroup.run(group, in: directory) { _, client in
                try await waitUntilServing(
                    client, service: "customer360.v1.FeedbackService", timeout: InProcessServiceGroup.firstAnswerTimeout
                )
            }
            #expect(
                FileManager.default.fileExists(atPath: directory.appendingPathComponent("data/feedback.sqlite").path))
        }
    }
}
