import C360Clients
import C360Contracts
import C360ServerKit
import C360StoreKit
import C360TestSupport
import Foundation
import GRPCCore
import Synchronization
import Testing

@Suite struct ShardMapTests {
    /// The slot is the stated formula, computed here by hand elsewhere (Python's hashlib): the first 8 bytes of
    /// SHA-256 of the id's UTF-8, big-endian, mod 1024. Any client in any language must agree.
    @Test func slotIsTheFirstEightBytesOfSHA256ModuloTheSlotCount() {
        #expect(ShardMap.slotCount == 1_024)
        #expect(ShardMap.slot(of: "cus_1") == 168)
        #expect(ShardMap.slot(of: "c_0001") == 266)
        #expect(ShardMap.slot(of: "01JABCDEF") == 306)
        #expect(ShardMap.slot(of: "") == 20)
    }

    @Test func anEvenSplitGivesEverySlotToExactlyOneShard() throws {
        let map = try ShardMap.even(
            services: [(name: "interaction-service", shardPrefix: "interaction", addresses: ["a:1", "b:2", "c:3"])])
        let shards = try #require(map.services["interaction-service"])
        #expect(shards.map(\.shard) == ["interaction-0", "interaction-1", "interaction-2"])
        #expect(shards.map(\.slots) == [["0-340"], ["341-681"], ["682-1023"]])
        #expect(shards.map { map.slotCount(of: $0.shard, in: "interaction-service") }.reduce(0, +) == 1_024)
        #expect(map.owner(ofSlot: 0, in: "interaction-service")?.shard == "interaction-0")
        #expect(map.owner(ofSlot: 1_023, in: "interaction-service")?.shard == "interaction-2")
        #expect(map.owner(of: "cus_1", in: "interaction-service")?.shard == "interaction-0")
        #expect(map.owner(of: "cus_1", in: "profile-service") == nil, "a service the map leaves out is not sharded")
    }

    @Test func slotsAreWrittenAsTheFewestRangesAndReadBack() throws {
        #expect(ShardMap.texts(of: [0, 1, 2, 5, 7, 8, 1_023]) == ["0-2", "5", "7-8", "1023"])
        #expect(ShardMap.texts(of: []) == [])
        let texts = ShardMap.texts(of: [3, 4, 9])
        #expect(try texts.map { try ShardMap.slots($0) } == [3...4, 9...9])
    }

    @Test func theFileRoundTripsThroughJSON() throws {
        let map = try ShardMap.even(
            epoch: 7, services: [(name: "feedback-service", shardPrefix: "feedback", addresses: ["[::1]:7103", "h:4"])])
        #expect(try ShardMap(json: map.json) == map)
    }

    @Test(arguments: [
        (
            #"{"epoch": 1, "services": {"s": [{"shard": "a", "address": "h:1", "slots": ["0-511"]}]}}"#,
            "slots 512-1023 belong to no shard"
        ),
        (
            #"{"epoch": 1, "services": {"s": [{"shard": "a", "address": "h:1", "slots": ["0-600"]}, {"shard": "b", "address": "h:2", "slots": ["600-1023"]}]}}"#,
            "slot 600 is given to both a and b"
        ),
        (
            #"{"epoch": 1, "services": {"s": [{"shard": "a", "address": "h:1", "slots": ["0-1024"]}]}}"#,
            "'0-1024' is not a slot range"
        ),
        (
            #"{"epoch": 1, "services": {"s": [{"shard": "a", "address": "h:1", "slots": ["9-3"]}]}}"#,
            "'9-3' is not a slot range"
        ),
        (
            #"{"epoch": 1, "services": {"s": [{"shard": "a", "address": "nowhere", "slots": ["0-1023"]}]}}"#,
            "address must be host:port"
        ),
        (
            #"{"epoch": 1, "services": {"s": [{"shard": "a", "address": "h:1", "slots": ["0-9"]}, {"shard": "a", "address": "h:2", "slots": ["10-1023"]}]}}"#,
            "names shard 'a' twice"
        ),
        (#"{"epoch": 1, "services": {"s": []}}"#, "lists no shards"),
        (#"{"epoch": -1, "services": {}}"#, "epoch must be 0 or more"),
        (#"{"services": {}}"#, "not the expected JSON"),
    ])
    func aMapThatCannotBeUsedSaysWhy(json: String, says: String) {
        #expect {
            try ShardMap(json: Data(json.utf8))
        } throws: { error in
            (error as? ShardMap.Invalid)?.description.contains(says) == true
        }
    }

    /// A ConfigMap edit swaps the file; the source takes a newer, valid map and keeps the last good one otherwise.
    @Test func theSourceTakesANewerValidFileAndKeepsTheLastGoodMapOtherwise() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("c360-shard-map-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: file) }
        func write(epoch: Int64, addresses: [String]) throws {
            try ShardMap.even(epoch: epoch, services: [(name: "s", shardPrefix: "s", addresses: addresses)]).json
                .write(to: file)
        }
        try write(epoch: 1, addresses: ["h:1", "h:2"])
        let source = try ShardMapSource(path: file.path)
        #expect(source.current.epoch == 1)

        try write(epoch: 2, addresses: ["h:1", "h:2", "h:3"])
        #expect(source.reload().epoch == 2)
        #expect(source.current.services["s"]?.count == 3)

        try Data("{not json".utf8).write(to: file)
        #expect(source.reload().epoch == 2, "a broken file does not take the routes away")

        try write(epoch: 1, addresses: ["h:9"])
        #expect(source.reload().services["s"]?.count == 3, "an older epoch is not taken")
    }

    @Test func aMissingFileIsRefusedAtStart() {
        #expect(throws: ShardMap.Invalid.self) { try ShardMapSource(path: "/nonexistent/shard-map.json") }
    }

    /// A client stream may name customers of several shards, so it is split and its answers merged: every one the
    /// contracts route by customer needs a merge, or it would be answered by one shard as if whole.
    @Test func everyClientStreamRoutedByCustomerHasAMerge() {
        let streams = ShardRouting.current.routes.filter(\.value.clientStreaming).keys.sorted()
        #expect(streams.contains("customer360.v1.InteractionService/RecordTouchpoints"))
        for method in streams where !method.hasPrefix("customer360.v1.GatewayService/") {
            #expect(ShardStreamMerges.all[method] != nil, "\(method) has no merge in ShardStreamMerges")
        }
    }

    /// The merged answer of a split RecordTouchpoints: counts added, rejections put back at their place in the
    /// whole stream.
    @Test func aSplitStreamsAnswersMergeIntoTheWholeStreamsAnswer() throws {
        let merge = try #require(ShardStreamMerges.all["customer360.v1.InteractionService/RecordTouchpoints"])
        let first = Customer360_V1_RecordTouchpointsResponse.with {
            $0.received = 2
            $0.stored = 1
            $0.rejected = 1
            $0.rejections = [
                .with {
                    $0.index = 1
                    $0.code = "INVALID_ARGUMENT"
                }
            ]
        }
        let second = Customer360_V1_RecordTouchpointsResponse.with {
            $0.received = 3
            $0.stored = 1
            $0.duplicate = 1
            $0.rejected = 1
            $0.rejections = [
                .with {
                    $0.index = 0
                    $0.code = "NOT_FOUND"
                }
            ]
        }
        let merged = try Customer360_V1_RecordTouchpointsResponse(
            serializedBytes: try merge([
                (try first.serializedBytes(), [0, 3]), (try second.serializedBytes(), [1, 2, 4]),
            ]))
        #expect(merged.received == 5)
        #expect(merged.stored == 2)
        #expect(merged.duplicate == 1)
        #expect(merged.rejected == 2)
        #expect(merged.rejections.map(\.index) == [1, 3])
        #expect(merged.rejections.map(\.code) == ["NOT_FOUND", "INVALID_ARGUMENT"])
    }
}

@Suite struct ShardMergeTests {
    /// Counts and sums add; the derived values are computed again, the median from the merged histogram.
    @Test func supportKpisFromSeveralShardsAddUpAndDeriveAgain() {
        func bucket(_ seconds: Int64?, _ count: Int64) -> Customer360_V1_DurationBucket {
            .with {
                if let seconds { $0.upperBound = .init(seconds: seconds) }
                $0.count = count
            }
        }
        let first = Customer360_V1_SupportKpis.with {
            $0.ticketsOpened = 3
            $0.ticketsResolved = 2
            $0.ticketsResolvedFirstContact = 1
            $0.firstResponseCount = 2
            $0.firstResponseTotal = .init(seconds: 400)
            $0.firstResponseHistogram = [bucket(300, 1), bucket(900, 1), bucket(nil, 0)]
            $0.selfServiceSessions = 4
            $0.deflectedSessions = 1
        }
        let second = Customer360_V1_SupportKpis.with {
            $0.ticketsOpened = 1
            $0.ticketsResolved = 2
            $0.ticketsResolvedFirstContact = 2
            $0.firstResponseCount = 1
            $0.firstResponseTotal = .init(seconds: 200)
            $0.firstResponseHistogram = [bucket(300, 1), bucket(900, 0), bucket(nil, 0)]
        }
        let merged = Customer360_V1_SupportKpis.merged([first, second])
        #expect(merged.ticketsOpened == 4)
        #expect(merged.firstContactResolutionRate == 0.75)
        #expect(merged.meanFirstResponseTime.seconds == 200)
        #expect(merged.firstResponseHistogram.map(\.count) == [2, 1, 0])
        #expect(merged.medianFirstResponseTime.seconds == 300, "the 2nd of 3 responses lies in the first bucket")
        #expect(merged.deflectionRate == 0.25)
        #expect(Customer360_V1_SupportKpis.merged([first]) == first, "one shard's answer is exact as it is")
    }

    @Test func rfmSegmentsAddUpSegmentBySegment() {
        func size(_ segment: Customer360_V1_RfmSegment, _ customers: Int64, _ revenue: Int64)
            -> Customer360_V1_RfmSegmentSize
        {
            .with {
                $0.segment = segment
                $0.customers = customers
                $0.orders = customers * 2
                $0.netRevenue = .with {
                    $0.amountMinor = revenue
                    $0.currencyCode = "USD"
                }
            }
        }
        let first = Customer360_V1_GetRfmSegmentsResponse.with {
            $0.segments = [size(.champions, 2, 1_000), size(.atRisk, 1, 100)]
            $0.customers = 5
            $0.customersWithPurchases = 3
            $0.cutPoints = .with { $0.frequency = [1, 2, 3, 4] }
        }
        let second = Customer360_V1_GetRfmSegmentsResponse.with {
            $0.segments = [size(.atRisk, 3, 300), size(.champions, 1, 500)]
            $0.customers = 4
            $0.customersWithPurchases = 1
            $0.cutPoints = .with { $0.frequency = [5, 6, 7, 8] }
        }
        let merged = Customer360_V1_GetRfmSegmentsResponse.merged([first, second])
        #expect(merged.customers == 9)
        #expect(merged.segments.map(\.segment) == [.champions, .atRisk])
        #expect(merged.segments.map(\.customers) == [3, 4])
        #expect(merged.segments.map(\.netRevenue.amountMinor) == [1_500, 400])
        #expect(merged.cutPoints.frequency == [2, 3, 4, 5], "weighted by customers with purchases, 3 to 1")
    }
}

/// A list across customers merged from every shard (`ShardMergedPages`), against shards that page by offset.
@Suite struct ShardMergedPagesTests {
    /// Three shards of at-risk customers with scores drawn at random (seeded), each listed in the contract's order.
    static func shards(sizes: [Int]) -> [String: [Customer360_V1_AtRiskCustomer]] {
        var generator = FuzzRandom(seed: 42)
        var shards: [String: [Customer360_V1_AtRiskCustomer]] = [:]
        for (index, size) in sizes.enumerated() {
            shards["s\(index)"] = (0..<size).map { item in
                .with {
                    $0.customerID = "c\(index)-\(item)"
                    $0.latest.score = Double(Int.random(in: 0...100, using: &generator))
                }
            }.sorted { ($0.latest.score, $0.customerID) < ($1.latest.score, $1.customerID) }
        }
        return shards
    }

    /// How one shard answers: `page_size` items from the offset its token holds, refusing sizes past the maximum.
    static func ask(_ shards: [String: [Customer360_V1_AtRiskCustomer]], calls: Counter) -> ShardAsk {
        ShardAsk { _, bytes, pin in
            calls.add()
            let request = try Customer360_V1_ListAtRiskRequest(serializedBytes: bytes)
            let name = try #require(pin[stringValues: WrongShard.pinKey].first { _ in true })
            let items = shards[name] ?? []
            guard let size = PageSize.resolve(request.page.pageSize) else {
                throw RPCError(code: .invalidArgument, message: "page_size \(request.page.pageSize)")
            }
            let start = Int(request.page.pageToken) ?? 0
            let end = min(items.count, start + size)
            return try Customer360_V1_ListAtRiskResponse.with {
                $0.customers = Array(items[start..<end])
                $0.page.nextPageToken = end < items.count ? "\(end)" : ""
            }.serializedBytes()
        }
    }

    final class Counter: Sendable {
        private let count = Mutex(0)
        func add() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }

    @Test(arguments: [1, 3, 7, 50, 500])
    func everyPageIsTheNextOfTheWholeOrderedList(pageSize: Int32) async throws {
        let shards = Self.shards(sizes: [40, 700, 0, 13])
        let whole = shards.values.flatMap { $0 }
            .sorted { ($0.latest.score, $0.customerID) < ($1.latest.score, $1.customerID) }
        let call = try #require(
            ShardSpreadCalls.all[Customer360_V1_SuccessService.Method.ListAtRisk.descriptor.fullyQualifiedMethod])
        let calls = Counter()
        var listed: [String] = []
        var token = ""
        var pages = 0
        repeat {
            let request = Customer360_V1_ListAtRiskRequest.with {
                $0.page.pageSize = pageSize
                $0.page.pageToken = token
            }
            let page = try Customer360_V1_ListAtRiskResponse(
                serializedBytes: try await call(
                    try request.serializedBytes(), shards.keys.sorted(), Self.ask(shards, calls: calls)))
            #expect(page.customers.count == Int(pageSize) || page.page.nextPageToken.isEmpty)
            listed += page.customers.map(\.customerID)
            token = page.page.nextPageToken
            pages += 1
        } while !token.isEmpty && pages <= whole.count
        #expect(listed == whole.map(\.customerID), "in the list's order, each once")
        // At most two calls per shard with something left per page: the window, and now and then a step past
        // what was taken.
        #expect(calls.value <= pages * 2 * shards.count)
    }

    /// A shard that is down is left out of the page and named, the others' items still in order; once it answers
    /// again the listing takes it up where it was, so every item is listed once.
    @Test func aShardDownIsLeftOutAndNamedThenTakenUpAgain() async throws {
        let shards = Self.shards(sizes: [25, 25, 25])
        let method = Customer360_V1_SuccessService.Method.ListAtRisk.descriptor.fullyQualifiedMethod
        let request: [UInt8] = try Customer360_V1_ListAtRiskRequest.with { $0.page.pageSize = 10 }.serializedBytes()
        let across = try #require(AcrossShards(method, request: request, routing: .current))
        let calls = Counter()
        let answering = Self.ask(shards, calls: calls)
        let down = Mutex(true)
        var listed: [String] = []
        var token = ""
        var pagesWithout = 0
        var pages = 0
        repeat {
            let asking: [UInt8] = try Customer360_V1_ListAtRiskRequest.with {
                $0.page.pageSize = 10
                $0.page.pageToken = token
            }.serializedBytes()
            let ask: ShardAsk.Body = { _, bytes, pin in
                if pin[stringValues: WrongShard.pinKey].first(where: { _ in true }) == "s1", down.withLock({ $0 }) {
                    throw RPCError(code: .unavailable, message: "s1 is down")
                }
                return try await answering(bytes, pin)
            }
            if down.withLock({ $0 }) {
                // A caller that does not take partial lists (a batch paging through everyone) gets the failure.
                await #expect(throws: RPCError.self) {
                    _ = try await across.answer(
                        asking, shards: ["s0", "s1", "s2"], reloadedShards: { [] }, ask: ask)
                }
            }
            let (bytes, missing) = try await across.answer(
                asking, shards: ["s0", "s1", "s2"], reloadedShards: { ["s0", "s1", "s2"] }, partial: true, ask: ask)
            let page = try Customer360_V1_ListAtRiskResponse(serializedBytes: bytes)
            if missing == ["s1"] {
                pagesWithout += 1
                #expect(!page.customers.contains { $0.customerID.hasPrefix("c1-") })
                let ordered = page.customers.map { ($0.latest.score, $0.customerID) }
                #expect(zip(ordered, ordered.dropFirst()).allSatisfy { $0 < $1 }, "the others' items in order")
            } else {
                #expect(missing.isEmpty)
            }
            listed += page.customers.map { $0.customerID }
            token = page.page.nextPageToken
            pages += 1
            // Back after two pages.
            if pages == 2 { down.withLock { $0 = false } }
        } while !token.isEmpty && pages <= 100
        #expect(pagesWithout == 2)
        #expect(listed.count == 75 && Set(listed).count == 75, "every item once: \(listed.count)")

        // With every shard down the list fails, as it has nothing to answer; so does a shard that refuses the request.
        for code in [RPCError.Code.unavailable, .internalError] {
            let failing: ShardAsk.Body = { _, bytes, pin in
                let shard = pin[stringValues: WrongShard.pinKey].first(where: { _ in true })
                if code == .unavailable || shard == "s2" { throw RPCError(code: code, message: "refused") }
                return try await answering(bytes, pin)
            }
            await #expect(throws: RPCError.self, "\(code)") {
                _ = try await across.answer(
                    request, shards: ["s0", "s1", "s2"], reloadedShards: { [] }, partial: true, ask: failing)
            }
        }
    }

    /// Shards whose lists can change between pages, paged by keyset as the services page: a token is the last item's
    /// score and id, and the next page holds the items after it.
    final class LiveShards: Sendable {
        let lists: Mutex<[String: [Customer360_V1_AtRiskCustomer]]>

        init(_ lists: [String: [Customer360_V1_AtRiskCustomer]]) { self.lists = Mutex(lists) }

        static func key(_ item: Customer360_V1_AtRiskCustomer) -> (Double, String) {
            (item.latest.score, item.customerID)
        }

        func ask(_ bytes: [UInt8], _ pin: Metadata) async throws -> [UInt8] {
            let request = try Customer360_V1_ListAtRiskRequest(serializedBytes: bytes)
            let name = try #require(pin[stringValues: WrongShard.pinKey].first { _ in true })
            let size = try #require(PageSize.resolve(request.page.pageSize))
            let items = lists.withLock { $0[name] ?? [] }.sorted { Self.key($0) < Self.key($1) }
            let parts = request.page.pageToken.split(separator: "|", maxSplits: 1).map(String.init)
            let rest =
                parts.count == 2
                ? items.filter { Self.key($0) > (Double(parts[0]) ?? 0, parts[1]) } : items
            let page = Array(rest.prefix(size))
            return try Customer360_V1_ListAtRiskResponse.with {
                $0.customers = page
                if rest.count > size, let last = page.last {
                    $0.page.nextPageToken = "\(last.latest.score)|\(last.customerID)"
                }
            }.serializedBytes()
        }
    }

    /// As a keyset page of one service: rows that leave the list or join it behind the pages already read neither
    /// skip nor repeat anything; rows that join ahead are listed in their place.
    @Test func rowsChangingBetweenPagesNeitherSkipNorRepeat() async throws {
        let call = try #require(
            ShardSpreadCalls.all[Customer360_V1_SuccessService.Method.ListAtRisk.descriptor.fullyQualifiedMethod])
        let initial = Self.shards(sizes: [30, 30])
        let live = LiveShards(initial)
        func next(_ token: String) async throws -> Customer360_V1_ListAtRiskResponse {
            try Customer360_V1_ListAtRiskResponse(
                serializedBytes: try await call(
                    try Customer360_V1_ListAtRiskRequest.with {
                        $0.page.pageSize = 5
                        $0.page.pageToken = token
                    }.serializedBytes(), ["s0", "s1"], ShardAsk { try await live.ask($1, $2) }))
        }
        let first = try await next("")
        let read = Set(first.customers.map(\.customerID))
        // A customer already listed leaves each shard's list; one joins behind the pages read, one ahead of them.
        live.lists.withLock { lists in
            for shard in ["s0", "s1"] {
                lists[shard]?.removeAll {
                    read.contains($0.customerID) && $0.customerID.hasPrefix(shard == "s0" ? "c0" : "c1")
                }
            }
            lists["s1"]?.append(
                .with {
                    $0.customerID = "joined-behind"
                    $0.latest.score = -1
                })
            lists["s0"]?.append(
                .with {
                    $0.customerID = "joined-ahead"
                    $0.latest.score = 1_000
                })
        }
        var listed = first.customers.map(\.customerID)
        var token = first.page.nextPageToken
        while !token.isEmpty, listed.count < 200 {
            let page = try await next(token)
            listed += page.customers.map(\.customerID)
            token = page.page.nextPageToken
        }
        let expected =
            initial.values.flatMap { $0 }
            .sorted { LiveShards.key($0) < LiveShards.key($1) }.map(\.customerID) + ["joined-ahead"]
        #expect(
            listed == expected, "every customer once, in order; the one joining behind the pages read is not listed")
    }

    @Test func aTokenNotMadeForThisManyShardsIsRefused() async throws {
        let call = try #require(
            ShardSpreadCalls.all[Customer360_V1_SuccessService.Method.ListAtRisk.descriptor.fullyQualifiedMethod])
        let shards = Self.shards(sizes: [5, 5])
        let first = try Customer360_V1_ListAtRiskResponse(
            serializedBytes: try await call(
                try Customer360_V1_ListAtRiskRequest.with { $0.page.pageSize = 2 }.serializedBytes(),
                ["s0", "s1"], Self.ask(shards, calls: Counter())))
        for bad in [first.page.nextPageToken, "0#x", "not-a-token"] {
            await #expect(throws: RPCError.self, "\(bad)") {
                _ = try await call(
                    try Customer360_V1_ListAtRiskRequest.with { $0.page.pageToken = bad }.serializedBytes(),
                    ["s0", "s1", "s2"], Self.ask(shards, calls: Counter()))
            }
        }
    }
}

/// A sharded service's change feed across customers read as one (`ShardFeedMerge`): batches pass on as they come,
/// naming their shard, each with every shard's position; a client resumes every shard where it stopped.
@Suite struct ShardFeedMergeTests {
    static func batch(_ through: UInt64, _ sequences: [UInt64], caughtUp: Bool = false)
        -> Customer360_V1_WatchChangesResponse
    {
        .with {
            $0.throughSequence = through
            $0.caughtUp = caughtUp
            $0.events = sequences.map { sequence in
                .with {
                    $0.sequence = sequence
                    $0.kind = .touchpointRecorded
                }
            }
        }
    }

    @Test func batchesNameTheirShardAndTheWholePositionResumesEveryShard() throws {
        let shards = ["s0", "s1"]
        let merge = try ShardFeedMerge(.init(), service: "interaction-service", shards: shards)
        #expect(merge.request(for: "s0").afterSequence == 0)
        let first = merge.received(Self.batch(7, [6, 7]), from: "s0")
        #expect(first.count == 1)
        #expect(first[0].events.map(\.shard) == ["s0", "s0"])
        #expect(!first[0].caughtUp, "s1 has not caught up")
        let second = merge.received(Self.batch(3, [3], caughtUp: true), from: "s1")
        #expect(!second[0].caughtUp, "s0's latest batch was not caught up")
        let third = merge.received(Self.batch(9, [9], caughtUp: true), from: "s0")
        #expect(third[0].caughtUp, "every shard's latest batch was")

        // Resumed from the last position: each shard from its own sequence.
        let resumed = try ShardFeedMerge(
            .with { $0.afterPosition = third[0].throughPosition }, service: "interaction-service", shards: shards)
        #expect(resumed.request(for: "s0").afterSequence == 9)
        #expect(resumed.request(for: "s1").afterSequence == 3)
        #expect(resumed.request(for: "s0").afterPosition.isEmpty, "a shard is asked by its own sequence")
        // A shard the map gained since starts at its oldest event.
        let grown = try ShardFeedMerge(
            .with { $0.afterPosition = third[0].throughPosition }, service: "interaction-service",
            shards: shards + ["s2"])
        #expect(grown.request(for: "s2").afterSequence == 0)
    }

    final class Passed: Sendable {
        let positions = Mutex<[String]>([])
    }

    /// Shards answer at the same time: batches are passed on in the order their positions were made, so each
    /// position passed on is at or past the one before for every shard, and the last names every shard's latest (a
    /// client resuming from it gets no event twice).
    @Test func batchesPassedOnConcurrentlyKeepTheirPositionsInOrder() async throws {
        let merge = try ShardFeedMerge(.init(), service: "interaction-service", shards: ["s0", "s1"])
        let passed = Passed()
        await withTaskGroup(of: Void.self) { group in
            for shard in ["s0", "s1"] {
                group.addTask {
                    for sequence in 1...300 {
                        merge.received(Self.batch(UInt64(sequence), [UInt64(sequence)]), from: shard) { batch in
                            passed.positions.withLock { $0.append(batch.throughPosition) }
                        }
                    }
                }
            }
        }
        var previous: [String: UInt64] = ["s0": 0, "s1": 0]
        for position in passed.positions.withLock({ $0 }) {
            let resumed = try ShardFeedMerge(
                .with { $0.afterPosition = position }, service: "interaction-service", shards: ["s0", "s1"])
            for shard in ["s0", "s1"] {
                let sequence = resumed.request(for: shard).afterSequence
                #expect(
                    sequence >= previous[shard] ?? 0, "\(shard) went back from \(previous[shard] ?? 0) to \(sequence)")
                previous[shard] = sequence
            }
        }
        #expect(previous == ["s0": 300, "s1": 300], "the last position names both shards' latest")
    }

    @Test func aStartAtTheHeadAnswersOneBatchNamingEveryHead() throws {
        let merge = try ShardFeedMerge(
            .with { $0.startAtHead = true }, service: "success-service", shards: ["s0", "s1"])
        #expect(merge.received(Self.batch(40, [], caughtUp: true), from: "s1").isEmpty, "s0's head is not known yet")
        #expect(merge.received(Self.batch(41, [41]), from: "s1").isEmpty, "held until every head is known")
        let out = merge.received(Self.batch(12, [], caughtUp: true), from: "s0")
        #expect(out.count == 2)
        #expect(out[0].events.isEmpty)
        #expect(out[1].events.map(\.sequence) == [41] && out[1].events.map(\.shard) == ["s1"])
        let resumed = try ShardFeedMerge(
            .with { $0.afterPosition = out[0].throughPosition }, service: "success-service", shards: ["s0", "s1"])
        #expect(resumed.request(for: "s0").afterSequence == 12)
        #expect(resumed.request(for: "s1").afterSequence == 40, "the head, not the oldest event")
    }

    @Test func positionsOfAnotherFeedOrOneShardsSequenceAreRefused() throws {
        let other = try ShardFeedMerge(.init(), service: "success-service", shards: ["s0"])
        let position = other.received(Self.batch(5, [5]), from: "s0")[0].throughPosition
        #expect(throws: RPCError.self) {
            _ = try ShardFeedMerge(
                .with { $0.afterPosition = position }, service: "interaction-service", shards: ["s0"])
        }
        #expect(throws: RPCError.self) {
            _ = try ShardFeedMerge(.with { $0.afterSequence = 5 }, service: "interaction-service", shards: ["s0"])
        }
        #expect(throws: RPCError.self) {
            _ = try ShardFeedMerge(
                .with { $0.afterPosition = "not-a-position" }, service: "interaction-service", shards: ["s0"])
        }
    }
}

/// The alert feed across success shards (`ShardAlertFeedMerge`): each event carries every shard's last event, and a
/// client resumes each shard after its own, so an event another shard made a moment earlier and sent later is not
/// skipped.
@Suite struct ShardAlertFeedMergeTests {
    static func event(_ id: String) -> Customer360_V1_AlertEvent { .with { $0.eventID = id } }

    @Test func eachShardResumesAfterItsOwnLastEvent() throws {
        let merge = try ShardAlertFeedMerge(.init(), shards: ["s0", "s1"])
        #expect(merge.request(for: "s0").afterEventID.isEmpty, "no position: the caller's request as it is")
        _ = merge.received(Self.event("0190-0005"), from: "s0")
        // s1's event was made before s0's last one but arrives after it.
        let last = merge.received(Self.event("0190-0003"), from: "s1")
        let resumed = try ShardAlertFeedMerge(.with { $0.afterPosition = last.position }, shards: ["s0", "s1"])
        #expect(resumed.request(for: "s0").afterEventID == "0190-0005")
        #expect(resumed.request(for: "s1").afterEventID == "0190-0003", "not after s0's later id: nothing skipped")
        #expect(resumed.request(for: "s1").afterPosition.isEmpty)
        // A shard the map gained resumes after the oldest event the position names.
        let grown = try ShardAlertFeedMerge(
            .with { $0.afterPosition = last.position }, shards: ["s0", "s1", "s2"])
        #expect(grown.request(for: "s2").afterEventID == "0190-0003")
    }

    @Test func aPositionOfAnotherStreamIsRefused() throws {
        let feed = try ShardFeedMerge(.init(), service: "success-service", shards: ["s0"])
        let position = feed.received(ShardFeedMergeTests.batch(5, [5]), from: "s0")[0].throughPosition
        #expect(throws: RPCError.self) {
            _ = try ShardAlertFeedMerge(.with { $0.afterPosition = position }, shards: ["s0"])
        }
    }
}
