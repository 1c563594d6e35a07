import GRPCCore
import Hummingbird
import Synchronization

/// A server-streaming RPC as one HTTP response whose body is written as the messages arrive.
///
/// The RPC runs in a task of its own. The response waits for its first part: when the call fails before that (no
/// key, a role that may not, an unknown customer) the answer is the usual JSON error with its HTTP status; otherwise
/// it is 200 and the parts follow one by one. A failure after that can only cut the body short. A client that goes
/// away cancels the call.
///
/// At most `maxBufferedParts` parts wait for a client that reads slower than the call produces; one more ends the
/// call and cuts the body short, so a stalled reader costs bounded memory. A change-feed watcher then reconnects with
/// the last sequence it saw and replays from there (the feed's documented resume).
struct HTTPStream: Sendable {
    static let maxBufferedParts = 1_024

    /// The reader fell `maxBufferedParts` behind.
    struct SlowReader: Error, CustomStringConvertible {
        var description: String {
            "the HTTP client read \(HTTPStream.maxBufferedParts) parts behind the call; reconnect and resume from the last one read"
        }
    }

    /// Writes one part of the body.
    typealias Emit = @Sendable (String) async throws -> Void

    let contentType: String
    let run: @Sendable (_ emit: @escaping Emit) async throws -> Void
    /// Headers the call sets before its first part (what a unary call's gRPC trailers say, such as
    /// `c360-missing-shards`); read when the response starts.
    let headers: Headers

    init(
        contentType: String, headers: Headers = Headers(),
        run: @escaping @Sendable (_ emit: @escaping Emit) async throws -> Void
    ) {
        self.contentType = contentType
        self.headers = headers
        self.run = run
    }

    /// Response headers a call names before its first part.
    final class Headers: Sendable {
        private let fields = Mutex<[(name: String, value: String)]>([])

        func add(_ name: String, _ value: String) {
            fields.withLock { $0.append((name, value)) }
        }

        var all: [(name: String, value: String)] { fields.withLock { $0 } }
    }

    /// How the call started: its first part, or the error (or the end) that came instead.
    private enum Start: Sendable {
        case part
        case failure(any Error)
        case empty
    }

    func response(error: @escaping @Sendable (any Error) -> Response) async -> Response {
        let (parts, partSink) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(Self.maxBufferedParts))
        let (starts, startSink) = AsyncStream<Start>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let run = self.run
        let task = Task {
            // Only the first start counts: a finished stream drops later yields.
            @Sendable func start(_ how: Start) {
                startSink.yield(how)
                startSink.finish()
            }
            do {
                try await run { part in
                    if case .dropped = partSink.yield(ByteBuffer(string: part)) { throw SlowReader() }
                    start(.part)
                }
                start(.empty)
                partSink.finish()
            } catch {
                start(.failure(error))
                partSink.finish(throwing: error)
            }
        }
        partSink.onTermination = { _ in task.cancel() }
        var first = starts.makeAsyncIterator()
        switch await first.next() {
        case .failure(let failure):
            return error(failure)
        case .part, .empty, nil:
            var fields: HTTPFields = [.contentType: contentType]
            for (name, value) in headers.all {
                if let field = HTTPFields.Element.Name(name) {
                    fields.append(HTTPFields.Element(name: field, value: value))
                }
            }
            return Response(status: .ok, headers: fields, body: .init(asyncSequence: parts))
        }
    }
}
