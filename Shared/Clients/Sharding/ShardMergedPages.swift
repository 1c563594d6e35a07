import C360Contracts
import C360StoreKit
import Foundation
import GRPCCore
import SwiftProtobuf

/// A list across customers read from every shard at once and merged in the list's own order, so a page of a sharded
/// service's list is the page one unsharded service would have given: the five lowest health scores are the five
/// lowest of all customers, not of the first shard's.
///
/// Each shard's list is ordered and paged by its own opaque keyset token. The merged token keeps, per shard, the
/// token of the page last read from it and how many of that page's items the merge has taken (`skip`): the next page
/// asks each shard for `skip + size` items from that token and drops the first `skip`, so it never needs to make a
/// shard's token itself. When `skip` grows past the page size (or the maximum a shard serves), the shard is first asked
/// for exactly `skip` items, whose next token is the position after them.
enum ShardMergedPages {
    /// Where the merge stands on one shard.
    struct Cursor: Codable, Equatable, Sendable {
        /// The shard's own token of the page last read ("" for its first).
        var token: String
        /// How many items of that page were taken already.
        var skip: Int
        /// Whether the shard has nothing left.
        var done: Bool
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
                return Array(repeating: Cursor(token: "", skip: 0, done: false), count: shards)
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
    /// `responsePage`, ordered by `before` (the order every shard lists in).
    static func merged<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message, Item: Sendable>(
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
            @Sendable func page(_ index: Int, token: String, count: Int) async throws -> Response {
                var asking = message
                asking[keyPath: requestPage] = .with {
                    $0.pageToken = token
                    $0.pageSize = Int32(count)
                }
                return try Response(
                    serializedBytes: try await ask(
                        try asking.serializedBytes(), [WrongShard.pinKey: .string(shards[index])]))
            }
            // Each shard's window: the items after those taken, and its cursor for them.
            let windows = try await withThrowingTaskGroup(of: (Int, Cursor, [Item], String).self) { group in
                for (index, cursor) in cursors.enumerated() where !cursor.done {
                    group.addTask {
                        var cursor = cursor
                        if cursor.skip > 0, cursor.skip >= size || cursor.skip + size > PageSize.maximum {
                            let passed = try await page(index, token: cursor.token, count: cursor.skip)
                            let next = passed[keyPath: responsePage].nextPageToken
                            cursor = Cursor(token: next, skip: 0, done: next.isEmpty)
                            if cursor.done { return (index, cursor, [], "") }
                        }
                        let answer = try await page(index, token: cursor.token, count: cursor.skip + size)
                        let window = Array(answer[keyPath: items].dropFirst(cursor.skip))
                        return (index, cursor, window, answer[keyPath: responsePage].nextPageToken)
                    }
                }
                var windows: [Int: (cursor: Cursor, items: [Item], next: String)] = [:]
                for try await (index, cursor, window, next) in group { windows[index] = (cursor, window, next) }
                return windows
            }
            // The merge, in the list's order, until the page is full or a shard's window runs out while the shard has
            // more (its next item could come before any other's).
            var taken = Array(repeating: 0, count: shards.count)
            var merged: [Item] = []
            while merged.count < size {
                var best: Int?
                var exhausted = false
                for (index, window) in windows.sorted(by: { $0.key < $1.key }) {
                    guard taken[index] < window.items.count else {
                        if !window.next.isEmpty { exhausted = true }
                        continue
                    }
                    if let current = best, let bestWindow = windows[current],
                        !before(window.items[taken[index]], bestWindow.items[taken[current]])
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
                if taken[index] == window.items.count {
                    next[index] = Cursor(token: window.next, skip: 0, done: window.next.isEmpty)
                } else {
                    next[index] = Cursor(
                        token: window.cursor.token, skip: window.cursor.skip + taken[index], done: false)
                }
            }
            var answer = Response()
            answer[keyPath: items] = merged
            answer[keyPath: responsePage].nextPageToken = Token.make(next)
            return try answer.serializedBytes()
        }
    }
}
