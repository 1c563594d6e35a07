import C360Contracts
import C360ServerKit
import Foundation
import GRPCCore
public import Logging
public import ServiceLifecycle

/// Keeps the identifier index whole from the truth: after the shard starts and then every `interval`, it sends every
/// identifier its customers hold to the identifier's index shard (`RepairIdentifiers`), which claims for the holder
/// each one it lacks. An index shard restored from its replica may lack the last second's claims; without this, a
/// customer's email would not be found from other shards, and could be claimed for another customer. Claims the
/// index gives another customer are left alone (the next claim of either checks them) and counted in the log.
public struct IdentifierIndexRepair: Service {
    let index: IdentifierIndex
    let interval: Duration
    let logger: Logger
    /// Identifiers read per page of this shard's database (at most `RepairIdentifiers`' 500 per index shard).
    static let pageSize = 500

    public init(index: IdentifierIndex, interval: Duration = .seconds(3_600), logger: Logger) {
        self.index = index
        self.interval = interval
        self.logger = logger
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            // The other shards' addresses come with the shard map, which may still name placeholders at start.
            var retry: Duration = .seconds(2)
            while !Task.isCancelled {
                let wait: Duration
                do {
                    let pass = try await repair()
                    logger.notice(
                        "identifier index repaired from this shard's customers",
                        metadata: [
                            "identifiers": "\(pass.sent)", "entries_restored": "\(pass.claimed)",
                            "entries_naming_another_customer": "\(pass.conflicts)",
                        ])
                    (wait, retry) = (interval, .seconds(2))
                } catch {
                    if Task.isCancelled { return }
                    logger.warning(
                        "identifier index repair failed; retrying", metadata: ["error": "\(error)", "in": "\(retry)"])
                    (wait, retry) = (retry, min(retry * 2, .seconds(300)))
                }
                try? await Task.sleep(for: wait)
            }
        }
    }

    /// One pass over every identifier this shard's customers hold, page by page, each page's identifiers sent to
    /// their index shards.
    func repair() async throws -> (sent: Int, claimed: Int, conflicts: Int) {
        var after: IndexedIdentifier?
        var (sent, claimed, conflicts) = (0, 0, 0)
        while !Task.isCancelled {
            let page = try await index.store.heldIdentifiers(after: after, limit: Self.pageSize)
            guard let last = page.last else { break }
            let outcome = try await index.repair(page)
            sent += page.count
            claimed += outcome.claimed
            conflicts += outcome.conflicts
            after = last.0
            if sent % 50_000 < Self.pageSize {
                logger.info("identifier index repair progress", metadata: ["identifiers": "\(sent)"])
            }
        }
        return (sent, claimed, conflicts)
    }
}

extension IdentifierIndex {
    /// Sends `holders` (identifiers customers of this shard hold) to their index shards' repair; how many entries
    /// were restored and how many name another customer. A restored entry whose identifier is no longer held by that
    /// customer when the answer comes (erased or removed since it was read) is given up again.
    func repair(_ holders: [(IndexedIdentifier, String)]) async throws -> (claimed: Int, conflicts: Int) {
        var groups: [String: [(IndexedIdentifier, String)]] = [:]
        for holder in holders {
            guard let owner = source.current.owner(of: holder.0.valueIndex, in: Self.service)?.shard else { continue }
            groups[owner, default: []].append(holder)
        }
        var (claimed, conflicts) = (0, 0)
        for (owner, group) in groups {
            let restored: [IndexedIdentifier]
            let at: Int64
            if owner == shard {
                let outcome = try await store.repairClaims(group)
                (restored, at) = (outcome.restored, outcome.at)
                conflicts += outcome.conflicts.count
            } else {
                let answer = try await indexes.repairIdentifiers(
                    .with {
                        $0.holders = group.map { identifier, holder in
                            .with {
                                $0.identifier = identifier.proto
                                $0.holderID = holder
                            }
                        }
                    }, metadata: pin(owner), options: .deadline(Self.callTimeout))
                (restored, at) = (answer.restored.compactMap(IndexedIdentifier.init(proto:)), answer.restoredAtMillis)
                conflicts += answer.conflicts.count
            }
            claimed += restored.count
            guard !restored.isEmpty else { continue }
            let sent = Dictionary(group, uniquingKeysWith: { first, _ in first })
            let now = Dictionary(
                try await store.identifierHolders(of: restored), uniquingKeysWith: { first, _ in first })
            for identifier in restored where now[identifier] != sent[identifier] {
                guard let holder = sent[identifier] else { continue }
                _ = try await release(.claims([identifier], madeAt: at), of: holder, on: owner)
            }
        }
        return (claimed, conflicts)
    }
}
