import C360Contracts
import C360TestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRPCCore
import Testing

@Suite("The gateway's rate limit per API key")
struct GatewayRateLimitTests {
    @Test("over its limit a key gets RESOURCE_EXHAUSTED with retry-after over gRPC, and 429 with Retry-After over HTTP")
    func overTheLimit() async throws {
        let httpPortFile = FileManager.default.temporaryDirectory.appendingPathComponent("c360-gateway-http-\(UUID()).port")
        defer { try? FileManager.default.removeItem(at: httpPortFile) }
        // No backends are needed: ListApiKeys is the gateway's own.
        let arguments = ["--rate-limit", "1/s,burst=2", "--http-port", "0", "--http-port-file", httpPortFile.path]
        try await withService("gateway", arguments: arguments) { gateway, client in
            let admin = try await bootstrapSecret(of: gateway)
            let gatewayClient = Customer360_V1_GatewayService.Client(wrapping: client)
            var options = CallOptions.defaults
            options.timeout = .seconds(10)
            // Burst 2, then 1 per second: within a few quick calls one is refused (how many pass depends on how fast
            // the calls are, since the bucket refills while they run).
            var refusal: RPCError?
            for _ in 0..<6 where refusal == nil {
                do {
                    _ = try await gatewayClient.listApiKeys(.init(), metadata: bearer(admin), options: options)
                } catch let error as RPCError {
                    refusal = error
                }
            }
            let error = try #require(refusal, "no call was limited")
            #expect(error.code == .resourceExhausted, "\(error)")
            #expect(error.message.contains("rate limit"), "\(error.message)")
            #expect(error.metadata[stringValues: "retry-after"].first(where: { _ in true }) == "1")

            // The same key over HTTP: within three quick calls it is refused (the bucket may have refilled a little).
            let httpPort = try await portInFile(httpPortFile, of: gateway)
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(httpPort)/api/v1/ListApiKeys")!)
            request.httpMethod = "POST"
            request.setValue("Bearer \(admin)", forHTTPHeaderField: "Authorization")
            request.httpBody = Data("{}".utf8)
            var refused: HTTPURLResponse?
            for _ in 0..<3 where refused == nil {
                let (_, response) = try await URLSession.shared.data(for: request)
                let http = try #require(response as? HTTPURLResponse)
                if http.statusCode != 200 { refused = http }
            }
            #expect(refused?.statusCode == 429)
            #expect(refused?.value(forHTTPHeaderField: "Retry-After") == "1")
        }
    }
}
