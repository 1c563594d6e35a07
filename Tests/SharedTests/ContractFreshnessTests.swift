import C360TestSupport
import Foundation
import Testing

@Suite("Generated contracts")
struct ContractFreshnessTests {
    @Test("the committed Swift in Shared/Contracts/Generated was generated from the Proto/ that is committed")
    func generatedCodeMatchesProto() throws {
        let root = try ServiceBinaries.packageRoot()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root.appendingPathComponent("scripts/generate-contracts.sh").path, "--check"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(text)")
    }
}
