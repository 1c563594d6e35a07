public import ArgumentParser
import C360Clients
import C360Contracts
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// `<service> health`: asks a running service over its own gRPC port whether it is SERVING (`grpc.health.v1`), the
/// way a load balancer would — with TLS too, which Kubernetes' built-in gRPC probe cannot speak, so the manifests'
/// TLS variant probes with this instead. Exit 0 when SERVING, 1 otherwise.
public struct HealthCommand<Store: ServiceStore>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "health",
            abstract: "Check that the running \(Store.identity.name) is SERVING (exit 0) or not (exit 1).",
            discussion: """
                Calls grpc.health.v1.Health/Check on --addr. With TLS the check presents this process's own \
                certificate (C360_\(Store.identity.environmentKey)_TLS_CERT, _TLS_KEY and _TLS_CA, or the flags): \
                health needs no place on any allow-list, only a certificate the CA signed.
                """)
    }

    @Option(help: "Address of the running service. (default: 127.0.0.1:\(Store.identity.defaultPort))")
    var addr: String?

    @Option(help: "The service to ask about, e.g. customer360.v1.ProfileService. (default: \"\", the whole server)")
    var service = ""

    @Option(help: "Seconds to wait for the answer.")
    var timeout = 5

    @OptionGroup var tls: TLSOptions

    public init() {}

    public func run() async throws {
        let identity = Store.identity
        let environment = EnvironmentReader(service: identity, environment: ProcessInfo.processInfo.environment)
        let text = addr ?? "127.0.0.1:\(identity.defaultPort)"
        guard let address = PeerAddress(text) else { throw ValidationError("--addr must be host:port, not '\(text)'") }
        let security = try tls.identity(environment: environment)?.clientSecurity() ?? .plaintext
        let status: Grpc_Health_V1_HealthCheckResponse.ServingStatus
        do {
            status = try await withGRPCClient(
                transport: .http2NIOPosix(target: address.target, transportSecurity: security)
            ) { client in
                try await Grpc_Health_V1_Health.Client(wrapping: client).check(
                    .with { $0.service = service }, options: .deadline(.seconds(timeout))
                ).status
            }
        } catch {
            print("\(identity.name) at \(address): no answer (\(error))")
            throw ExitCode(1)
        }
        print("\(identity.name) at \(address): \(status)")
        guard status == .serving else { throw ExitCode(1) }
    }
}
