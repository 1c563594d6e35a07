import AsyncHTTPClient
public import C360ServerKit
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// Delivers SMS and push messages by POSTing them as JSON to an HTTP webhook — the way SMS gateways and push relays
/// are integrated — signed so the receiver can tell the request came from us: `X-C360-Signature: sha256=<hex>` is the
/// HMAC-SHA256 of the exact body bytes under the shared secret, `X-C360-Idempotency-Key` the message id (the same on
/// a resend after a crash). 2xx is delivered; 408, 429, 5xx and network errors are transient (retried); other 4xx
/// permanent.
public struct WebhookAdapter: MessageAdapter {
    public let url: String
    /// The HMAC key's bytes (`SymmetricKey` is not `Sendable`).
    let secret: Data
    let timeout: Duration

    public var channels: Set<C360ServerKit.Channel> { [.sms, .push] }
    /// The webhook contract: receivers drop a repeated `X-C360-Idempotency-Key`.
    public var dropsRepeats: Bool { true }

    public init?(url: String, secret: String, timeout: Duration = .seconds(10)) {
        guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme),
            parsed.host != nil, !secret.isEmpty
        else { return nil }
        self.url = url
        self.secret = Data(secret.utf8)
        self.timeout = timeout
    }

    /// The JSON body a receiver gets.
    struct Payload: Encodable {
        var messageID: String
        var customerID: String
        var channel: String
        var recipient: String
        var subject: String
        var body: String
        var language: String

        /// The receiver's JSON is snake_case, as every other wire name of Customer 360 is.
        enum CodingKeys: String, CodingKey {
            case messageID = "message_id"
            case customerID = "customer_id"
            case channel, recipient, subject, body, language
        }
    }

    /// `sha256=<hex of HMAC-SHA256(secret, body)>`.
    static func signature(_ body: Data, key: SymmetricKey) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: key)
        let digits = Array("0123456789abcdef".utf8)
        var hex = [UInt8]()
        hex.reserveCapacity(64)
        for byte in code {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return "sha256=" + String(decoding: hex, as: UTF8.self)
    }

    public func deliver(_ envelope: Envelope) async throws(DeliveryError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body: Data
        do {
            body = try encoder.encode(
                Payload(
                    messageID: envelope.messageID, customerID: envelope.customerID,
                    channel: envelope.channel.rawValue,
                    recipient: envelope.recipient, subject: envelope.subject, body: envelope.body,
                    language: envelope.language))
        } catch {
            throw .permanent("the message could not be encoded: \(error)")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "X-C360-Signature", value: Self.signature(body, key: SymmetricKey(data: secret)))
        request.headers.add(name: "X-C360-Idempotency-Key", value: envelope.messageID)
        request.body = .bytes(ByteBuffer(data: body))
        let status: HTTPResponseStatus
        do {
            let response = try await HTTPClient.shared.execute(
                request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
            status = response.status
            _ = try? await response.body.collect(upTo: 64 * 1024)
        } catch {
            throw .transient("webhook \(url): \(error)")
        }
        switch status.code {
        case 200..<300: return
        case 408, 429, 500...: throw .transient("webhook \(url) answered \(status.code) \(status.reasonPhrase)")
        default: throw .permanent("webhook \(url) answered \(status.code) \(status.reasonPhrase)")
        }
    }
}
