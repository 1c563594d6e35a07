import ArgumentParser
import C360Clients
import C360Contracts
import C360ServerKit
import GRPCCore
import GRPCNIOTransportHTTP2

/// `demo-data`: fills running Customer 360 services with a reproducible demo data set, through their public gRPC
/// APIs (never their databases). Skips a service that already holds data unless `--force` is given.
@main
struct DemoDataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-data",
        abstract: "Load a reproducible demo data set into running Customer 360 services over gRPC.",
        discussion: """
            Creates customers in English and Persian with identifiers, consents, tags, attributes and loyalty \
            points, and merges a few duplicates. The same --seed always produces the same data. A service that \
            already holds customers is left alone unless --force is given.
            """,
        version: C360Version.current
    )

    @Option(help: "profile-service address.")
    var profileAddr: String = "127.0.0.1:50051"

    @Option(help: "How many customers to create.")
    var customers: Int = 200

    @Option(help: "Seed of the generator; the same seed gives the same data.")
    var seed: UInt64 = 360

    @Flag(help: "Load even when the service already holds customers.")
    var force = false

    func validate() throws {
        guard PeerAddress(profileAddr) != nil else { throw ValidationError("--profile-addr must be host:port") }
        guard (1...100_000).contains(customers) else { throw ValidationError("--customers must be 1...100000") }
    }

    func run() async throws {
        let address = PeerAddress(profileAddr)!
        try await withGRPCClient(transport: try .http2NIOPosix(
            target: .dns(host: address.host, port: address.port), transportSecurity: .plaintext
        )) { client in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
            let existing = try await profiles.listCustomers(.with { $0.page.pageSize = 1 },
                                                            options: .deadline(.seconds(10)))
            if !existing.customers.isEmpty, !force {
                print("profile-service at \(address) already holds customers; skipping (use --force to load anyway)")
                return
            }
            var loader = ProfileDemoLoader(profiles: profiles, generator: DemoGenerator(seed: seed))
            try await loader.load(customers: customers)
        }
    }
}
