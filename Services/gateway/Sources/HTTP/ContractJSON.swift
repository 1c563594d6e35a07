import C360Clients
import C360Contracts
import C360ServerKit
import Foundation
import GRPCCore
import GRPCInProcessTransport
import Hummingbird
import SwiftProtobuf

/// The HTTP/JSON face of every RPC the contracts declare: `POST /api/v1/<package.Service>/<Method>` with the
/// protobuf JSON mapping, called through the in-process gateway so the same access policy, audit and redaction apply
/// as over gRPC. Unary answers are one JSON document; server-streaming answers are newline-delimited JSON; a
/// client-streaming request body is newline-delimited JSON, one request message a line.
///
/// Messages are transcoded by name (`C360MessageTypes`, generated) from the method's declared input and output types
/// (`ContractCatalog`): no route is written by hand.
struct ContractJSON: Sendable {
    private let client: GRPCClient<InProcessTransport.Client>
    private let catalog: ContractCatalog
    private let types: [String: any SwiftProtobuf.Message.Type]

    init(client: GRPCClient<InProcessTransport.Client>, catalog: ContractCatalog = .current) {
        self.client = client
        self.catalog = catalog
        self.types = Dictionary(
            C360MessageTypes.all.map { ($0.protoMessageName, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Calls `service/method` with the JSON `body`; nil when the contracts declare no such method.
    func call(service: String, method name: String, body: ByteBuffer, metadata: Metadata) throws -> HTTPStream? {
        guard let method = catalog.method("\(service)/\(name)"), let input = types[method.inputType],
            let output = types[method.outputType]
        else { return nil }
        let bytes = body.getBytes(at: body.readerIndex, length: body.readableBytes) ?? []
        let messages: [[UInt8]]
        if method.clientStreaming {
            messages = try String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
                .filter { !$0.allSatisfy(\.isWhitespace) }
                .map { try Self.binary(input, fromJSON: Array($0.utf8)) }
        } else {
            messages = [try Self.binary(input, fromJSON: bytes)]
        }
        let descriptor = MethodDescriptor(fullyQualifiedService: method.service, method: method.name)
        let request = StreamingClientRequest(of: [UInt8].self, metadata: metadata) { writer in
            try await writer.write(contentsOf: messages)
        }
        let client = self.client
        let streaming = method.serverStreaming
        let headers = HTTPStream.Headers()
        return HTTPStream(contentType: streaming ? "application/x-ndjson" : "application/json", headers: headers) {
            emit in
            try await client.bidirectionalStreaming(
                request: request, descriptor: descriptor, serializer: RawMessage(), deserializer: RawMessage(),
                options: .defaults
            ) { response in
                guard !streaming else {
                    for try await message in response.messages {
                        try await emit(try Self.json(output, fromBinary: message) + "\n")
                    }
                    return
                }
                // One answer: held until the call ends, so what its trailers say can go in the response's headers.
                var answer: [UInt8]?
                for try await part in response.bodyParts {
                    switch part {
                    case .message(let message): answer = message
                    case .trailingMetadata(let trailers):
                        for key in Self.passedOnTrailers {
                            if let value = trailers[stringValues: key].first(where: { _ in true }) {
                                headers.add(key, value)
                            }
                        }
                    }
                }
                if let answer { try await emit(try Self.json(output, fromBinary: answer)) }
            }
        }
    }

    /// gRPC trailers a unary answer's HTTP response carries as headers: a partial answer across shards names the
    /// shards it lacks (`c360-missing-shards`), which an HTTP client must see as a gRPC client does.
    static let passedOnTrailers = [AcrossShards.missingShardsKey]

    /// A request's JSON (empty means the default message) as protobuf bytes; unknown fields are refused.
    private static func binary(_ type: any SwiftProtobuf.Message.Type, fromJSON json: [UInt8]) throws -> [UInt8] {
        func encode<Request: SwiftProtobuf.Message>(_: Request.Type) throws -> [UInt8] {
            let request = json.isEmpty ? Request() : try Request(jsonUTF8Bytes: json, options: JSONAPI.decoding)
            return try request.serializedBytes()
        }
        do {
            return try encode(type)
        } catch {
            throw RPCError(code: .invalidArgument, message: "the body is not a JSON \(type.protoMessageName): \(error)")
        }
    }

    private static func json(_ type: any SwiftProtobuf.Message.Type, fromBinary bytes: [UInt8]) throws -> String {
        func decode<Response: SwiftProtobuf.Message>(_: Response.Type) throws -> String {
            try Response(serializedBytes: bytes).jsonString()
        }
        return try decode(type)
    }
}
