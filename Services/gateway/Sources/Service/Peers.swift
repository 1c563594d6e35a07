public import C360Clients
import C360Contracts
import C360ServerKit
public import GRPCCore
import GRPCNIOTransportHTTP2

/// The services behind the gateway, each a client on one long-lived connection, and the deadline every call
/// to them carries. The current request's id travels with every call through the connections' own interceptor
/// (`RequestIDClientInterceptor`).
public struct Peers: Sendable {
    public typealias Transport = PeerTransport

    let profile: Customer360_V1_ProfileService.Client<Transport>
    let interaction: Customer360_V1_InteractionService.Client<Transport>
    let feedback: Customer360_V1_FeedbackService.Client<Transport>
    let success: Customer360_V1_SuccessService.Client<Transport>
    /// Only forwarded to (its RPCs are not part of the 360° view); absent in tests that start without it.
    let outreach: GRPCClient<Transport>?
    /// Deadline of each backend call.
    let deadline: Duration
    /// The connection to each backend, by the fully qualified name of the service it serves (for forwarding).
    let connections: [String: GRPCClient<Transport>]
    /// Each backend's shards in the shard map in force (by executable name), for reads across customers, which ask
    /// every shard; a backend that is not sharded has none.
    let shards: [String: @Sendable () -> [String]]

    public init(
        profile: GRPCClient<Transport>, interaction: GRPCClient<Transport>, feedback: GRPCClient<Transport>,
        success: GRPCClient<Transport>, outreach: GRPCClient<Transport>? = nil, deadline: Duration,
        shards: [String: @Sendable () -> [String]] = [:]
    ) {
        self.shards = shards
        self.profile = .init(wrapping: profile)
        self.interaction = .init(wrapping: interaction)
        self.feedback = .init(wrapping: feedback)
        self.success = .init(wrapping: success)
        self.outreach = outreach
        self.deadline = deadline
        var connections = [
            Customer360_V1_ProfileService.descriptor.fullyQualifiedService: profile,
            Customer360_V1_InteractionService.descriptor.fullyQualifiedService: interaction,
            Customer360_V1_FeedbackService.descriptor.fullyQualifiedService: feedback,
            Customer360_V1_SuccessService.descriptor.fullyQualifiedService: success,
        ]
        if let outreach { connections[Customer360_V1_OutreachService.descriptor.fullyQualifiedService] = outreach }
        self.connections = connections
    }

    /// The shards of `service` now; empty when it is not sharded.
    func shards(of service: ServiceIdentity) -> [String] { shards[service.name]?() ?? [] }

    /// The shards of the service serving the contract `fullyQualifiedService` (`customer360.v1.InteractionService`).
    func shards(ofContract fullyQualifiedService: String) -> [String] {
        Self.executables[fullyQualifiedService].map { shards[$0]?() ?? [] } ?? []
    }

    /// The executable serving each backend contract, as the shard map names services.
    static let executables = [
        Customer360_V1_ProfileService.descriptor.fullyQualifiedService: ServiceIdentity.profile.name,
        Customer360_V1_InteractionService.descriptor.fullyQualifiedService: ServiceIdentity.interaction.name,
        Customer360_V1_FeedbackService.descriptor.fullyQualifiedService: ServiceIdentity.feedback.name,
        Customer360_V1_SuccessService.descriptor.fullyQualifiedService: ServiceIdentity.success.name,
        Customer360_V1_OutreachService.descriptor.fullyQualifiedService: ServiceIdentity.outreach.name,
    ]

    /// Call options with the deadline.
    var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = deadline
        return options
    }
}
