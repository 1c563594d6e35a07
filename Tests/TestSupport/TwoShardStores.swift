public import C360ChangeFeed
import C360Contracts
public import C360ServerKit
public import C360StoreKit
public import Foundation
import SwiftProtobuf

/// Two stores of one service as the two shards of a `TwoShardMapFile` — the source owning every slot, the target
/// none — each with its `SlotMoves`: what every store-level move test runs against. A suite adds its own store's
/// set-up in an extension.
public struct TwoShardStores<Store: SlotMovable>: Sendable {
    public let map: TwoShardMapFile
    public var mapFile: URL { map.url }
    public let source: Store
    public let target: Store
    public let sourceMoves: SlotMoves
    public let targetMoves: SlotMoves

    /// - Parameter store: One shard's store, given the map file and that shard's settings (to count its own slots
    ///   with `TwoShardMapFile.ownedSlots` or `ownership`, as in a deployment).
    public init(
        service: String, shardPrefix: String, store: (TwoShardMapFile, ShardSettings) throws -> Store
    ) throws {
        let map = try TwoShardMapFile(service: service, shardPrefix: shardPrefix)
        self.map = map
        source = try store(map, map.source)
        target = try store(map, map.target)
        sourceMoves = SlotMoves(store: source, service: service, shards: map.source)
        targetMoves = SlotMoves(store: target, service: service, shards: map.target)
    }

    /// Gives every slot to the target in the map's next epoch, read again by both shards.
    public func flip() throws {
        try map.giveEverySlotToTarget()
    }

    /// Copies every customer from the source to the target, `limit` at a time; how many were copied.
    @discardableResult
    public func copyAll(limit: Int32 = 1) async throws -> Int {
        var after = ""
        var copied = 0
        repeat {
            let page = try await sourceMoves.exportSlots(
                .with {
                    $0.slots = ["0-1023"]
                    $0.afterCustomerID = after
                    $0.limit = limit
                })
            if !page.customers.isEmpty {
                _ = try await targetMoves.importSlotCustomers(.with { $0.customers = page.customers })
            }
            copied += page.customers.count
            after = page.nextCustomerID
        } while !after.isEmpty
        return copied
    }
}
