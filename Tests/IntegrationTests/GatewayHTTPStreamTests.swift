import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// POSTs `body` to the gateway's JSON API; answers the HTTP status, content type and body.
private func post(_ port: Int, _ method: String, key: String, body: String) async throws
    -> (status: Int, contentType: String, body: String)
{
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/\(method)")!)
    request.httpMethod = "POST"
    request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
    request.httpBody = Data(body.utf8)
    request.timeoutInterval = 30
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = try #require(response as? HTTPURLResponse)
    return (
        http.statusCode, http.value(forHTTPHeaderField: "Content-Type") ?? "", String(decoding: data, as: UTF8.self)
    )
}

@Suite("gateway HTTP streams")
struct GatewayHTTPStreamTests {
    @Test("ExportCustomerData over HTTP answers the whole export document, streamed; refusals keep their HTTP status")
    func exportOverHTTP() async throws {
        try await withGatewayStack { stack in
            let admin = bearer(stack.adminSecret)
            let ada = try await stack.gateway.createCustomer(
                .with {
                    $0.givenName = "Ada"
                    $0.identifiers = [
                        .with {
                            $0.kind = .email
                            $0.value = "ada.http.export@example.com"
                        }
                    ]
                }, metadata: admin
            ).customerID
            let viewer = try await stack.gateway.createApiKey(
                .with {
                    $0.name = "it-http-viewer"
                    $0.role = .viewer
                }, metadata: admin
            ).secret

            let export = try await post(
                stack.httpPort, "ExportCustomerData", key: stack.adminSecret,
                body: #"{"customerId": "\#(ada)"}"#)
            #expect(export.status == 200 && export.contentType.hasPrefix("application/json"), "\(export)")
            let document = try #require(
                try JSONSerialization.jsonObject(with: Data(export.body.utf8)) as? [String: Any],
                "\(export.body.prefix(500))")
            #expect(export.body.contains(ada) && export.body.contains("ada.http.export@example.com"))
            #expect(!document.isEmpty)

            // Errors before the first chunk are ordinary JSON errors with their HTTP status.
            let denied = try await post(
                stack.httpPort, "ExportCustomerData", key: viewer, body: #"{"customerId": "\#(ada)"}"#)
            #expect(denied.status == 403 && denied.body.contains("PERMISSION_DENIED"), "\(denied)")
            let unknown = try await post(
                stack.httpPort, "ExportCustomerData", key: stack.adminSecret,
                body: #"{"customerId": "01900000-0000-7000-8000-0000000000ff"}"#)
            #expect(unknown.status == 404 && unknown.body.contains("NOT_FOUND"), "\(unknown)")
            let watch = try await post(stack.httpPort, "WatchAlerts", key: viewer, body: "{}")
            #expect(watch.status == 403 && watch.body.contains("PERMISSION_DENIED"), "\(watch)")
            let malformed = try await post(stack.httpPort, "WatchAlerts", key: stack.adminSecret, body: #"{"nope": 1}"#)
            #expect(malformed.status == 400 && malformed.body.contains("INVALID_ARGUMENT"), "\(malformed)")
        }
    }
}
