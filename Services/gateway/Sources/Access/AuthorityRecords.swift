public import C360Clients
public import C360Contracts
import C360ServerKit
public import Foundation
public import GRPCCore
public import Logging
public import ServiceLifecycle
import Synchronization

/// The API keys and audit log of a gateway replica: the authority gateway's (`GatewayAuthorityService`), asked over
/// its internal port. Nothing is kept here, so a replica needs no volume and any number of them can run.
///
/// Audit records of calls made at the same time travel together (`AuditBatcher`): each call still waits until its
/// record is stored, but the authority writes one transaction per batch, not per call. A call whose record the
/// authority did not confirm fails, as on a gateway with its own database.
public struct AuthorityRecords: AccessRecords {
    /// How long a replica keeps trying to store the audit record of a call it has already made (the authority
    /// restarting) before it fails the call and logs the record.
    public static let auditPatience: Duration = .seconds(10)

    private let client: Customer360_V1_GatewayAuthorityService.Client<PeerTransport>
    private let deadline: Duration
    private let batcher: AuditBatcher
    /// Whether the authority answers: its health stream (`watch`) and every exchange with it say so.
    private let reachable: Reachability
    /// Set once the authority has taken a call of this replica (`acceptsThisReplica`).
    private let accepted = Reachability()
    /// The authority's health stream, kept open while the replica runs: it hears the authority begin to shut down,
    /// or its connection drop, before the next call asks whether it can be audited.
    public let watch: AuthorityWatch

    /// - Parameters:
    ///   - deadline: Of each call to the authority.
    ///   - logger: Where audit records that could not be stored are written in full, so none is lost unseen.
    public init(client connection: GRPCClient<PeerTransport>, deadline: Duration, logger: Logger) {
        let client = Customer360_V1_GatewayAuthorityService.Client(wrapping: connection)
        let reachable = Reachability()
        self.client = client
        self.deadline = deadline
        self.reachable = reachable
        self.watch = AuthorityWatch(
            health: Grpc_Health_V1_Health.Client(wrapping: connection), reachable: reachable, logger: logger)
        self.batcher = AuditBatcher { records in
            do {
                // Sent again while the authority is away: it skips the records it stored the first time.
                try await Self.patiently(for: Self.auditPatience) {
                    _ = try await client.appendAuditRecords(
                        .with { $0.records = records.map(\.proto) }, options: CallOptions.deadline(deadline))
                }
            } catch {
                if let lost = error as? RPCError, Self.isLost(lost) { reachable.set(false) }
                for record in records {
                    logger.error(
                        "audit record not stored: the authority did not take it",
                        metadata: [
                            "audit_id": "\(record.id)", "occurred_at": "\(record.occurredAt)",
                            "actor_key_id": "\(record.actorKeyID)", "actor_role": "\(record.actorRole.rawValue)",
                            "action": "\(record.action.rawValue)", "method": "\(record.method)",
                            "customer_id": "\(record.customerID)", "status_code": "\(record.statusCode)",
                            "request_id": "\(record.requestID)", "client_address": "\(record.clientAddress)",
                            "note": "\(record.note)", "error": "\(error)",
                        ])
                }
                throw error
            }
        }
    }

    /// Whether this replica can work: the authority was last heard serving and has taken one of its calls. The health
    /// stream alone does not say the second (health answers anyone, as probes need), and a replica whose token or
    /// certificate the authority refuses could answer nothing. Once taken, it is not asked again.
    public func acceptsThisReplica() async -> Bool {
        if accepted.value { return true }
        guard reachable.value else { return false }
        do {
            try await readyToAuditByAsking()
        } catch {
            return false
        }
        accepted.set(true)
        return true
    }

    /// Answers at once while the authority is known to serve; otherwise asks it (and fails when it does not answer).
    /// An authority that dies without a word (its node lost) is found only by the record's own send, which then keeps
    /// trying for `auditPatience`.
    public func readyToAudit() async throws {
        guard !reachable.value else { return }
        try await readyToAuditByAsking()
    }

    /// Asks the authority for a key no secret hashes to: an indexed read that stores nothing.
    private func readyToAuditByAsking() async throws {
        _ = try await ask {
            try await client.findApiKey(.with { $0.secretHash = String(repeating: "0", count: 64) }, options: options)
        }
    }

    public func findKey(secretHash: String, usedAt now: Date) async throws -> ApiKey? {
        let answer = try await ask {
            try await client.findApiKey(.with { $0.secretHash = secretHash }, options: options)
        }
        guard answer.found else { return nil }
        return try ApiKey(proto: answer.apiKey)
    }

    /// Sends `records` (each fitted to what the authority stores, so one client's odd input cannot fail the batch
    /// it shares with others). The call they record has already run: a record not stored fails it with
    /// `GatewayError.auditNotStored`, which tells the client not to repeat it blindly.
    @discardableResult
    public func append(_ records: [AuditRecord]) async throws -> Int {
        do {
            try await batcher.append(records.map { $0.fitted() })
        } catch let error as RPCError where Self.isRefusal(error) {
            throw GatewayError.replicaNotAccepted(error.message)
        } catch {
            throw GatewayError.auditNotStored
        }
        return records.count
    }

    @discardableResult
    public func createKey(_ key: ApiKey, secretHash: String) async throws -> ApiKey {
        let stored = try await ask {
            try await Self.patiently(for: deadline * 2) {
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

    /// Runs `call`, answering a lost or late authority as `GatewayError.authorityUnavailable`, and an authority that
    /// does not accept this replica (token, certificate) as `.replicaNotAccepted`; the authority's own answers (a key
    /// not found, the last admin key, a bad page token) pass through as it gave them. Only the health stream says the
    /// authority is back, so an answer sent before it began to shut down cannot undo what the stream heard.
    private func ask<Answer>(_ call: () async throws -> Answer) async throws -> Answer {
        do {
            return try await call()
        } catch let error as RPCError where Self.isLost(error) {
            reachable.set(false)
            throw GatewayError.authorityUnavailable
        } catch let error as RPCError where Self.isRefusal(error) {
            throw GatewayError.replicaNotAccepted(error.message)
        }
    }

    /// Whether `error` says the authority was not reached or did not answer in time (not that it refused).
    static func isLost(_ error: RPCError) -> Bool {
        [.unavailable, .deadlineExceeded, .cancelled].contains(error.code)
    }

    /// Whether `error` is the authority's port refusing this replica itself.
    static func isRefusal(_ error: RPCError) -> Bool {
        [.unauthenticated, .permissionDenied].contains(error.code)
    }

    /// Runs an idempotent `call` until it is answered, again after 0.1 s, 0.2 s … (at most 2 s apart) while the
    /// authority is not reached, for up to `patience`.
    static func patiently<Answer>(for patience: Duration, _ call: () async throws -> Answer) async throws -> Answer {
        let clock = ContinuousClock()
        let until = clock.now + patience
        var pause = Duration.milliseconds(100)
        while true {
            do {
                return try await call()
            } catch let error as RPCError where isLost(error) && clock.now + pause < until {
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(2))
            }
        }
    }
}

/// Follows the authority's `grpc.health.v1.Health/Watch` on its internal port for as long as the replica runs, so
/// `Reachability` turns false the moment the authority begins to shut down (its health turns NOT_SERVING) or its
/// connection drops, and true again once it serves; between attempts it waits 0.1 s, doubling up to 2 s.
public struct AuthorityWatch: Service {
    let health: Grpc_Health_V1_Health.Client<PeerTransport>
    let reachable: Reachability
    let logger: Logger

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var pause = Duration.milliseconds(100)
            while !Task.isCancelled {
                let reachable = reachable
                let heardServing =
                    (try? await health.watch(.init()) { response in
                        var serving = false
                        for try await update in response.messages {
                            reachable.set(update.status == .serving)
                            serving = serving || update.status == .serving
                        }
                        return serving
                    }) ?? false
                reachable.set(false)
                if heardServing {
                    logger.warning("the gateway authority stopped serving; audited calls are refused until it is back")
                }
                pause = heardServing ? .milliseconds(100) : min(pause * 2, .seconds(2))
                try? await Task.sleep(for: pause)
            }
        }
    }
}

/// Whether the last exchange with the authority worked, shared by every copy of an `AuthorityRecords`.
final class Reachability: Sendable {
    /// False until the authority is heard from: a replica that starts while it is down refuses audited calls.
    private let state = Atomic<Bool>(false)

    var value: Bool { state.load(ordering: .relaxed) }

    func set(_ value: Bool) { state.store(value, ordering: .relaxed) }
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
