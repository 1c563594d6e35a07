import ArgumentParser
import C360Clients
import C360Contracts
import C360ServerKit
import Foundation
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
            points, and merges a few duplicates; gives them touchpoints, purchases and support tickets; and has \
            them answer NPS, CSAT and CES surveys, vote for feature requests and, for a few, say why they left; \
            gives about 30 % of them a success plan with goals, progress and milestones, then recomputes every \
            customer's health score in a batch and shows those most at risk. The same --seed always produces the \
            same data. A service that already holds data is left alone unless --force is given.
            """,
        version: C360Version.current
    )

    @Option(help: "profile-service address.")
    var profileAddr: String = ServiceIdentity.profile.defaultAddress

    @Option(help: "interaction-service address; \"\" skips touchpoints, purchases and tickets.")
    var interactionAddr: String = ServiceIdentity.interaction.defaultAddress

    @Option(help: "feedback-service address; \"\" skips surveys, responses, feature requests and churn reasons.")
    var feedbackAddr: String = ServiceIdentity.feedback.defaultAddress

    @Option(help: "success-service address; \"\" skips success plans and the health-score batch.")
    var successAddr: String = ServiceIdentity.success.defaultAddress

    @Option(help: "outreach-service address; \"\" skips templates, segments and journeys.")
    var outreachAddr: String = ServiceIdentity.outreach.defaultAddress

    @Option(help: "How many customers to create.")
    var customers: Int = 200

    @Option(help: "Seed of the generator; the same seed gives the same data.")
    var seed: UInt64 = 360

    @Option(help: "File holding the services' token, when they are configured with one (--service-token-file).")
    var serviceTokenFile: String?

    /// With TLS the services want a certificate: the ops tools' one is named `operator` (scripts/dev-certs.sh).
    @OptionGroup var tls: TLSOptions

    @Flag(help: "Load even into services that already hold data.")
    var force = false

    @Option(
        help:
            "JSON shard map (the services' --shard-map): each customer's data goes to the shard that owns it.")
    var shardMap: String?

    func validate() throws {
        guard PeerAddress(profileAddr) != nil else { throw ValidationError("--profile-addr must be host:port") }
        guard interactionAddr.isEmpty || PeerAddress(interactionAddr) != nil else {
            throw ValidationError("--interaction-addr must be host:port or \"\"")
        }
        guard feedbackAddr.isEmpty || PeerAddress(feedbackAddr) != nil else {
            throw ValidationError("--feedback-addr must be host:port or \"\"")
        }
        guard successAddr.isEmpty || PeerAddress(successAddr) != nil else {
            throw ValidationError("--success-addr must be host:port or \"\"")
        }
        guard outreachAddr.isEmpty || PeerAddress(outreachAddr) != nil else {
            throw ValidationError("--outreach-addr must be host:port or \"\"")
        }
        guard (1...100_000).contains(customers) else { throw ValidationError("--customers must be 1...100000") }
        if let shardMap {
            do {
                _ = try ShardMapSource(path: shardMap)
            } catch {
                throw ValidationError("--shard-map: \(error.description)")
            }
        }
    }

    func run() async throws {
        var generator = DemoGenerator(seed: seed)
        let shards = try shardMap.map { try ShardMapSource(path: $0) }
        let existingCustomers = try await withPeer(.profile, profileAddr, shards) { client in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
            let existing = try await profiles.listCustomers(
                .with { $0.page.pageSize = 1 }, options: .deadline(.seconds(10)))
            if !existing.customers.isEmpty, !force {
                print(
                    "demo-data: profile-service at \(profileAddr) already holds customers; not adding any (--force adds more)"
                )
            } else {
                var loader = ProfileDemoLoader(profiles: profiles, shards: shards, generator: generator)
                try await loader.load(customers: self.customers)
                generator = loader.generator
            }
            return try await allCustomers(profiles)
        }
        if !interactionAddr.isEmpty {
            try await withPeer(.interaction, interactionAddr, shards) { client in
                let interactions = Customer360_V1_InteractionService.Client(wrapping: client)
                // Asked of every shard: any one holding touchpoints means the data set is there.
                let existing = await ShardFanOut.call(
                    shards: shards?.current.services[ServiceIdentity.interaction.name]?.map(\.shard) ?? []
                ) { pin in
                    try await interactions.listCustomerActivity(
                        .with { $0.page.pageSize = 1 }, metadata: pin, options: .deadline(.seconds(10)))
                }
                if let (_, error) = existing.failures.first { throw error }
                if existing.answers.contains(where: { !$0.answer.customers.isEmpty }), !force {
                    print(
                        "demo-data: interaction-service at \(interactionAddr) already holds touchpoints; not adding any"
                    )
                    return
                }
                var loader = InteractionDemoLoader(interactions: interactions, generator: generator, now: Date())
                try await loader.load(customers: existingCustomers)
                generator = loader.generator
            }
        }
        if !feedbackAddr.isEmpty {
            try await withPeer(.feedback, feedbackAddr, shards) { client in
                let feedback = Customer360_V1_FeedbackService.Client(wrapping: client)
                let existing = try await feedback.listSurveys(
                    .with {
                        $0.page.pageSize = 1
                        $0.includeInactive = true
                    }, options: .deadline(.seconds(10)))
                if !existing.surveys.isEmpty, !force {
                    print("demo-data: feedback-service at \(feedbackAddr) already holds surveys; not adding any")
                    return
                }
                var loader = FeedbackDemoLoader(feedback: feedback, generator: generator, now: Date())
                try await loader.load(customers: existingCustomers)
                generator = loader.generator
            }
        }
        if !outreachAddr.isEmpty {
            try await withPeer(.outreach, outreachAddr, shards) { client in
                try await OutreachDemoLoader(outreach: Customer360_V1_OutreachService.Client(wrapping: client)).load()
            }
        }
        guard !successAddr.isEmpty else { return }
        try await withPeer(.success, successAddr, shards) { client in
            let success = Customer360_V1_SuccessService.Client(wrapping: client)
            let existing = try await success.listSuccessPlans(
                .with { $0.page.pageSize = 1 },
                options: .deadline(.seconds(10)))
            if !existing.plans.isEmpty, !force {
                print("demo-data: success-service at \(successAddr) already holds success plans; not adding any")
                return
            }
            var loader = SuccessDemoLoader(success: success, generator: generator, now: Date())
            try await loader.load(customers: existingCustomers)
        }
    }

    /// Every customer in profile-service, page by page.
    private func allCustomers(
        _ profiles: Customer360_V1_ProfileService.Client<PeerTransport>
    ) async throws -> [Customer360_V1_Customer] {
        var customers: [Customer360_V1_Customer] = []
        var token = ""
        repeat {
            let page = try await profiles.listCustomers(
                .with {
                    $0.page.pageSize = 500
                    $0.page.pageToken = token
                }, options: .deadline(.seconds(10)))
            customers += page.customers
            token = page.page.nextPageToken
        } while !token.isEmpty
        return customers
    }

    /// Runs `body` with a client of `service` at `address`, or of its shards when `shards` names it.
    private func withPeer<Result: Sendable>(
        _ service: ServiceIdentity, _ address: String, _ shards: ShardMapSource?,
        _ body: (GRPCClient<PeerTransport>) async throws -> Result
    ) async throws -> Result {
        let peer = PeerAddress(address)!
        let token = try serviceTokenFile.map { file in
            try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let credentials = PeerCredentials(tls: try tls.identity(environment: nil), serviceToken: token)
        let security = try credentials.transportSecurity()
        return try await withGRPCClient(
            transport: try ShardedClientTransport(
                service: service.name, address: peer, source: shards, routing: .current
            ) { address in
                try .http2NIOPosix(target: address.target, transportSecurity: security)
            },
            interceptors: credentials.interceptors
        ) { client in
            try await body(client)
        }
    }
}
