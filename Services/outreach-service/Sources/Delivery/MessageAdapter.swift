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
/// gateways are integrated). Every delivery carries the message id (SMTP `Message-ID`, webhook
/// `X-C360-Idempotency-Key`). A delivery a crash interrupted is resent only through an adapter whose receiver drops
/// repeats (`dropsRepeats`); otherwise it fails as "delivery unknown" — never twice.
public protocol MessageAdapter: Sendable {
    /// The channels this adapter delivers.
    var channels: Set<Channel> { get }
    /// Whether the receiver drops a repeat of the idempotency key, so a delivery interrupted by a crash may be
    /// resent safely.
    var dropsRepeats: Bool { get }
    func deliver(_ envelope: Envelope) async throws(DeliveryError)
}
