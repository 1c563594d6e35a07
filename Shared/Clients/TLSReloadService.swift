public import Logging
public import ServiceLifecycle
import UnixSignals

/// Keeps a process's TLS certificate and key current while it runs: re-reads both files every
/// `TLSIdentity.refreshInterval` and at once on SIGHUP, so an operator who renewed a certificate can make the process
/// use it without a restart. Connections already open keep the certificate they were made with; new ones get the
/// renewed one. A pair that fails to load (a half-written file, a key that does not match) is logged and the last good
/// pair stays in use.
public struct TLSReloadService: Service {
    public let identity: TLSIdentity
    public let logger: Logger

    public init(identity: TLSIdentity, logger: Logger) {
        self.identity = identity
        self.logger = logger
    }

    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await identity.reloader.run() }
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
                    do {
                        try identity.reloader.reload()
                        logger.notice(
                            "TLS certificate and key reloaded on SIGHUP",
                            metadata: [
                                "certificate": "\(identity.certificatePath)"
                            ])
                    } catch {
                        logger.error(
                            "TLS certificate and key could not be reloaded; the previous ones stay in use",
                            metadata: ["certificate": "\(identity.certificatePath)", "error": "\(error)"])
                    }
                }
            }
        }
    }
}
