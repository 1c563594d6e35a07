public import GRPCCore

/// The status code of the RPC error `call` ends with; nil when it succeeds or fails with anything else. The one
/// RPC-status helper every test target shares: `#expect(await code { … } == .notFound)`.
public func code(of call: () async throws -> Void) async -> RPCError.Code? {
    do {
        try await call()
        return nil
    } catch let error as RPCError {
        return error.code
    } catch {
        return nil
    }
}
