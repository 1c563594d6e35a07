import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import SwiftProtobuf
import Testing

/// Internal services configured with a service token answer only callers carrying it, and carry it themselves when
/// they call their peers.
@Suite("service tokens between the real executables")
struct ServiceTokenTests {
    @Test(
        "profile-service refuses calls without the token, answers health checks, and interaction-service's calls carry it"
    )
    func tokens() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("c360-token-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let token = "token-\(UUID().uuidString)"
        let tokenFile = directory.appendingPathComponent("service.token")
        try Data("\(token)\n".utf8).write(to: tokenFile)
        let wrongFile = directory.appendingPathComponent("wrong.token")
        try Data("wrong-\(UUID().uuidString)\n".utf8).write(to: wrongFile)
        let withToken: Metadata = ["x-c360-service-token": "\(token)"]

        // withService checks health before handing over the client: health needs no token.
        try await withService("profile-service", arguments: ["--service-token-file", tokenFile.path]) {
            profile, client in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
            let refused = await #expect(throws: RPCError.self) {
                _ = try await profiles.createCustomer(.with { $0.givenName = "Ada" })
            }
            #expect(refused?.code == .unauthenticated)
            let wrong = await #expect(throws: RPCError.self) {
                _ = try await profiles.createCustomer(
                    .with { $0.givenName = "Ada" }, metadata: ["x-c360-service-token": "nope-nope-nope-nope"])
            }
            #expect(wrong?.code == .unauthenticated)
            let ada = try await profiles.createCustomer(.with { $0.givenName = "Ada" }, metadata: withToken).customerID

            let touchpoint = Customer360_V1_RecordTouchpointRequest.with {
                $0.customerID = ada
                $0.touchpoint = .with {
                    $0.eventID = "token-1"
                    $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
                    $0.channel = .web
                    $0.kind = .login
                    $0.direction = .inbound
                }
            }
            let peer = ["--profile-addr", "\(profile.address)"]
            try await withService("interaction-service", arguments: peer + ["--service-token-file", tokenFile.path]) {
                _, client in
                let interactions = Customer360_V1_InteractionService.Client(wrapping: client)
                let stored = try await interactions.recordTouchpoint(touchpoint, metadata: withToken)
                #expect(stored.touchpoint.customerID == ada && !stored.duplicate)
            }
            // A service with the wrong token cannot reach profile-service, so it cannot check the customer.
            try await withService("interaction-service", arguments: peer + ["--service-token-file", wrongFile.path]) {
                _, client in
                let interactions = Customer360_V1_InteractionService.Client(wrapping: client)
                let unchecked = await #expect(throws: RPCError.self) {
                    _ = try await interactions.recordTouchpoint(
                        touchpoint,
                        metadata: [
                            "x-c360-service-token":
                                "\(try String(contentsOf: wrongFile, encoding: .utf8).trimmingCharacters(in: .newlines))"
                        ])
                }
                #expect(unchecked?.code == .unavailable)
            }
        }
    }
}
