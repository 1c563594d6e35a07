public import GRPCCore

/// Passes request bytes through unchanged, so a client can send messages it encoded itself.
public struct RawBytesSerializer: MessageSerializer {
    public typealias Message = [UInt8]

    public init() {}

    public func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes {
        Bytes(message)
    }
}

/// Hands response bytes over undecoded.
public struct RawBytesDeserializer: MessageDeserializer {
    public typealias Message = [UInt8]

    public init() {}

    public func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

/// How one call made with `callRaw` ended.
public struct RawCallResult: Sendable {
    /// The status code, `.ok`-less: `nil` when the call succeeded.
    public var code: RPCError.Code?
    /// The status message of a failed call.
    public var message: String
    /// An error the client raised itself (not a status from the server), e.g. cancellation.
    public var clientError: String?
    /// The response messages received (at most the number asked for).
    public var responses: [[UInt8]]
    /// How long the call took.
    public var elapsed: Duration

    /// "OK", "INVALID_ARGUMENT: customer_id is required", or "client error: …".
    public var summary: String {
        if let clientError { return "client error: \(clientError)" }
        guard let code else { return "OK" }
        return "\(code): \(message)"
    }
}

extension GRPCClient {
    /// Calls `method` with pre-encoded request `messages`, whatever its streaming shape: a unary or server-streaming
    /// RPC gets the first message, a client-streaming or bidirectional one all of them. Reads at most
    /// `maxResponses` responses (then cancels the call), and never throws: the outcome is in the result.
    public func callRaw(
        _ method: RPCMethodShape, messages: [[UInt8]], metadata: Metadata = [:], timeout: Duration,
        maxResponses: Int = 20
    ) async -> RawCallResult {
        var options = CallOptions.defaults
        options.timeout = timeout
        let descriptor = MethodDescriptor(fullyQualifiedService: method.service, method: method.method)
        let start = ContinuousClock.now
        var result = RawCallResult(code: nil, message: "", clientError: nil, responses: [], elapsed: .zero)
        do {
            if method.clientStreaming || method.serverStreaming {
                let sent = method.clientStreaming ? messages : Array(messages.prefix(1))
                let request = StreamingClientRequest<[UInt8]>(metadata: metadata) { writer in
                    try await writer.write(contentsOf: sent)
                }
                result.responses = try await bidirectionalStreaming(
                    request: request, descriptor: descriptor, serializer: RawBytesSerializer(),
                    deserializer: RawBytesDeserializer(), options: options
                ) { response in
                    var received: [[UInt8]] = []
                    for try await message in response.messages {
                        received.append(message)
                        if received.count >= maxResponses { break }
                    }
                    return received
                }
            } else {
                let request = ClientRequest(message: messages.first ?? [], metadata: metadata)
                result.responses = try await unary(
                    request: request, descriptor: descriptor, serializer: RawBytesSerializer(),
                    deserializer: RawBytesDeserializer(), options: options
                ) { response in
                    [try response.message]
                }
            }
        } catch let error as RPCError {
            result.code = error.code
            result.message = error.message
        } catch {
            result.clientError = "\(error)"
        }
        result.elapsed = ContinuousClock.now - start
        return result
    }
}
