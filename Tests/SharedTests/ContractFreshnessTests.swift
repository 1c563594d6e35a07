import C360TestSupport
import Foundation
import Testing

@Suite("Generated contracts")
struct ContractFreshnessTests {
    @Test("the committed Swift in Shared/Contracts/Generated was generated from the Proto/ that is committed")
    func generatedCodeMatchesProto() async throws {
        let script = try ServiceBinaries.packageRoot().appendingPathComponent("scripts/generate-contracts.sh")
        let run = try await ChildProcess.run(URL(fileURLWithPath: "/bin/bash"), [script.path, "--check"])
        #expect(run.exit.isSuccess, "\(run.output)")
    }
}
