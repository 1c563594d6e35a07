import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("The gateway's rate limit per API key")
struct GatewayRateLimitTests {
    @Test("over its limit a key gets RESOURCE_EXHAUSTED with retry-after over gRPC, and 429 with Retry-After over HTTP")
    func overTheLimit() async throws {
        let httpPortFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "c360-gateway-http-\(UUID()).port")
        defer { try? FileManager.default.removeItem(at: httpPortFile) }
        // No backends are needed: ListApiKeys is the gateway's own.
        // Burst 2, then one call per 50 s: the first two calls pass and every later one in this test is refused, however
        // slowly a loaded machine runs them (a refill of one call per second made the test depend on the machine's speed).
        let arguments = ["--rate-limit", "0.02/s,burst=2", "--http-port", "0", "--http-port-file", httpPortFile.path]
        try await withService("gateway", arguments: arguments) { gateway, client in
            let admin = try await bootstrapSecret(of: gateway)
            let gatewayClient = Customer360_V1_GatewayService.Client(wrapping: client)
            var options = CallOptions.defaults
            options.timeout = .seconds(10)
            for _ in 0..<2 {
                _ = try await gatewayClient.listApiKeys(.init(), metadata: bearer(admin), options: options)
            }
            let error = await #expect(throws: RPCError.self) {
                _ = try await gatewayClient.listApiKeys(.init(), metadata: bearer(admin), options: options)
            }
            #expect(error?.code == .resourceExhausted, "\(String(describing: error))")
            #expect(error?.message.contains("rate limit") == true, "\(String(describing: error?.message))")
            let retryAfter = error?.metadata[stringValues: "retry-after"].first(where: { _ in true }).flatMap {
                Int($0)
            }
            #expect(retryAfter.map { (1...50).contains($0) } == true, "retry-after \(String(describing: retryAfter))")

            // The same key over HTTP is refused too: 429 with Retry-After in whole seconds.
            let httpPort = try await portInFile(httpPortFile, of: gateway)
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(httpPort)/api/v1/ListApiKeys")!)
            request.httpMethod = "POST"
            request.setValue("Bearer \(admin)", forHTTPHeaderField: "Authorization")
            request.httpBody = Data("{}".utf8)
            let (_, response) = try await URLSession.shared.data(for: request)
            let http = try #require(response as? HTTPURLResponse)
            #expect(http.statusCode == 429)
            let header = http.value(forHTTPHeaderField: "Retry-After").flatMap { Int($0) }
            #expect(header.map { (1...50).contains($0) } == true, "Retry-After \(String(describing: header))")
        }
    }
}
