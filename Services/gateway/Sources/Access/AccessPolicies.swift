import C360Contracts
public import C360ServerKit

/// Every RPC's access policy as Proto/ declares it with the `(customer360.v1.access)` method option, read once from
/// the compiled contracts. The gateway's access control, forwarding, audit and redaction all ask this table, so the
/// policy of a method lives in exactly one place: beside the RPC in its .proto file.
public struct AccessPolicies: Sendable {
    /// One RPC's policy, in the gateway's terms.
    public struct Policy: Sendable, Equatable {
        /// The least role that may call it; nil for an internal RPC.
        public var leastRole: Role?
        /// Written to the audit log.
        public var audited: Bool
        /// Personal data in the answer is removed for roles that may not see it.
        public var redacted: Bool
        /// The largest request message forwarded, in bytes.
        public var maxRequestBytes: Int = AccessPolicies.defaultMaxRequestBytes
        /// Service-to-service only: never exposed.
        public var isInternal: Bool { leastRole == nil }
    }

    private let policies: [String: Policy]

    /// The request size limit of an RPC that declares none (`max_request_bytes` 0): 256 KiB.
    public static let defaultMaxRequestBytes = 256 * 1024

    /// The policies the embedded contracts declare.
    public static let current = AccessPolicies(catalog: .current)

    public init(catalog: ContractCatalog) {
        var policies: [String: Policy] = [:]
        for method in catalog.methods {
            guard let declared = method.policy else { continue }
            policies[method.fullyQualifiedMethod] = Policy(
                leastRole: declared.internal ? nil : Role(access: declared.leastRole),
                audited: declared.audited, redacted: declared.redacted,
                maxRequestBytes: declared.maxRequestBytes == 0
                    ? Self.defaultMaxRequestBytes : Int(declared.maxRequestBytes))
        }
        self.policies = policies
    }

    /// The policy of `service/method`; nil when the contracts declare none (such a method is refused to everyone).
    public func policy(for fullyQualifiedMethod: String) -> Policy? { policies[fullyQualifiedMethod] }
}
