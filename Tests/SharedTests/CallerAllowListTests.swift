import C360ServerKit
import C360TestSupport
import Testing

/// The allow-lists of Proto/ (`callers` in each RPC's access option), which services check callers' certificate
/// names against when they run with TLS.
@Suite("Caller allow-lists, as Proto/ declares them")
struct CallerAllowListTests {
    static let processes: Set<String> = [
        ServiceIdentity.gateway, .profile, .interaction, .feedback, .success, .outreach,
    ].reduce(into: []) { $0.insert($1.name) }

    @Test(
        """
        every name an RPC lists as a caller is a Customer 360 process, and none lists itself but where processes of one \
        executable call each other: the gateway authority and profile shards' identifier index
        """
    )
    func namesAreProcesses() {
        // Gateway replicas call the authority gateway; a profile shard claims and finds identifiers on another, and
        // reads the customer an index entry names from its shard.
        let siblingServices: Set<String> = [
            "customer360.v1.GatewayAuthorityService", "customer360.v1.ProfileShardService",
        ]
        for method in ContractCatalog.current.methods {
            let calledBySiblings =
                siblingServices.contains(method.service)
                || method.fullyQualifiedMethod == "customer360.v1.ProfileService/GetCustomer"
            for caller in method.policy?.callers ?? [] {
                #expect(
                    Self.processes.contains(caller), "\(method.fullyQualifiedMethod) lists unknown caller \(caller)")
                #expect(
                    calledBySiblings
                        || !method.service.lowercased().hasPrefix(
                            "customer360.v1.\(caller.replacingOccurrences(of: "-service", with: ""))"),
                    "\(method.fullyQualifiedMethod) lists its own service")
            }
        }
    }

    @Test(
        "the gateway may call what it exposes, a listed service what lists it, the operator everything; others nothing")
    func decisions() {
        let list = CallerAllowList.current
        let getCustomer = "customer360.v1.ProfileService/GetCustomer"
        let erase = "customer360.v1.ProfileService/EraseCustomer"
        let resolve = "customer360.v1.ProfileService/ResolveCustomers"
        let merge = "customer360.v1.ProfileService/MergeCustomers"
        #expect(list.allows("gateway", getCustomer) && list.allows("gateway", merge) && list.allows("gateway", erase))
        #expect(!list.allows("gateway", resolve), "ResolveCustomers is internal and does not list the gateway")
        #expect(list.allows("interaction-service", resolve) && list.allows("interaction-service", getCustomer))
        #expect(!list.allows("interaction-service", erase) && !list.allows("interaction-service", merge))
        #expect(list.allows("operator", erase) && list.allows("operator", resolve))
        #expect(!list.allows("someone-else", getCustomer))
        // Health and reflection are not in the contracts' policies: any caller the CA vouches for.
        #expect(list.allows("someone-else", "grpc.health.v1.Health/Check"))
        #expect(list.callers(of: erase) == ["gateway", "operator"])
    }
}

@Suite("TLS options: all three files or none, each checked at start-up")
struct TLSOptionsTests {
    @Test("a missing flag, an unreadable file or a key of another certificate is refused naming the flag")
    func validation() async throws {
        let certificates = try await DevCertificates.make(names: ["profile-service", "operator"])
        defer { certificates.remove() }
        func resolve(_ arguments: [String]) throws -> ServerConfiguration {
            try ServerOptions.parse(["--data-dir", "/tmp/unused"] + arguments).resolve(for: .profile, environment: [:])
        }
        #expect(try resolve([]).tls == nil)
        let given = try #require(try resolve(certificates.arguments(for: "profile-service")).tls)
        #expect(given.name == "profile-service")

        func refusal(_ arguments: [String]) -> String {
            do {
                _ = try resolve(arguments)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        #expect(
            refusal(["--tls-cert", certificates.certificate("profile-service")]).contains(
                "--tls-key and --tls-ca missing"))
        #expect(
            refusal([
                "--tls-cert", "/nonexistent.pem", "--tls-key", certificates.key("profile-service"),
                "--tls-ca", certificates.authority,
            ]).contains("--tls-cert /nonexistent.pem cannot be read"))
        #expect(
            refusal([
                "--tls-cert", certificates.certificate("profile-service"), "--tls-key", certificates.key("operator"),
                "--tls-ca", certificates.authority,
            ]).contains("cannot be used"))
        #expect(
            refusal([
                "--tls-cert", certificates.certificate("profile-service"), "--tls-key",
                certificates.key("profile-service"),
                "--tls-ca", certificates.key("operator"),
            ]).contains("--tls-ca"))
        // The environment stands in for the flags.
        let environment = [
            "C360_PROFILE_TLS_CERT": certificates.certificate("profile-service"),
            "C360_PROFILE_TLS_KEY": certificates.key("profile-service"),
            "C360_PROFILE_TLS_CA": certificates.authority,
        ]
        let fromEnvironment = try ServerOptions.parse(["--data-dir", "/tmp/unused"]).resolve(
            for: .profile, environment: environment)
        #expect(fromEnvironment.tls?.name == "profile-service")
    }
}
