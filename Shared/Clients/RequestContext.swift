import Foundation
public import Logging

/// What a handler knows about the RPC it is serving: the request id (from the caller's `x-request-id` metadata or
/// new) and a logger that carries it. Set by `RequestInterceptor` for the duration of each RPC.
public struct RequestContext: Sendable {
    /// The metadata key that carries the request id across service hops.
    public static let requestIDKey = "x-request-id"

    public var requestID: String
    public var logger: Logger

    public init(requestID: String, logger: Logger) {
        self.requestID = requestID
        self.logger = logger
    }

    @TaskLocal public static var current: RequestContext?

    /// The current request's logger, or `fallback` outside an RPC.
    public static func logger(or fallback: Logger) -> Logger {
        current?.logger ?? fallback
    }
}
