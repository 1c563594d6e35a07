public import C360Clients
public import C360Contracts
import C360ServerKit
public import Foundation
public import GRPCCore
import Synchronization

/// The API keys and audit log of a gateway replica: the authority gateway's (`GatewayAuthorityService`), asked over
/// its internal port. Nothing is kept here, so a replica needs no volume and any number of them can run.
///
/// Audit records of calls made at the same time travel together (`AuditBatcher`): each call still waits until its
/// record is stored, but the authority writes one transaction per batch, not per call. A call whose record the
/// authority did not confirm fails, as on a gateway with its own database.
public struct AuthorityRecords: AccessRecords {
    private let client: Customer360_V1_GatewayAuthorityService.Client<PeerTransport>
    private let deadline: Duration
    private let batcher: AuditBatcher

    /// - Parameter deadline: Of each call to the authority.
    public init(client: GRPCClient<PeerTransport>, deadline: Duration) {
        let client = Customer360_V1_GatewayAuthorityService.Client(wrapping: client)
        self.client = client
        self.deadline = deadline
        self.batcher = AuditBatcher { records in
            // Sent again once if the answer was lost: the authority skips the records it stored the first time.
            try await Self.retryingOnce {
                _ = try await client.appendAuditRecords(
                    .with { $0.records = records.map(\.proto) }, options: CallOptions.deadline(deadline))
            }
        }
    }

    public func findKey(secretHash: String, usedAt now: Date) async throws -> ApiKey? {
        let answer = try await ask {
            try await client.findApiKey(.with { $0.secretHash = secretHash }, options: options)
        }
        guard answer.found else { return nil }
        return try ApiKey(proto: answer.apiKey)
    }

    @discardableResult
    public func append(_ records: [AuditRecord]) async throws -> Int {
        try await ask { try await batcher.append(records) }
        return records.count
    }

    @discardableResult
    public func createKey(_ key: ApiKey, secretHash: String) async throws -> ApiKey {
        let stored = try await ask {
            try await Self.retryingOnce {
                try await client.storeApiKey(
                    .with {
                        $0.apiKey = key.proto
                        $0.secretHash = secretHash
                    }, options: options)
            }
        }
        return try ApiKey(proto: stored)
    }

    public func revoke(keyID: String, at now: Date) async throws -> ApiKey {
        let revoked = try await ask { try await client.revokeApiKey(.with { $0.keyID = keyID }, options: options) }
        return try ApiKey(proto: revoked)
    }

    public func listKeys(
        _ request: Customer360_V1_ListApiKeysRequest, at now: Date
    ) async throws -> Customer360_V1_ListApiKeysResponse {
        try await ask { try await client.listApiKeys(request, options: options) }
    }

    public func listAudit(
        _ request: Customer360_V1_ListAuditLogRequest
    ) async throws -> Customer360_V1_ListAuditLogResponse {
        try await ask { try await client.listAuditLog(request, options: options) }
    }

    public func verifyAudit() async throws -> Customer360_V1_VerifyAuditLogResponse {
        // The whole log is read: give it the time a long log takes rather than the per-call deadline.
        var options = CallOptions.defaults
        options.timeout = max(deadline, .seconds(60))
        return try await ask { try await client.verifyAuditLog(.init(), options: options) }
    }

    private var options: CallOptions { CallOptions.deadline(deadline) }

    /// Runs `call`, answering a lost or late authority as `GatewayError.authorityUnavailable`; the authority's own
    /// answers (a key not found, the last admin key, a bad page token) pass through as it gave them.
    private func ask<Answer>(_ call: () async throws -> Answer) async throws -> Answer {
        do {
            return try await call()
        } catch let error as RPCError where [.unavailable, .deadlineExceeded, .cancelled].contains(error.code) {
            throw GatewayError.authorityUnavailable("\(error.code): \(error.message)")
        }
    }

    /// Runs an idempotent `call` again once when its answer was lost on the way (UNAVAILABLE).
    static func retryingOnce<Answer>(_ call: () async throws -> Answer) async throws -> Answer {
        do {
            return try await call()
        } catch let error as RPCError where error.code == .unavailable {
            return try await call()
        }
    }
}

/// Sends the audit records of calls made at the same time to the authority together: the first caller starts a
/// sender, which sends everything waiting, then whatever arrived meanwhile, until nothing waits. Each caller resumes
/// when the batch holding its records is stored (or fails with that batch's error).
final class AuditBatcher: Sendable {
    /// The most records in one send (the authority takes up to 1,000).
    static let maxBatch = 500

    private struct Waiting {
        var records: [AuditRecord]
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var sending = false
    }

    private let state = Mutex(State())
    private let send: @Sendable ([AuditRecord]) async throws -> Void

    init(send: @escaping @Sendable ([AuditRecord]) async throws -> Void) {
        self.send = send
    }

    func append(_ records: [AuditRecord]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let startSender = state.withLock { state in
                state.waiting.append(Waiting(records: records, continuation: continuation))
                defer { state.sending = true }
                return !state.sending
            }
            // A task of its own, so no caller waits on other callers' batches once its own is stored; detached, so the
            // batch does not carry the first caller's request id.
            if startSender { Task.detached { await self.sendUntilEmpty() } }
        }
    }

    /// Callers waiting for a send to start (for tests).
    var waiting: Int { state.withLock { $0.waiting.count } }

    private func sendUntilEmpty() async {
        while let batch = nextBatch() {
            do {
                try await send(batch.flatMap(\.records))
                for waiting in batch { waiting.continuation.resume() }
            } catch {
                for waiting in batch { waiting.continuation.resume(throwing: error) }
            }
        }
    }

    /// Takes the callers whose records fit one send (at least one), or ends the sender when none wait.
    private func nextBatch() -> [Waiting]? {
        state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.sending = false
                return nil
            }
            var count = 0
            var taken = 0
            for waiting in state.waiting {
                if taken > 0, count + waiting.records.count > Self.maxBatch { break }
                count += waiting.records.count
                taken += 1
            }
            defer { state.waiting.removeFirst(taken) }
            return Array(state.waiting.prefix(taken))
        }
    }
}
