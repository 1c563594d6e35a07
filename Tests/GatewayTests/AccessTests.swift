import C360Contracts
import C360ServerKit
import Foundation
import GRPCCore
import SwiftProtobuf
import Testing

@testable import C360Gateway

/// The GatewayService methods each role may call, as gateway.proto's header states the default matrix.
private let viewerMethods: Set<String> = ["GetCustomer360", "ListCustomers", "ListTimeline", "WatchCustomer360"]
private let analystMethods = viewerMethods.union([
    "GetKpiDashboard", "ListAtRisk", "ListAlerts", "WatchAlerts", "ListTasks",
])
private let agentMethods = analystMethods.union([
    "CreateCustomer", "UpdateCustomer", "SetConsent", "RecordTouchpoint", "RecordTouchpoints", "OpenTicket",
    "ReplyToTicket", "ResolveTicket", "RecordResponse", "CreateSuccessPlan", "UpdateSuccessPlan", "AddGoal",
    "RecordGoalProgress", "AcknowledgeAlert", "CompleteTask",
])

/// The names of every method of the generated GatewayService.
private let generatedMethods = Customer360_V1_GatewayService.Method.descriptors.map(\.method)

/// The four backend services the gateway forwards.
private let backendServices = [
    Customer360_V1_ProfileService.descriptor, Customer360_V1_InteractionService.descriptor,
    Customer360_V1_FeedbackService.descriptor, Customer360_V1_SuccessService.descriptor,
].map(\.fullyQualifiedService)

@Suite("Roles and access policies, as Proto/ declares them")
struct RoleTests {
    @Test("roles are ordered viewer < analyst < agent < admin, each allowed what the ones before it are")
    func order() {
        let ordered: [Role] = [.viewer, .analyst, .agent, .admin]
        for (index, role) in ordered.enumerated() {
            for (other, least) in ordered.enumerated() {
                #expect(role.satisfies(least) == (index >= other), "\(role) satisfies \(least)")
            }
        }
        for role in ordered {
            #expect(Role(access: Customer360_V1_AccessRole(rawValue: role.rank) ?? .unspecified) == role)
        }
        #expect(Role(access: .unspecified) == nil)
    }

    @Test("only agents and admins see personal data")
    func personalData() {
        #expect(Role.allCases.filter(\.seesPersonalData) == [.agent, .admin])
    }

    @Test("every RPC of every customer360 service declares an access policy, and every exposed one a least role")
    func everyMethodHasAPolicy() {
        let methods = ContractCatalog.current.methods.filter { $0.service.hasPrefix("customer360.") }
        #expect(methods.count >= 119, "\(methods.count)")
        for method in methods {
            guard let policy = AccessPolicies.current.policy(for: method.fullyQualifiedMethod) else {
                Issue.record("\(method.fullyQualifiedMethod) has no (customer360.v1.access) option")
                continue
            }
            let declared = method.policy ?? .init()
            #expect(
                declared.internal || declared.leastRole != .unspecified,
                "\(method.fullyQualifiedMethod) is exposed but names no least role")
            #expect(
                !(declared.internal && (declared.audited || declared.redacted || declared.leastRole != .unspecified)),
                "\(method.fullyQualifiedMethod) is internal and must say nothing else")
            #expect(policy.isInternal == declared.internal)
        }
    }

    @Test(
        "every exposed RPC whose request names a customer (customer_id) is audited: each read of a customer's data leaves a record"
    )
    func customerReadsAreAudited() {
        let catalog = ContractCatalog.current
        for method in catalog.methods where method.service.hasPrefix("customer360.") {
            guard let policy = method.policy, !policy.internal,
                let input = catalog.messages[method.inputType],
                input.field.contains(where: { $0.name == "customer_id" })
            else { continue }
            #expect(policy.audited, "\(method.fullyQualifiedMethod) takes a customer_id but is not audited")
        }
    }

    @Test("at least 90% of the backend services' RPCs are reachable through the gateway; the rest are internal")
    func backendCoverage() {
        let backend = ContractCatalog.current.methods.filter { backendServices.contains($0.service) }
        let exposed = backend.filter {
            AccessPolicies.current.policy(for: $0.fullyQualifiedMethod)?.isInternal == false
        }
        #expect(Double(exposed.count) / Double(backend.count) >= 0.9, "\(exposed.count) of \(backend.count)")
    }

    @Test("an exposed RPC whose answer may hold personal data is redacted for roles that may not see it")
    func personalDataIsRedacted() {
        for method in ContractCatalog.current.methods where backendServices.contains(method.service) {
            guard let policy = AccessPolicies.current.policy(for: method.fullyQualifiedMethod),
                let least = policy.leastRole, !least.seesPersonalData,
                PersonalDataRedactor.current.mayHoldPersonalData(method.outputType)
            else { continue }
            #expect(
                policy.redacted, "\(method.fullyQualifiedMethod) answers \(method.outputType) to \(least)s unredacted")
        }
    }

    @Test("the GatewayService methods each role may call are the ones gateway.proto names", arguments: Role.allCases)
    func methodsPerRole(role: Role) {
        #expect(generatedMethods.count == 31, "\(generatedMethods)")
        let callable = Set(
            generatedMethods.filter { method in
                let least = AccessPolicies.current.policy(for: "\(AccessControlInterceptor.gatewayService)/\(method)")?
                    .leastRole
                return least.map(role.satisfies) ?? false
            })
        let expected: Set<String> =
            switch role {
            case .viewer: viewerMethods
            case .analyst: analystMethods
            case .agent: agentMethods
            case .admin: Set(generatedMethods)
            }
        #expect(
            callable == expected, "extra: \(callable.subtracting(expected)), missing: \(expected.subtracting(callable))"
        )
    }

    @Test("the interceptor guards the service the generated descriptors name")
    func guardedService() {
        #expect(
            AccessControlInterceptor.gatewayService == Customer360_V1_GatewayService.descriptor.fullyQualifiedService)
        for descriptor in Customer360_V1_GatewayService.Method.descriptors {
            #expect(descriptor.service.fullyQualifiedService == AccessControlInterceptor.gatewayService)
        }
    }

    @Test("roles and audit actions convert to and from their protobuf enums")
    func protoConversions() {
        for role in Role.allCases {
            #expect(Role(proto: role.proto) == role)
        }
        #expect(Role(proto: .unspecified) == nil)
        #expect(Role(proto: .UNRECOGNIZED(42)) == nil)
        for action in AuditAction.allCases {
            #expect(AuditAction(proto: action.proto) == action)
        }
        #expect(AuditAction(proto: .unspecified) == nil)
        #expect(AuditAction(proto: .UNRECOGNIZED(42)) == nil)
    }
}

@Suite("API key secrets and keys")
struct ApiKeySecretTests {
    @Test("a secret is c360_ and 64 lower-case hex digits, and two are never the same")
    func shape() {
        let secrets = (0..<20).map { _ in ApiKeySecret.generate() }
        for secret in secrets {
            #expect(secret.hasPrefix("c360_"), "\(secret)")
            #expect(secret.count == 69, "\(secret)")
            let digits = secret.dropFirst(5)
            #expect(digits.allSatisfy { "0123456789abcdef".contains($0) }, "\(secret)")
        }
        #expect(Set(secrets).count == secrets.count)
    }

    @Test("what is stored is the SHA-256 of the secret, in hex; what is shown is its first 12 characters")
    func hashAndPrefix() {
        let secret = ApiKeySecret.generate()
        let hash = ApiKeySecret.hash(secret)
        #expect(hash == Digest.sha256Hex(secret))
        #expect(hash.count == 64 && hash.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(!hash.contains(secret.dropFirst(5)))
        #expect(ApiKeySecret.hash(secret) == hash, "the hash is deterministic")
        #expect(ApiKeySecret.hash(ApiKeySecret.generate()) != hash)
        #expect(ApiKeySecret.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")

        let prefix = ApiKeySecret.prefix(secret)
        #expect(prefix.count == 12 && prefix.hasPrefix("c360_") && secret.hasPrefix(prefix))
    }

    @Test("a key is active until it is revoked or its expiry is reached")
    func activity() {
        #expect(makeKey("k", role: .viewer).isActive(at: Fixed.at(1_000_000)))
        let expiring = makeKey("k", role: .viewer, expiresAt: Fixed.at(60))
        #expect(expiring.isActive(at: Fixed.at(59)))
        #expect(!expiring.isActive(at: Fixed.at(60)))
        #expect(!expiring.isActive(at: Fixed.at(61)))
        var revoked = makeKey("k", role: .admin)
        revoked.revokedAt = Fixed.at(10)
        #expect(!revoked.isActive(at: Fixed.at(5)), "revoked is revoked, whatever the clock says")
    }

    @Test("a key's protobuf form carries no secret and sets only the instants it has")
    func keyProto() {
        var key = makeKey("k-1", role: .analyst, createdBy: "k-admin")
        var proto = key.proto
        #expect(proto.keyID == "k-1" && proto.role == .analyst && proto.createdBy == "k-admin")
        #expect(proto.secretPrefix == key.secretPrefix)
        #expect(proto.createdAt.seconds == 1_790_000_000)
        #expect(!proto.hasExpiresAt && !proto.hasRevokedAt && !proto.hasLastUsedAt)
        key.expiresAt = Fixed.at(60)
        key.revokedAt = Fixed.at(30)
        key.lastUsedAt = Fixed.at(20)
        proto = key.proto
        #expect(proto.expiresAt.seconds == 1_790_000_060)
        #expect(proto.revokedAt.seconds == 1_790_000_030)
        #expect(proto.lastUsedAt.seconds == 1_790_000_020)
    }
}

@Suite("Gateway errors")
struct GatewayErrorTests {
    @Test("each error answers the gRPC status the contract names")
    func codes() {
        let expected: [(GatewayError, RPCError.Code)] = [
            (.missingCredentials, .unauthenticated),
            (.unknownCredentials, .unauthenticated),
            (.inactiveCredentials("k"), .unauthenticated),
            (.notPermitted(role: .viewer, method: "GetKpiDashboard", needed: .analyst), .permissionDenied),
            (.notExposed(method: "x.Y/Z"), .permissionDenied),
            (.keyNotFound("k"), .notFound),
            (.lastAdminKey("k"), .failedPrecondition),
            (.storedValue("x"), .internalError),
        ]
        for (error, code) in expected {
            #expect(error.rpcErrorCode == code, "\(error)")
            #expect(!error.rpcErrorMessage.isEmpty, "\(error)")
        }
        let denied = GatewayError.notPermitted(role: .viewer, method: "GetKpiDashboard", needed: .analyst)
            .rpcErrorMessage
        #expect(
            denied.contains("viewer") && denied.contains("GetKpiDashboard") && denied.contains("analyst role"),
            "\(denied)")
    }
}
