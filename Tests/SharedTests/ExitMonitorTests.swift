import Foundation
import Testing

@testable import C360TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Spawns `/bin/sh -c script` with `posix_spawn`, so that nothing but the test reaps it.
private func spawnShell(_ script: String) throws -> pid_t {
    var pid = pid_t()
    let words: [String] = ["/bin/sh", "-c", script]
    let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
    defer { for argument in arguments { free(argument) } }
    let status = posix_spawn(&pid, "/bin/sh", nil, nil, arguments, environ)
    guard status == 0 else { throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EINVAL) }
    return pid
}

@Suite("Exit monitor of the test harness")
struct ExitMonitorTests {
    #if os(Linux)
        @Test(
            "a child's exit is read from the kernel even when no termination handler reports it, and left to be reaped",
            arguments: [("exit 3", ProcessExit.exited(3)), ("kill -9 $$", ProcessExit.signaled(9))])
        func readsExitWithoutReaping(script: String, expected: ProcessExit) async throws {
            let pid = try spawnShell(script)
            let monitor = ExitMonitor()
            monitor.watch(pid: pid)
            #expect(try await monitor.waitForExit(timeout: .seconds(30)) == expected)
            // Still a zombie for its owner to reap: the monitor only looked.
            var status: Int32 = 0
            #expect(waitpid(pid, &status, 0) == pid)
        }
    #endif

    @Test("the first report wins: a late termination handler does not overwrite what the kernel said")
    func firstReportWins() {
        let monitor = ExitMonitor()
        monitor.record(.exited(0))
        monitor.record(.signaled(9))
        #expect(monitor.outcome == .exited(0))
    }
}
