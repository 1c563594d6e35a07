import C360Contracts
import GRPCCore
import Synchronization

/// Merges the answers of one client stream that was split over several shards into the answer the whole stream
/// would have had, given the positions (in the whole stream) of the messages each shard received.
public typealias ShardStreamMerge = @Sendable (_ answers: [(answer: [UInt8], positions: [Int])]) throws -> [UInt8]

/// The merges of the client streams whose messages may name customers of several shards.
public enum ShardStreamMerges {
    /// By fully qualified method. A test walks every client-streaming RPC routed by customer and fails when one has
    /// no merge here, so a new one cannot be split wrongly.
    public static let all: [String: ShardStreamMerge] = [
        Customer360_V1_InteractionService.Method.RecordTouchpoints.descriptor.fullyQualifiedMethod:
            recordTouchpoints
    ]

    /// The counts add up; each rejection's `index` is put back to the message's position in the whole stream.
    static let recordTouchpoints: ShardStreamMerge = { answers in
        var merged = Customer360_V1_RecordTouchpointsResponse()
        for (bytes, positions) in answers {
            let answer = try Customer360_V1_RecordTouchpointsResponse(serializedBytes: bytes)
            merged.received += answer.received
            merged.stored += answer.stored
            merged.duplicate += answer.duplicate
            merged.rejected += answer.rejected
            for var rejection in answer.rejections {
                if rejection.index >= 0, rejection.index < positions.count {
                    rejection.index = Int64(positions[Int(rejection.index)])
                }
                merged.rejections.append(rejection)
            }
        }
        merged.rejections.sort { $0.index < $1.index }
        return try merged.serializedBytes()
    }
}

/// One client stream through a sharded transport whose messages are each sent to the shard owning their customer:
/// a sub-stream per shard, opened at its first message, and one answer merged from theirs
/// (`ShardStreamMerges`). A shard that fails fails the call with its status; what other shards stored stands, as
/// messages before a failure do in any stream.
final class SplitStreamCall: Sendable {
    typealias Bytes = ShardedClientTransport.Bytes
    typealias Part = RPCRequestPart<Bytes>
    typealias Outbound = RPCWriter<Part>.Closable

    /// A sub-stream the writer needs opened, and where to hand its writer.
    struct Opening: Sendable {
        var address: String
        var opened: AsyncStream<Result<Outbound, any Error>>.Continuation
    }

    let transport: ShardedClientTransport
    let descriptor: MethodDescriptor
    let options: CallOptions
    let merge: ShardStreamMerge
    let responses: AsyncThrowingStream<RPCResponsePart<Bytes>, any Error>
    let writer: Writer
    private let respond: AsyncThrowingStream<RPCResponsePart<Bytes>, any Error>.Continuation
    private let openings: AsyncStream<Opening>

    init(
        transport: ShardedClientTransport, descriptor: MethodDescriptor, options: CallOptions,
        route: ShardRouting.Route, merge: @escaping ShardStreamMerge
    ) {
        self.transport = transport
        self.descriptor = descriptor
        self.options = options
        self.merge = merge
        (responses, respond) = AsyncThrowingStream.makeStream()
        let (openings, open) = AsyncStream.makeStream(of: Opening.self)
        self.openings = openings
        self.writer = Writer(open: open) { message in
            let customerID = transport.customerID(in: message, route: route)
            let map = transport.currentMap()
            // A message without a customer goes to the first shard, which rejects it as any shard would.
            let shard =
                customerID.flatMap { map.owner(of: $0, in: transport.service) }
                ?? map.services[transport.service]?.first
            return shard?.address ?? ""
        }
    }

    /// Runs each shard's sub-stream until the writer finished them all, then answers with the merged result.
    func relay() async {
        do {
            let answers = try await withThrowingTaskGroup(of: (String, [RPCResponsePart<Bytes>]).self) { group in
                for await opening in openings {
                    let (transport, descriptor, options) = (self.transport, self.descriptor, self.options)
                    group.addTask {
                        do {
                            return try await transport.transport(to: opening.address).withStream(
                                descriptor: descriptor, options: options
                            ) { stream, _ in
                                opening.opened.yield(.success(stream.outbound))
                                opening.opened.finish()
                                var parts: [RPCResponsePart<Bytes>] = []
                                for try await part in stream.inbound { parts.append(part) }
                                return (opening.address, parts)
                            }
                        } catch {
                            opening.opened.yield(.failure(error))
                            opening.opened.finish()
                            throw error
                        }
                    }
                }
                var answers: [String: [RPCResponsePart<Bytes>]] = [:]
                for try await (address, parts) in group { answers[address] = parts }
                return answers
            }
            try answer(from: answers)
        } catch {
            respond.finish(throwing: error)
        }
    }

    private func answer(from answers: [String: [RPCResponsePart<Bytes>]]) throws {
        var merged: [(answer: [UInt8], positions: [Int])] = []
        var metadata = Metadata()
        for (address, parts) in answers.sorted(by: { $0.key < $1.key }) {
            var message: [UInt8]?
            for part in parts {
                switch part {
                case .metadata(let received):
                    if metadata.isEmpty { metadata = received }
                case .message(let bytes):
                    message = bytes.withUnsafeBytes { Array($0) }
                case .status(let status, let trailers):
                    guard status.code == .ok else {
                        // The first shard that failed speaks for the call.
                        respond.yield(.status(status, trailers))
                        respond.finish()
                        return
                    }
                }
            }
            guard let message else {
                throw RPCError(code: .internalError, message: "shard at \(address) ended the stream without an answer")
            }
            merged.append((message, writer.positions(of: address)))
        }
        respond.yield(.metadata(metadata))
        respond.yield(.message(Bytes(try merge(merged))))
        respond.yield(.status(Status(code: .ok, message: ""), [:]))
        respond.finish()
    }

    /// The request side: each message to its shard's sub-stream, in order.
    final class Writer: ClosableRPCWriterProtocol, Sendable {
        typealias Element = Part

        private struct State {
            var metadata = Metadata()
            var subStreams: [String: Outbound] = [:]
            var positions: [String: [Int]] = [:]
            var count = 0
            var finished = false
        }

        private let state = Mutex(State())
        private let open: AsyncStream<Opening>.Continuation
        private let address: @Sendable (Bytes) -> String

        init(open: AsyncStream<Opening>.Continuation, address: @escaping @Sendable (Bytes) -> String) {
            self.open = open
            self.address = address
        }

        /// Which positions of the whole stream went to the shard at `address`.
        func positions(of address: String) -> [Int] { state.withLock { $0.positions[address] ?? [] } }

        func write(_ element: Part) async throws {
            switch element {
            case .metadata(let metadata):
                state.withLock { $0.metadata = metadata }
            case .message(let bytes):
                let target = address(bytes)
                let outbound = try await subStream(to: target)
                state.withLock { state in
                    state.positions[target, default: []].append(state.count)
                    state.count += 1
                }
                try await outbound.write(.message(bytes))
            }
        }

        func write(contentsOf elements: some Sequence<Part>) async throws {
            for element in elements { try await write(element) }
        }

        /// The sub-stream to `address`, opened (and sent the call's metadata) on first use.
        private func subStream(to address: String) async throws -> Outbound {
            if let open = state.withLock({ $0.subStreams[address] }) { return open }
            let (opened, continuation) = AsyncStream.makeStream(of: Result<Outbound, any Error>.self)
            open.yield(Opening(address: address, opened: continuation))
            var results = opened.makeAsyncIterator()
            guard let result = await results.next() else { throw CancellationError() }
            let outbound = try result.get()
            let metadata = state.withLock { state in
                state.subStreams[address] = outbound
                return state.metadata
            }
            try await outbound.write(.metadata(metadata))
            return outbound
        }

        func finish() async {
            let (open, empty) = state.withLock { state in
                state.finished = true
                return (Array(state.subStreams.values), state.subStreams.isEmpty)
            }
            // An empty stream still gets its (empty) answer from one shard.
            if empty, let first = try? await subStream(to: address(Bytes([]))) {
                await first.finish()
            }
            for outbound in open { await outbound.finish() }
            self.open.finish()
        }

        func finish(throwing error: any Error) async {
            let open = state.withLock { Array($0.subStreams.values) }
            for outbound in open { await outbound.finish(throwing: error) }
            self.open.finish()
        }
    }
}
