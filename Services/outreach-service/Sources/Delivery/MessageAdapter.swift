public import C360ServerKit

/// One message ready for an adapter: rendered, addressed, with the id receivers use to drop a repeat.
public struct Envelope: Sendable, Equatable {
    public var messageID: String
    public var customerID: String
    public var channel: Channel
    public var recipient: String
    public var subject: String
    public var body: String
    public var language: String
}

/// Why an adapter did not deliver.
public enum DeliveryError: Error, Equatable, Sendable {
    /// Worth retrying (connection refused, 4xx SMTP reply, HTTP 5xx/429, time-out).
    case transient(String)
    /// Retrying cannot help (5xx SMTP reply, HTTP 4xx: the address or the request is wrong).
    case permanent(String)
}

/// Hands messages of some channels to the outside world: SMTP for email, an HTTP webhook for SMS and push (the way SMS
/// gateways are integrated). A resend after a crash carries the same `messageID` (SMTP `Message-ID`, webhook
/// `X-C360-Idempotency-Key`), so a receiver that honours it delivers the message once.
public protocol MessageAdapter: Sendable {
    /// The channels this adapter delivers.
    var channels: Set<Channel> { get }
    func deliver(_ envelope: Envelope) async throws(DeliveryError)
}
