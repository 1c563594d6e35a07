import C360TestSupport
import Foundation
import Testing

/// A first `<service> reshard` run, slow (two customers a page, 150 ms apart), killed with SIGKILL once it has copied
/// `copied` customers and before it finished: what the resharding tests resume from. Answers the command to run
/// again, which resumes from the state file the killed run left.
func killMoverMidCopy(
    _ service: String, mapFile: URL, slots: String, to target: String, copied: Int, directory: URL
) async throws -> (binary: URL, arguments: [String]) {
    let binary = try ServiceBinaries.url(of: service)
    let arguments = ["reshard", "--map", mapFile.path, "--slots", slots, "--to", target, "--batch", "2"]
    let first = try KillableProcess(
        executable: binary, arguments: arguments + ["--pause-ms", "150"],
        outputFile: directory.appendingPathComponent("mover-1.log"))
    let progress = "copy: \(copied) customers"
    let killedMidCopy = try await eventually(timeout: .seconds(60)) {
        first.output.contains(progress) || !first.isRunning
    }
    await first.kill()
    #expect(killedMidCopy && first.output.contains(progress), "\(first.output)")
    #expect(!first.output.contains("done:"), "killed before it finished: \(first.output)")
    return (binary, arguments)
}
