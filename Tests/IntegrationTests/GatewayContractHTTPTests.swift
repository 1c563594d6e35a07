import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// POSTs `body` to `/api/v1/<path>` on the gateway's HTTP port; answers the HTTP status, content type and body.
private func post(_ port: Int, _ path: String, key: String, body: String) async throws
    -> (status: Int, contentType: String, body: String)
{
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/\(path)")!)
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

@Suite("HTTP/JSON for every RPC of the contracts: POST /api/v1/<package.Service>/<Method>")
struct GatewayContractHTTPTests {
    @Test(
        "unary, client-streaming (NDJSON in) and server-streaming (NDJSON out) calls of the backends' contracts work over HTTP"
    )
    func backendContractsOverHTTP() async throws {
        try await withGatewayStack { stack in
            let admin = stack.adminSecret
            let created = try await post(
                stack.httpPort, "customer360.v1.ProfileService/CreateCustomer", key: admin,
                body: #"{"givenName": "Jason", "tags": ["http"]}"#)
            #expect(created.status == 200 && created.contentType.hasPrefix("application/json"), "\(created)")
            let customer = try Customer360_V1_Customer(jsonString: created.body)
            let earned = try await post(
                stack.httpPort, "customer360.v1.ProfileService/EarnPoints", key: admin,
                body: """
                    {"customerId": "\(customer.customerID)", "points": "40", "reason": "http", "transactionId": "http-1"}
                    """)
            #expect(
                earned.status == 200 && earned.body.contains("\"balance\": \"40\"")
                    || earned.body.contains("\"balance\":\"40\""),
                "\(earned)")

            let at = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-120))
            let lines = (0..<2).map { index in
                #"{"customerId": "\#(customer.customerID)", "touchpoint": {"eventId": "http-\#(index)", "occurredAt": "\#(at)", "channel": "CHANNEL_WEB", "kind": "TOUCHPOINT_KIND_PAGE_VIEW", "direction": "TOUCHPOINT_DIRECTION_INBOUND"}}"#
            }
            let recorded = try await post(
                stack.httpPort, "customer360.v1.InteractionService/RecordTouchpoints", key: admin,
                body: lines.joined(separator: "\n"))
            #expect(recorded.status == 200, "\(recorded)")
            #expect(try Customer360_V1_RecordTouchpointsResponse(jsonString: recorded.body).stored == 2, "\(recorded)")

            let exported = try await post(
                stack.httpPort, "customer360.v1.InteractionService/ExportTimeline", key: admin,
                body: #"{"customerId": "\#(customer.customerID)"}"#)
            #expect(exported.status == 200 && exported.contentType.hasPrefix("application/x-ndjson"), "\(exported)")
            let chunks = try exported.body.split(separator: "\n").map {
                try Customer360_V1_ExportTimelineResponse(jsonString: String($0))
            }
            #expect(Set(chunks.flatMap(\.touchpoints).map(\.eventID)) == ["http-0", "http-1"])
        }
    }

    @Test(
        "over HTTP the same policy holds: a viewer is 403 naming the role needed, an internal or unknown RPC 501, bad JSON 400"
    )
    func refusalsOverHTTP() async throws {
        try await withGatewayStack { stack in
            let viewer = try await stack.gateway.createApiKey(
                .with {
                    $0.name = "http-viewer"
                    $0.role = .viewer
                }, metadata: bearer(stack.adminSecret)
            ).secret
            let denied = try await post(
                stack.httpPort, "customer360.v1.ProfileService/CreateCustomer", key: viewer,
                body: #"{"givenName": "No"}"#)
            #expect(denied.status == 403 && denied.body.contains("needs the agent role"), "\(denied)")
            let hidden = try await post(
                stack.httpPort, "customer360.v1.ProfileService/UpsertTraits",
                key: stack.adminSecret, body: "{}")
            #expect(hidden.status == 501 && hidden.body.contains("UNIMPLEMENTED"), "\(hidden)")
            let unknown = try await post(
                stack.httpPort, "customer360.v1.ProfileService/NoSuchMethod",
                key: stack.adminSecret, body: "{}")
            #expect(unknown.status == 501, "\(unknown)")
            let malformed = try await post(
                stack.httpPort, "customer360.v1.ProfileService/CreateCustomer",
                key: stack.adminSecret, body: #"{"nope": 1}"#)
            #expect(malformed.status == 400 && malformed.body.contains("INVALID_ARGUMENT"), "\(malformed)")
            let listed = try await stack.gateway.listCustomers(.init(), metadata: bearer(stack.adminSecret))
            #expect(!listed.customers.contains { $0.givenName == "No" })
        }
    }
}
