import C360Contracts
import C360StoreKit
import Foundation
import GRPCCore
import SwiftProtobuf

/// A list across customers read from every shard at once and merged in the list's own order, so a page of a sharded
/// service's list is the page one unsharded service would have given: the five lowest health scores are the five
/// lowest of all customers, not of the first shard's.
///
/// Each shard's list is ordered and paged by its own opaque keyset token. The merged token keeps, per shard, the token
/// of the page last read from it and the last item taken from it: the next page asks each shard for a window from that
/// token and keeps only the items after that last one in the list's order, so no shard token is ever made up, and rows
/// that join or leave the list between pages move nothing that was or was not returned (as a keyset page of one
/// service). How many of the page were taken (`skip`) only sizes the window; past the page size (or the maximum a shard
/// serves), the shard is first asked for that many items, whose next token is the position after them.
///
/// When the caller allows partial answers (the gateway's forwarder, which passes the trailer on to clients), a shard
/// that cannot be reached is left out of the page and named in the `c360-missing-shards` trailer, as a merged count
/// names it; its cursor stays where it was, so once it answers again the listing takes it
/// up from there: nothing of it is lost, though what it holds before the items already listed then comes later than
/// its place. A page needs at least one shard: when none answers, the list fails.
enum ShardMergedPages {
    /// Where the merge stands on one shard.
    struct Cursor: Codable, Equatable, Sendable {
        /// The shard's own token of the page last read ("" for its first).
        var token: String
        /// About how many items of that page were taken already: the window asked for is this many more.
        var skip: Int
        /// The last item taken from this shard, encoded: the merge resumes after it.
        var last: Data?
        /// Whether the shard has nothing left.
        var done: Bool
    }

    /// One shard's part of a page: the items after the last taken, the page they end on, and the shard's cursor.
    struct Window<Item: Sendable>: Sendable {
        /// The cursor the page was read from, and the one after stepping over what was taken.
        var original: Cursor
        var cursor: Cursor
        var last: Item?
        /// How many of `items` came from the stepped-over part, which is behind `cursor.token`.
        var carried: Int
        var items: [Item]
        /// The page the window's items end on, whole, and the shard's token after it.
        var page: [Item]
        var next: String
    }

    /// Whether a shard's failure may leave it out of the page rather than fail the list (when the caller allows
    /// partial answers): it could not be reached, or its own call ran out of time. (A shard that refuses the caller's
    /// map, or the request, fails the list.) The gateway's front door asks each shard under three quarters of the
    /// call's deadline (`BackendForwarder.shardShareOfDeadline`), so a slow shard runs out first and is left out.
    static func isUnanswered(_ error: RPCError) -> Bool {
        [.unavailable, .deadlineExceeded].contains(error.code)
    }

    /// The merged list's token: the cursors, one per shard in map order, in the services' own token format
    /// (`PageToken`), issued for this many shards (a token from a map with another count is refused).
    enum Token {
        static func parse(_ text: String, shards: Int) throws(RPCError) -> [Cursor] {
            let token: PageToken<[Cursor]>?
            do {
                token = try PageToken<[Cursor]>.decode(text, filter: filter(shards))
            } catch {
                throw RPCError(
                    code: .invalidArgument,
                    message: "page.page_token: '\(text)' \(error.reason) for this list")
            }
            guard let cursors = token?.position else {
                return Array(repeating: Cursor(token: "", skip: 0, last: nil, done: false), count: shards)
            }
            guard cursors.count == shards, cursors.allSatisfy({ $0.skip >= 0 }) else {
                throw RPCError(
                    code: .invalidArgument,
                    message: "page.page_token: '\(text)' is not a page token of this list; start again without one")
            }
            return cursors
        }

        static func make(_ cursors: [Cursor]) -> String {
            guard cursors.contains(where: { !$0.done }) else { return "" }
            return PageToken(position: cursors, filter: filter(cursors.count)).encoded()
        }

        private static func filter(_ shards: Int) -> String { "across \(shards) shards" }
    }

    /// A `ShardSpreadCall` for a list whose request pages with `requestPage`, whose answer holds `items` and
    /// `responsePage`, ordered by `before` (the order every shard lists in, ties broken by a unique id).
    static func merged<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message, Item: SwiftProtobuf.Message>(
        _: Request.Type, _ requestPage: any WritableKeyPath<Request, Customer360_V1_PageRequest> & Sendable,
        _: Response.Type, _ responsePage: any WritableKeyPath<Response, Customer360_V1_PageResponse> & Sendable,
        _ items: any WritableKeyPath<Response, [Item]> & Sendable,
        ordered before: @escaping @Sendable (Item, Item) -> Bool
    ) -> ShardSpreadCall {
        { request, shards, ask in
            let message = try Request(serializedBytes: request)
            let requested = message[keyPath: requestPage].pageSize
            guard let size = PageSize.resolve(requested) else {
                throw RPCError(
                    code: .invalidArgument,
                    message: """
                        page.page_size: must be between 0 (default \(PageSize.default)) and \(PageSize.maximum), \
                        not \(requested)
                        """)
            }
            let cursors = try Token.parse(message[keyPath: requestPage].pageToken, shards: shards.count)
            /// One page of shard `index`: `count` items from its `token`.
            @Sendable func page(_ index: Int, token: String, count: Int) async throws -> (items: [Item], next: String) {
                var asking = message
                asking[keyPath: requestPage] = .with {
                    $0.pageToken = token
                    $0.pageSize = Int32(count)
                }
                let answer = try Response(
                    serializedBytes: try await ask(
                        try asking.serializedBytes(), [WrongShard.pinKey: .string(shards[index])]))
                return (answer[keyPath: items], answer[keyPath: responsePage].nextPageToken)
            }
            /// What of `fetched` comes after `last`, the item the merge last took from the shard.
            @Sendable func after(_ last: Item?, _ fetched: [Item]) -> [Item] {
                guard let last else { return fetched }
                return fetched.filter { before(last, $0) }
            }
            /// Shard `index`'s window from `cursor`.
            @Sendable func window(_ index: Int, _ cursor: Cursor) async throws -> Window<Item> {
                let original = cursor
                var cursor = cursor
                let last = try cursor.last.map { try Item(serializedBytes: $0) }
                var carried: [Item] = []
                if cursor.skip > 0, cursor.skip >= size || cursor.skip + size > PageSize.maximum {
                    // Step over what was taken; what of it comes after `last` (rows that left before it) stays.
                    let passed = try await page(index, token: cursor.token, count: cursor.skip)
                    carried = after(last, passed.items)
                    cursor.token = passed.next
                    cursor.skip = 0
                    if passed.next.isEmpty {
                        return Window(
                            original: original, cursor: cursor, last: last, carried: carried.count,
                            items: carried, page: [], next: "")
                    }
                }
                let fetched = try await page(index, token: cursor.token, count: cursor.skip + size)
                return Window(
                    original: original, cursor: cursor, last: last, carried: carried.count,
                    items: carried + after(last, fetched.items), page: fetched.items, next: fetched.next)
            }
            // Each shard's window: the items after the last taken, the page they end, and the shard's cursor for them.
            // A shard that cannot be reached is left out of this page (and named), its cursor kept for the next.
            var outcome = ShardFanOut.Outcome<(Int, Window<Item>)>(answers: [], failures: [])
            let results = await withTaskGroup(of: (Int, Result<Window<Item>, any Error>).self) { group in
                for (index, cursor) in cursors.enumerated() where !cursor.done {
                    group.addTask {
                        do {
                            return (index, .success(try await window(index, cursor)))
                        } catch {
                            return (index, .failure(error))
                        }
                    }
                }
                var results: [(Int, Result<Window<Item>, any Error>)] = []
                for await result in group { results.append(result) }
                return results.sorted { $0.0 < $1.0 }
            }
            for (index, result) in results {
                switch result {
                case .success(let window): outcome.answers.append((shards[index], (index, window)))
                case .failure(let error): outcome.failures.append((shards[index], error))
                }
            }
            let windows = Dictionary(uniqueKeysWithValues: try outcome.answers(leavingOutThrough: ask))
            // The merge, in the list's order, until the page is full or a shard's window runs out while the shard has
            // more (its next item could come before any other's).
            var taken = Array(repeating: 0, count: shards.count)
            var merged: [Item] = []
            let order = windows.keys.sorted()
            while merged.count < size {
                var best: Int?
                var exhausted = false
                for index in order {
                    let window = windows[index]!
                    guard taken[index] < window.items.count else {
                        if !window.next.isEmpty { exhausted = true }
                        continue
                    }
                    if let current = best, !before(window.items[taken[index]], windows[current]!.items[taken[current]])
                    {
                        continue
                    }
                    best = index
                }
                guard !exhausted, let best else { break }
                merged.append(windows[best]!.items[taken[best]])
                taken[best] += 1
            }
            var next = cursors
            for (index, window) in windows {
                let last = taken[index] > 0 ? window.items[taken[index] - 1] : window.last
                let encoded = try last.map { try Data($0.serializedBytes() as [UInt8]) }
                if taken[index] == window.items.count {
                    next[index] = Cursor(token: window.next, skip: 0, last: encoded, done: window.next.isEmpty)
                } else if taken[index] < window.carried {
                    // Stepped-over items are left: read from where this page was read, and step over again.
                    next[index] = Cursor(
                        token: window.original.token, skip: window.original.skip, last: encoded, done: false)
                } else {
                    // The same page again next time; how much of it is behind `last` sizes that window.
                    let behind = last.map { last in window.page.filter { !before(last, $0) }.count } ?? 0
                    next[index] = Cursor(token: window.cursor.token, skip: behind, last: encoded, done: false)
                }
            }
            var answer = Response()
            answer[keyPath: items] = merged
            answer[keyPath: responsePage].nextPageToken = Token.make(next)
            return try answer.serializedBytes()
        }
    }
}
