import C360Clients
import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Testing

/// Creates `count` customers one by one; each returned id was acknowledged by the server.
private func createCustomers(
    _ count: Int, prefix: String, via client: GRPCClient<HTTP2ClientTransport.Posix>
) async throws -> [String] {
    let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
    var ids: [String] = []
    for index in 0..<count {
        let customer = try await profiles.createCustomer(
            .with {
                $0.identifiers = [
                    .with {
                        $0.kind = .email
                        $0.value = "\(prefix)\(index)@example.com"
                    }
                ]
                $0.givenName = "\(prefix)\(index)"
            })
        ids.append(customer.customerID)
    }
    return ids
}

@Suite("profile-service executable over TCP")
struct ProfileServiceProcessTests {
    @Test("every acknowledged write is found after a graceful restart on the same data directory")
    func restartKeepsWrites() async throws {
        let first = try await ServiceProcess.start("profile-service")
        defer { Task { await first.cleanup() } }
        let written = try await withConnectedClient(to: first.address) { client in
            try await waitUntilServing(client, process: first)
            let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
            let ids = try await createCustomers(3, prefix: "restart", via: client)
            _ = try await profiles.setConsent(
                .with {
                    $0.customerID = ids[0]
                    $0.purpose = .marketing
                    $0.channel = .sms
                    $0.status = .granted
                    $0.source = "integration-test"
                })
            _ = try await profiles.earnPoints(
                .with {
                    $0.customerID = ids[1]
                    $0.points = 1_200
                    $0.reason = "order"
                })
            _ = try await profiles.mergeCustomers(
                .with {
                    $0.customerID = ids[1]
                    $0.mergedID = ids[2]
                })
            return ids
        }
        #expect(try await first.terminate() == .exited(0))

        try await withService("profile-service", dataDirectory: first.dataDirectory) { _, client in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
            let consents = try await profiles.getConsents(.with { $0.customerID = written[0] })
            #expect(consents.consents.map(\.status) == [.granted])
            let loyal = try await profiles.getCustomer(.with { $0.customerID = written[1] })
            #expect(loyal.loyaltyPoints == 1_200 && loyal.loyaltyTier == .silver)
            let merged = try await profiles.getCustomer(.with { $0.customerID = written[2] })
            #expect(merged.customerID == written[1] && merged.resolvedFrom == written[2])
            let found = try await profiles.lookupCustomer(
                .with {
                    $0.identifier = .with {
                        $0.kind = .email
                        $0.value = "restart2@example.com"
                    }
                })
            #expect(found.customerID == written[1])
        }
    }

    @Test("writes acknowledged just before kill -9 survive the crash")
    func killKeepsAcknowledgedWrites() async throws {
        let first = try await ServiceProcess.start("profile-service")
        defer { Task { await first.cleanup() } }
        let written = try await withConnectedClient(to: first.address) { client in
            try await waitUntilServing(client, process: first)
            return try await createCustomers(25, prefix: "crash", via: client)
        }
        #expect(try await first.kill() == .signaled(SIGKILL))

        try await withService("profile-service", dataDirectory: first.dataDirectory) { _, client in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
            var found: [String] = []
            var token = ""
            repeat {
                let page = try await profiles.listCustomers(
                    .with {
                        $0.page.pageSize = 10
                        $0.page.pageToken = token
                    })
                found += page.customers.map(\.customerID)
                token = page.page.nextPageToken
            } while !token.isEmpty
            #expect(found == written)
        }
    }

    @Test("bad input over the wire answers INVALID_ARGUMENT naming the field; health reports SERVING")
    func statusesOverTCP() async throws {
        try await withService("profile-service") { _, client in
            let profiles = Customer360_V1_ProfileService.Client(wrapping: client)
            let error = await #expect(throws: RPCError.self) {
                _ = try await profiles.createCustomer(
                    .with {
                        $0.identifiers = [
                            .with {
                                $0.kind = .email
                                $0.value = "nope"
                            }
                        ]
                    })
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("identifiers[0].value:") == true)

            let health = Grpc_Health_V1_Health.Client(wrapping: client)
            let status = try await health.check(.with { $0.service = "customer360.v1.ProfileService" })
            #expect(status.status == .serving)
            let unknown = await #expect(throws: RPCError.self) {
                _ = try await health.check(.with { $0.service = "nope.Service" })
            }
            #expect(unknown?.code == .notFound)
        }
    }
}
