import C360Clients
public import C360StoreKit
import Foundation
import GRDB
public import GRPCCore
public import Logging
import Metrics

/// Wraps every RPC a service serves: gives it a request id and a logger carrying it, counts it and times it by method
/// and status code, logs its outcome, and turns any error that is not already a gRPC status into `internalError`
/// with the request id, so SQL and stack traces never reach a client (they go to the log instead).
public struct RequestInterceptor: ServerInterceptor {
    private let logger: Logger
    /// The error metadata a status may carry to this server's callers (`RPCOutcome.relayedErrorMetadata`, less what
    /// only Customer 360's own processes act on when the server answers clients).
    private let relayed: [String]

    /// - Parameter answersClients: The server is the front door (the gateway): the trailers that route calls between
    ///   Customer 360's own processes (`WrongShard.familyKey`) stay inside.
    public init(logger: Logger, answersClients: Bool = false) {
        self.logger = logger
        self.relayed =
            answersClients
            ? RPCOutcome.relayedErrorMetadata.filter {
                ![WrongShard.familyKey, WrongShard.familyMemberKey].contains($0)
            }
            : RPCOutcome.relayedErrorMetadata
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let requestID =
            request.metadata[stringValues: RequestContext.requestIDKey].first(where: { _ in true })
            .map { String($0.prefix(128)) } ?? UUID().uuidString.lowercased()
        let method = context.descriptor.fullyQualifiedMethod
        var requestLogger = logger
        requestLogger[metadataKey: "request_id"] = "\(requestID)"
        requestLogger[metadataKey: "rpc"] = "\(method)"
        let scope = RequestContext(requestID: requestID, logger: requestLogger)
        let outcome = RPCOutcome(method: method, logger: requestLogger, started: .now, relayed: relayed)

        do {
            var response = try await RequestContext.$current.withValue(scope) {
                try await next(request, context)
            }
            switch response.accepted {
            case .success(var contents):
                let producer = contents.producer
                contents.producer = { writer in
                    try await RequestContext.$current.withValue(scope) {
                        do {
                            let trailers = try await producer(writer)
                            outcome.finish(code: nil)
                            return trailers
                        } catch {
                            throw outcome.fail(error, requestID: requestID)
                        }
                    }
                }
                contents.metadata.addString(requestID, forKey: RequestContext.requestIDKey)
                response.accepted = .success(contents)
            case .failure(let error) where error.code == .unknown && error.cause != nil:
                // An interceptor inside this one (the caller check, the shard check) let a handler's own error
                // through, and gRPC wrapped it as UNKNOWN without a message: map what the handler threw instead.
                response.accepted = .failure(outcome.fail(error.cause ?? error, requestID: requestID))
            case .failure(let error):
                outcome.finish(code: error.code, message: error.message)
                response.accepted = .failure(outcome.ownStatus(error))
            }
            return response
        } catch {
            throw outcome.fail(error, requestID: requestID)
        }
    }
}

/// Records how one RPC ended: a metric sample and one log line.
private struct RPCOutcome: Sendable {
    let method: String
    let logger: Logger
    let started: ContinuousClock.Instant
    /// The error metadata passed on to the caller.
    let relayed: [String]

    func finish(code: RPCError.Code?, message: String = "") {
        let elapsed = ContinuousClock.now - started
        let status = code.map { "\($0)" } ?? "ok"
        Counter(label: "grpc_server_requests_total", dimensions: [("method", method), ("code", status)]).increment()
        Timer(label: "grpc_server_request_duration_seconds", dimensions: [("method", method)]).record(duration: elapsed)
        let millis = elapsed / .milliseconds(1)
        var metadata: Logger.Metadata = ["code": "\(status)", "ms": "\(String(format: "%.2f", millis))"]
        if !message.isEmpty { metadata["error"] = "\(message)" }
        logger.log(
            level: code == nil ? .debug : (code == .internalError || code == .unknown ? .error : .info),
            "rpc finished", metadata: metadata)
    }

    /// Metadata an error may carry to the client: advice a caller acts on (`retry-after` of a rate limit, the shard
    /// map epoch of a shard's refusal of another shard's customer, the survivor whose shard holds a merged-away id).
    static let relayedErrorMetadata = [
        "retry-after", WrongShard.epochKey, WrongShard.familyKey, WrongShard.familyMemberKey,
    ]

    /// A status relayed from a peer carries the peer's trailers (its grpc-status, content-type, …); sending those
    /// again as ours breaks the HTTP/2 stream, so only the code, the message and `relayedErrorMetadata` travel on.
    func ownStatus(_ error: RPCError) -> RPCError {
        guard !error.metadata.isEmpty else { return error }
        var kept = Metadata()
        for key in relayed {
            for value in error.metadata[stringValues: key] { kept.addString(value, forKey: key) }
        }
        return RPCError(code: error.code, message: error.message, metadata: kept)
    }

    /// Records the failure and returns the error the client should see.
    func fail(_ error: any Error, requestID: String) -> RPCError {
        if let rpcError = error as? RPCError {
            finish(code: rpcError.code, message: rpcError.message)
            return ownStatus(rpcError)
        }
        if let convertible = error as? any RPCErrorConvertible {
            let rpcError = RPCError(convertible)
            finish(code: rpcError.code, message: rpcError.message)
            return rpcError
        }
        if let keyring = error as? KeyringError {
            let rpcError = keyring.rpcError
            finish(code: rpcError.code, message: rpcError.message)
            return rpcError
        }
        if let database = error as? DatabaseError, database.message == SlotFence.refusal {
            let rpcError = RPCError(
                code: .unavailable,
                message: """
                    this customer's data is being moved to another shard; retry in a few seconds, when the shard map \
                    names its new owner
                    """)
            finish(code: rpcError.code, message: rpcError.message)
            return rpcError
        }
        if error is CancellationError {
            finish(code: .cancelled, message: "cancelled")
            return RPCError(code: .cancelled, message: "the call was cancelled")
        }
        finish(code: .internalError, message: ErrorLog.describe(error))
        return RPCError(
            code: .internalError,
            message: "internal error; the server log has the details under request id \(requestID)")
    }
}

extension KeyringError {
    /// What a client is told when sealed data cannot be opened. Every service that seals meets these in its reads
    /// (a row restored from a backup taken before an erasure, a KEK left out at start-up), so the mapping is here
    /// once rather than in each service's errors.
    public var rpcError: RPCError {
        switch self {
        case .shredded(let customerID):
            RPCError(code: .notFound, message: "customer \(customerID) was erased: their data can no longer be read")
        case .tampered:
            RPCError(code: .dataLoss, message: description)
        case .unknownKeyEncryptionKey, .badKeyEncryptionKey:
            RPCError(code: .failedPrecondition, message: description)
        }
    }
}

/// What the server log says of an error no handler expected.
public enum ErrorLog {
    /// The error in full, except a row GRDB could not decode, which is described by its reason alone (the column and
    /// the value it could not read): its full description prints the whole row and the query's arguments, and those
    /// hold customers' ids, purchases and blind indexes that a log line has no business carrying.
    public static func describe(_ error: any Error) -> String {
        if let decoding = error as? RowDecodingError {
            let reason = decoding.description.components(separatedBy: " - ").first ?? ""
            return "RowDecodingError: \(reason)"
        }
        return String(reflecting: error)
    }
}
