import C360Contracts
import Foundation
@testable import C360Gateway
import GRPCCore
import SwiftProtobuf
import Testing

/// Every capability, in the order of the role matrix.
private let allCapabilities: [Role.Capability] = [.view, .analyze, .write, .administer]

/// The GatewayService methods each role may call, as gateway.proto's header states the default matrix.
private let viewerMethods: Set<String> = ["GetCustomer360", "ListCustomers", "ListTimeline"]
private let analystMethods = viewerMethods.union(["GetKpiDashboard", "ListAtRisk", "ListAlerts", "WatchAlerts", "ListTasks"])
private let agentMethods = analystMethods.union([
    "CreateCustomer", "UpdateCustomer", "SetConsent", "RecordTouchpoint", "RecordTouchpoints", "OpenTicket",
    "ReplyToTicket", "ResolveTicket", "RecordResponse", "CreateSuccessPlan", "UpdateSuccessPlan", "AddGoal",
    "RecordGoalProgress", "AcknowledgeAlert", "CompleteTask",
])

/// The names of every method of the generated GatewayService.
private let generatedMethods = Customer360_V1_GatewayService.Method.descriptors.map(\.method)

@Suite("Roles: the default access matrix")
struct RoleTests {
    @Test("each role may do exactly what the matrix grants")
    func matrix() {
        let granted: [Role: Set<Role.Capability>] = [
            .viewer: [.view],
            .analyst: [.view, .analyze],
            .agent: [.view, .analyze, .write],
            .admin: [.view, .analyze, .write, .administer],
        ]
        for role in Role.allCases {
            for capability in allCapabilities {
                let expected = (granted[role] ?? []).contains(capability)
                #expect(role.may(capability) == expected, "\(role) may \(capability)")
            }
        }
    }

    @Test("only agents and admins see personal data")
    func personalData() {
        #expect(Role.allCases.filter(\.seesPersonalData) == [.agent, .admin])
    }

    @Test("every generated GatewayService method needs a capability, and no other method is listed")
    func everyMethodHasACapability() {
        #expect(generatedMethods.count == 29, "\(generatedMethods)")
        for method in generatedMethods {
            #expect(Role.capabilities[method] != nil, "\(method) has no capability: the interceptor refuses it to all")
        }
        #expect(Set(Role.capabilities.keys) == Set(generatedMethods))
    }

    @Test("the methods each role may call are the ones gateway.proto names", arguments: Role.allCases)
    func methodsPerRole(role: Role) {
        let callable = Set(generatedMethods.filter { method in Role.capabilities[method].map(role.may) ?? false })
        let expected: Set<String> = switch role {
        case .viewer: viewerMethods
        case .analyst: analystMethods
        case .agent: agentMethods
        case .admin: Set(generatedMethods)
        }
        #expect(callable == expected, "extra: \(callable.subtracting(expected)), missing: \(expected.subtracting(callable))")
    }

    @Test("the interceptor guards the service the generated descriptors name")
    func guardedService() {
        #expect(AccessControlInterceptor.gatewayService == Customer360_V1_GatewayService.descriptor.fullyQualifiedService)
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
        #expect(hash == SHA256.hex(secret))
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
            (.notPermitted(role: .viewer, method: "GetKpiDashboard"), .permissionDenied),
            (.keyNotFound("k"), .notFound),
            (.lastAdminKey("k"), .failedPrecondition),
            (.storedValue("x"), .internalError),
        ]
        for (error, code) in expected {
            #expect(error.rpcErrorCode == code, "\(error)")
            #expect(!error.rpcErrorMessage.isEmpty, "\(error)")
        }
        let denied = GatewayError.notPermitted(role: .viewer, method: "GetKpiDashboard").rpcErrorMessage
        #expect(denied.contains("viewer") && denied.contains("GetKpiDashboard"), "\(denied)")
    }
}
