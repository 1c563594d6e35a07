public import C360Contracts
public import GRPCCore

/// Readiness signals from the services' own change feeds: a test waits for the event that says an asynchronous
/// effect (a merge re-keyed, a re-score) committed, instead of polling or sleeping.
public enum ChangeFeedWait {
    /// Returns once `watch` delivers an event matching `request`; fails after `timeout`.
    public static func first(
        _ request: Customer360_V1_WatchChangesRequest, timeout: Duration = .seconds(15),
        watch: (
            Customer360_V1_WatchChangesRequest, CallOptions,
            @Sendable @escaping (StreamingClientResponse<Customer360_V1_WatchChangesResponse>) async throws ->
                Customer360_V1_ChangeEvent?
        )
            async throws -> Customer360_V1_ChangeEvent?
    ) async throws -> Customer360_V1_ChangeEvent {
        var options = CallOptions.defaults
        options.timeout = timeout
        let event = try await watch(request, options) { response in
            for try await batch in response.messages {
                if let event = batch.events.first { return event }
            }
            return nil
        }
        guard let event else {
            throw RPCError(code: .deadlineExceeded, message: "no matching change within \(timeout)")
        }
        return event
    }

    /// The request for `kind` about `customerID`, from the start of the feed.
    public static func request(_ kind: Customer360_V1_ChangeKind, customer customerID: String)
        -> Customer360_V1_WatchChangesRequest
    {
        .with {
            $0.kinds = [kind]
            $0.customerID = customerID
        }
    }
}

extension Customer360_V1_InteractionService.Client {
    /// Waits until interaction-service has re-keyed `mergedID`'s rows to its survivor.
    public func waitForRekey(of mergedID: String) async throws {
        _ = try await ChangeFeedWait.first(ChangeFeedWait.request(.customerRekeyed, customer: mergedID)) {
            try await watchChanges($0, options: $1, onResponse: $2)
        }
    }
}

extension Customer360_V1_FeedbackService.Client {
    /// Waits until feedback-service has re-keyed `mergedID`'s rows to its survivor.
    public func waitForRekey(of mergedID: String) async throws {
        _ = try await ChangeFeedWait.first(ChangeFeedWait.request(.customerRekeyed, customer: mergedID)) {
            try await watchChanges($0, options: $1, onResponse: $2)
        }
    }
}

extension Customer360_V1_SuccessService.Client {
    /// Waits until success-service has re-keyed `mergedID`'s rows to its survivor.
    public func waitForRekey(of mergedID: String) async throws {
        _ = try await ChangeFeedWait.first(ChangeFeedWait.request(.customerRekeyed, customer: mergedID)) {
            try await watchChanges($0, options: $1, onResponse: $2)
        }
    }
}
