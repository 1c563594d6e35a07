public import GRPCCore
public import Testing

/// The one way a test states that a call fails with a gRPC status: `await expectStatus(.notFound, containing: "was
/// erased") { try await … }`. It records an issue at the caller's line when the call succeeds, fails with another
/// code, throws something that is not an `RPCError`, or answers a message without `fragment` (every refusal names
/// what to fix, so most tests check a word of it), and returns the error for further checks.
///
/// A separate target from `C360TestSupport`, which `bench` links and which therefore cannot import Testing.
@discardableResult
public func expectStatus(
    _ code: RPCError.Code, containing fragment: String = "", _ comment: Comment? = nil,
    sourceLocation: SourceLocation = #_sourceLocation, _ call: () async throws -> Void
) async -> RPCError? {
    let context = comment.map { "\($0): " } ?? ""
    do {
        try await call()
        Issue.record("\(context)expected \(code), but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as RPCError {
        #expect(error.code == code, "\(context)\(error.code): \(error.message)", sourceLocation: sourceLocation)
        #expect(
            fragment.isEmpty || error.message.contains(fragment),
            "\(context)the message does not say '\(fragment)': \(error.message)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("\(context)expected \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// States that a call succeeds; a failure is recorded with its status and message at the caller's line.
public func expectOK(
    _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation, _ call: () async throws -> Void
) async {
    let context = comment.map { "\($0): " } ?? ""
    do {
        try await call()
    } catch let error as RPCError {
        Issue.record("\(context)expected OK, got \(error.code): \(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("\(context)expected OK, got \(error)", sourceLocation: sourceLocation)
    }
}
