public import ArgumentParser
import C360Clients
import C360Contracts
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// `<service> reshard`: moves a range of slots from the shard that owns it to another, while both keep serving.
///
/// 1. **copy** every customer of the range, page by page in id order, from the source to the target (rows sealed as
///    stored, with their data keys), remembering the source's change-feed head when the copy began — after the
///    reference data every shard holds alike (surveys, feature requests), which a shard new to the map lacks;
/// 2. **catch up**: copy again each customer the source's change feed (or touch log, `SlotMovable.catchUp`) names
///    since then, until it is at the head;
/// 3. **fence** the range on the source: from that write transaction on, a write to those customers fails with
///    UNAVAILABLE, and every one committed before is in the feed at or below the head the fence returns;
/// 4. catch up to that head, then **flip**: write the map with the range given to the target under the next epoch,
///    and wait until both shards have loaded it (callers follow within their poll, or at once when refused);
/// 5. **drop** the range's customers from the source, then lift its fence.
///
/// Every step is idempotent (an import replaces the customer whole), and the step reached is kept in a state file
/// written after each page, so a mover killed anywhere — even with SIGKILL — is run again with the same arguments
/// and goes on from there.
public struct ReshardCommand<Store: ServiceStore>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "reshard",
            abstract: "Move a range of slots of \(Store.identity.name) to another shard while both keep serving.",
            discussion: """
                Copies the range's customers, catches up from the source's change feed (outreach- and profile-service: their touch \
                log), fences the range on the \
                source, catches up to the fence, publishes the shard map with the range moved (next epoch) by \
                rewriting --map, waits until both shards serve it, then deletes the range from the source. \
                Progress is printed per page and kept in --state: run the same command again to resume after a \
                failure or a kill. In Kubernetes, point --map at a copy of the ConfigMap's file and apply it \
                when the mover prints "publish" (deploy/README.md).
                """)
    }

    /// Not `--shard-map`: that is the service's own option, which its parent command parses first.
    @Option(name: .customLong("map"), help: "The shard map file the shards read; rewritten with the range moved.")
    var mapFile: String

    @Option(help: "The slots to move, first-last (e.g. 512-767), all owned today by one shard.")
    var slots: String

    @Option(help: "The shard that takes them over, by its name in the map.")
    var to: String

    @Option(help: "The move's progress file, for a restart. (default: <shard map>.reshard-<first>-<last>.json)")
    var state: String?

    @Option(help: "Customers per page when copying and dropping.")
    var batch = 100

    @Option(help: "Milliseconds to pause between pages, to bound the load the copy puts on the source.")
    var pauseMs = 0

    @Option(
        help: """
            Seconds the catch-up may chase writes before fencing anyway: under writes spread over many customers it \
            may never reach the feed's head, and the rest is caught up behind the fence.
            """)
    var maxCatchUpSeconds = 10

    @Option(help: "Seconds to wait for both shards to serve the new map.")
    var mapTimeout = 120

    // Not --service-token-file: that is the server's own option, which the parent command would take (as `backup`).
    @Option(
        help:
            "File holding the service token. [env: \(Store.identity.environmentVariable("SERVICE_TOKEN_FILE")), or the token in \(Store.identity.environmentVariable("SERVICE_TOKEN"))]"
    )
    var tokenFile: String?

    /// With TLS the shards want a certificate: the ops tools' one is named `operator` (scripts/dev-certs.sh).
    @OptionGroup var tls: TLSOptions

    public init() {}

    public func validate() throws {
        guard (1...1_000).contains(batch) else { throw ValidationError("--batch must be 1–1,000, not \(batch)") }
        guard pauseMs >= 0, maxCatchUpSeconds >= 0 else {
            throw ValidationError("--pause-ms and --max-catch-up-seconds must be 0 or more")
        }
        do {
            _ = try ShardMap.slots(slots)
        } catch {
            throw ValidationError("--slots: \(error.description)")
        }
    }

    public func run() async throws {
        let service = Store.identity.name
        let range = try ShardMap.slots(slots)
        let map = try ShardMap.read(mapFile)
        let statePath = state ?? "\(mapFile).reshard-\(range.lowerBound)-\(range.upperBound).json"
        var move: SlotMove
        if let saved = try SlotMove.load(statePath) {
            guard saved.service == service, saved.slots == slots, saved.target == to else {
                throw ReshardFailure(
                    description:
                        "\(statePath) holds another move (\(saved.slots) to \(saved.target)); finish it or remove the file"
                )
            }
            move = saved
            report("resuming the move of slots \(slots) from \(move.source) to \(to) at step \(move.step.rawValue)")
        } else {
            move = try SlotMove.plan(map: map, service: service, slots: range, text: slots, target: to)
            try move.save(statePath)
            report("moving slots \(slots) of \(service) from \(move.source) to \(to) (map epoch \(map.epoch))")
        }
        guard let source = map.shard(named: move.source, in: service), let target = map.shard(named: to, in: service),
            let sourceAddress = PeerAddress(source.address), let targetAddress = PeerAddress(target.address)
        else {
            throw ReshardFailure(description: "the shard map no longer lists \(move.source) and \(to) for \(service)")
        }
        let environment = EnvironmentReader(service: Store.identity, environment: ProcessInfo.processInfo.environment)
        let token = try ServerOptions.serviceToken(
            file: try tokenFile ?? environment.value("SERVICE_TOKEN_FILE"),
            value: try environment.value("SERVICE_TOKEN"))
        let credentials = PeerCredentials(tls: try tls.identity(environment: environment), serviceToken: token)
        let security = try credentials.transportSecurity()
        let interceptors = credentials.interceptors
        try await withGRPCClient(
            transport: .http2NIOPosix(target: sourceAddress.target, transportSecurity: security),
            interceptors: interceptors
        ) { sourceClient in
            try await withGRPCClient(
                transport: .http2NIOPosix(target: targetAddress.target, transportSecurity: security),
                interceptors: interceptors
            ) { targetClient in
                var mover = Mover(
                    move: move, statePath: statePath, mapPath: mapFile, service: service, batch: batch,
                    pause: .milliseconds(pauseMs), maxCatchUp: .seconds(maxCatchUpSeconds),
                    mapTimeout: .seconds(mapTimeout),
                    source: Customer360_V1_AdminService.Client(wrapping: sourceClient),
                    target: Customer360_V1_AdminService.Client(wrapping: targetClient))
                try await mover.run()
            }
        }
        try? FileManager.default.removeItem(atPath: statePath)
    }
}

/// A move's plan and how far it got: the state file `<service> reshard` resumes from.
struct SlotMove: Codable, Equatable {
    enum Step: String, Codable {
        case copy
        case catchUp = "catch-up"
        case fenced, flipped, drop, done
    }

    var service: String
    var slots: String
    var source: String
    var target: String
    var step: Step = .copy
    /// Copy: the last customer id copied.
    var cursor = ""
    /// The change-feed sequence the catch-up has reached (the head when the copy began, at first).
    var feedPosition: UInt64?
    /// The head the fence returned: the catch-up after the fence goes to here.
    var fenceHead: UInt64 = 0
    /// The epoch of the map that gives the slots to the target.
    var epoch: Int64 = 0
    var copied = 0
    var caughtUp = 0
    var dropped = 0

    static func plan(map: ShardMap, service: String, slots: ClosedRange<Int>, text: String, target: String) throws
        -> SlotMove
    {
        guard map.shard(named: target, in: service) != nil else {
            throw ReshardFailure(description: "\(service) has no shard named '\(target)' in the map")
        }
        let owners = Set(slots.compactMap { map.owner(ofSlot: $0, in: service)?.shard })
        guard owners.count == 1, let source = owners.first else {
            throw ReshardFailure(
                description: owners.isEmpty
                    ? "\(service) is not sharded in the map"
                    : "slots \(text) belong to \(owners.sorted().joined(separator: ", ")); move one shard's range at a time"
            )
        }
        guard source != target else { throw ReshardFailure(description: "slots \(text) already belong to \(target)") }
        return SlotMove(service: service, slots: text, source: source, target: target)
    }

    static func load(_ path: String) throws -> SlotMove? {
        guard let bytes = FileManager.default.contents(atPath: path) else { return nil }
        return try JSONDecoder().decode(SlotMove.self, from: bytes)
    }

    /// Written to a temporary file and renamed over the old one, so a kill leaves the old state or the new, whole.
    func save(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.replace(path, with: try encoder.encode(self))
    }
}

/// Runs a move's steps from the one it reached, saving the state after each page.
private struct Mover {
    var move: SlotMove
    let statePath: String
    let mapPath: String
    let service: String
    let batch: Int
    let pause: Duration
    let maxCatchUp: Duration
    let mapTimeout: Duration
    let source: Customer360_V1_AdminService.Client<HTTP2ClientTransport.Posix>
    let target: Customer360_V1_AdminService.Client<HTTP2ClientTransport.Posix>
    let started = ContinuousClock.now
    /// When this run began chasing the feed (not kept across a restart: a resumed mover chases afresh).
    var catchUpStarted: ContinuousClock.Instant?

    mutating func run() async throws {
        if move.step == .copy || move.step == .catchUp { try await copyReferenceData() }
        while move.step != .done {
            switch move.step {
            case .copy: try await copy()
            case .catchUp: try await catchUp(to: nil)
            case .fenced:
                // Killed after publishing the map but before saving the step: the source exports no more.
                if try published() != nil {
                    move.step = .flipped
                    try save()
                } else {
                    try await catchUp(to: move.fenceHead)
                }
            case .flipped: try await waitForMap()
            case .drop: try await drop()
            case .done: break
            }
            if pause > .zero, move.step == .copy || move.step == .catchUp { try await Task.sleep(for: pause) }
        }
        say(
            """
            done: slots \(move.slots) moved from \(move.source) to \(move.target) at map epoch \(move.epoch): \
            \(move.copied) customers copied, \(move.caughtUp) copied again from the feed, \(move.dropped) dropped
            """)
    }

    /// The reference data every shard holds alike (feedback-service's surveys and feature requests), copied to the
    /// target before any customer whose rows refer to it: a shard that joined the map after they were written has
    /// none. Rows the target holds are kept, so every run of the mover copies it again harmlessly.
    private func copyReferenceData() async throws {
        let reference = try await source.exportSlots(
            .with {
                $0.slots = [move.slots]
                $0.referenceData = true
            })
        guard reference.referenceTables.contains(where: { !$0.rows.isEmpty }) else { return }
        _ = try await target.importSlotCustomers(.with { $0.referenceTables = reference.referenceTables })
        say(
            "reference data: "
                + reference.referenceTables.map { "\($0.rows.count) \($0.name) rows" }.joined(separator: ", ")
                + " copied to \(move.target)")
    }

    private mutating func copy() async throws {
        let page = try await source.exportSlots(
            .with {
                $0.slots = [move.slots]
                $0.afterCustomerID = move.cursor
                $0.limit = Int32(batch)
            })
        if move.feedPosition == nil { move.feedPosition = page.throughSequence }
        try await importing(page.customers)
        move.copied += page.customers.count
        move.cursor = page.nextCustomerID
        if page.nextCustomerID.isEmpty { move.step = .catchUp }
        try save()
        say("copy: \(move.copied) customers")
    }

    /// Copies again the customers the source's feed names after the position, to its head (`nil`) or to `head`; at
    /// the head it fences (from catch-up) or flips the map (after the fence).
    private mutating func catchUp(to head: UInt64?) async throws {
        let page: Customer360_V1_ExportSlotsResponse
        do {
            page = try await source.exportSlots(
                .with {
                    $0.slots = [move.slots]
                    $0.catchUp = true
                    $0.changedAfterSequence = move.feedPosition ?? 0
                })
        } catch let error as RPCError where error.code == .failedPrecondition {
            return try await startOver(because: error.message)
        }
        try await importing(page.customers)
        move.caughtUp += page.customers.count
        move.feedPosition = page.throughSequence
        let chasing = ContinuousClock.now - (catchUpStarted ?? ContinuousClock.now)
        if catchUpStarted == nil { catchUpStarted = ContinuousClock.now }
        let reached = head.map { page.throughSequence >= $0 } ?? (page.caughtUp || chasing > maxCatchUp)
        if head == nil, reached, !page.caughtUp {
            say("catch-up: still behind after \(maxCatchUp) of writes; fencing, the rest is caught up behind the fence")
        }
        if !page.customers.isEmpty || reached {
            say("catch-up: through change \(page.throughSequence), \(move.caughtUp) customers copied again")
        }
        guard reached else { return try save() }
        if head == nil {
            move.epoch = try ShardMap.read(mapPath).epoch + 1
            let fence = try await source.fenceSlots(
                .with {
                    $0.slots = [move.slots]
                    $0.epoch = move.epoch
                    $0.targetShard = move.target
                })
            move.fenceHead = fence.feedHead
            move.step = .fenced
            say("fence: writes to slots \(move.slots) on \(move.source) stop; catching up to change \(fence.feedHead)")
        } else {
            try publishMap()
            move.step = .flipped
        }
        try save()
    }

    /// Goes back to the copy when the source can no longer say what changed since the position (its feed or touch log
    /// was pruned past it, or writes are not being logged for this move): lifts the fence if it was set, since a copy
    /// under the fence would stop the range's writes for its whole length, and copies every customer again (an import
    /// replaces what the target holds).
    private mutating func startOver(because reason: String) async throws {
        say("catch-up refused (\(reason)); starting again from the copy")
        if move.step == .fenced {
            _ = try await source.fenceSlots(
                .with {
                    $0.slots = [move.slots]
                    $0.lift = true
                })
            say("fence: lifted on \(move.source) for the copy")
        }
        move.step = .copy
        move.cursor = ""
        move.feedPosition = nil
        try save()
    }

    /// Writes the map with the slots given to the target, unless it already does (a restart after the write).
    private mutating func publishMap() throws {
        if let epoch = try published() {
            move.epoch = epoch
            return
        }
        let moved = try ShardMap.read(mapPath).moving(try ShardMap.slots(move.slots), of: service, to: move.target)
        try AtomicFile.replace(mapPath, with: moved.json)
        move.epoch = moved.epoch
        say("publish: \(mapPath) now gives slots \(move.slots) to \(move.target) (epoch \(moved.epoch))")
    }

    /// The epoch of the map file when it already gives the slots to the target.
    private func published() throws -> Int64? {
        let map = try ShardMap.read(mapPath)
        let range = try ShardMap.slots(move.slots)
        return range.allSatisfy { map.owner(ofSlot: $0, in: service)?.shard == move.target } ? map.epoch : nil
    }

    private mutating func waitForMap() async throws {
        let deadline = ContinuousClock.now + mapTimeout
        var waiting: [String] = []
        while ContinuousClock.now < deadline {
            waiting = []
            for (name, client) in [(move.source, source), (move.target, target)] {
                let info = try await client.getServerInfo(.init())
                if info.shardMapEpoch < move.epoch { waiting.append("\(name) (epoch \(info.shardMapEpoch))") }
            }
            if waiting.isEmpty {
                say("flip: \(move.source) and \(move.target) serve map epoch \(move.epoch)")
                move.step = .drop
                return try save()
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw ReshardFailure(
            description:
                "waited \(mapTimeout) for map epoch \(move.epoch); still older: \(waiting.joined(separator: ", ")). Run again"
        )
    }

    private mutating func drop() async throws {
        let page = try await source.dropSlots(
            .with {
                $0.slots = [move.slots]
                $0.limit = Int32(batch)
            })
        move.dropped += Int(page.dropped)
        if page.done { move.step = .done }
        try save()
        say("drop: \(move.dropped) customers deleted from \(move.source)")
    }

    private func importing(_ customers: [Customer360_V1_SlotCustomer]) async throws {
        guard !customers.isEmpty else { return }
        _ = try await target.importSlotCustomers(.with { $0.customers = customers })
    }

    private func save() throws {
        try move.save(statePath)
    }

    /// A progress line with the seconds since this run began.
    private func say(_ line: String) {
        report("[\((ContinuousClock.now - started).components.seconds)s] \(line)")
    }
}

extension ShardMap {
    /// The map in the file at `path`, or why it cannot be used.
    fileprivate static func read(_ path: String) throws -> ShardMap {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw ReshardFailure(description: "cannot read the shard map \(path)")
        }
        do {
            return try ShardMap(json: bytes)
        } catch {
            throw ReshardFailure(description: "\(path): \(error.description)")
        }
    }
}

/// Why a move stopped; running the same command again resumes it.
struct ReshardFailure: Error, CustomStringConvertible {
    var description: String
}

/// One progress line, written at once: a supervisor (or a test) reading a pipe sees it as it happens.
private func report(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
