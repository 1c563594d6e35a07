public import C360Clients
public import C360Contracts
public import C360ServerKit
public import C360StoreKit
public import Foundation

extension ShardMap {
    /// interaction-service's slots split evenly over `addresses`, shards named `interaction-0`, `-1`…: the map the
    /// sharded tests and benchmarks run. Started on free ports, the shards first get it with placeholder addresses (a
    /// shard checks ownership by slot), then every caller gets it with the real ones under a later epoch.
    public static func interaction(_ addresses: [String], epoch: Int64) throws -> ShardMap {
        try even(
            epoch: epoch, services: [(name: "interaction-service", shardPrefix: "interaction", addresses: addresses)])
    }
}

extension ShardMap {
    /// interaction- and success-service each split evenly over their addresses (`interaction-0`…, `success-0`…), the
    /// same slots to the same index, as the sharded stack runs them.
    public static func interactionAndSuccess(
        _ interaction: [String], _ success: [String], epoch: Int64
    ) throws -> ShardMap {
        try even(
            epoch: epoch,
            services: [
                (name: "interaction-service", shardPrefix: "interaction", addresses: interaction),
                (name: "success-service", shardPrefix: "success", addresses: success),
            ])
    }
}

/// The map file of a slot move between two shards of one service, as the store-level move tests run it: the source
/// (`<prefix>-0`) owns every slot, the target (`<prefix>-1`) none, and each shard reads the file through its own
/// source, as its process would. `giveEverySlotToTarget()` publishes the flip.
public struct TwoShardMapFile: Sendable {
    public let url: URL
    public let service: String
    public let shardPrefix: String
    /// What the source shard's store and moves read (one map source, as in a process).
    public let source: ShardSettings
    public let target: ShardSettings

    public init(service: String, shardPrefix: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("c360-\(shardPrefix)-move-\(UUID()).json")
        self.service = service
        self.shardPrefix = shardPrefix
        try Self.map(service: service, shardPrefix: shardPrefix, epoch: 1, sourceOwns: true).json.write(to: url)
        source = ShardSettings(source: try ShardMapSource(path: url.path), shard: "\(shardPrefix)-0")
        target = ShardSettings(source: try ShardMapSource(path: url.path), shard: "\(shardPrefix)-1")
    }

    /// The slots `shards` owns in the map, for its store's reads across customers.
    public func ownership(_ shards: ShardSettings) -> CustomerOwnership {
        CustomerOwnership(shards: shards, service: service)
    }

    /// What a store of `shards` counts across customers: the slots it owns, as in a deployment, with
    /// `countingOwnSlots`; every row it holds otherwise.
    public func ownedSlots(_ shards: ShardSettings, countingOwnSlots: Bool) -> OwnedSlots {
        countingOwnSlots ? ownership(shards).slots : .everyone
    }

    /// The source's fence of every slot, for the move to the target under the next epoch.
    public var fenceEverySlot: Customer360_V1_FenceSlotsRequest {
        .with {
            $0.slots = ["0-1023"]
            $0.targetShard = "\(shardPrefix)-1"
            $0.epoch = 2
        }
    }

    /// Publishes the next epoch, giving every slot to the target, and has both shards read it.
    public func giveEverySlotToTarget(epoch: Int64 = 2) throws {
        try Self.map(service: service, shardPrefix: shardPrefix, epoch: epoch, sourceOwns: false).json.write(to: url)
        _ = source.source.reload()
        _ = target.source.reload()
    }

    public func remove() {
        try? FileManager.default.removeItem(at: url)
    }

    static func map(service: String, shardPrefix: String, epoch: Int64, sourceOwns: Bool) throws -> ShardMap {
        try ShardMap(
            epoch: epoch,
            services: [
                service: [
                    .init(shard: "\(shardPrefix)-0", address: "127.0.0.1:1", slots: sourceOwns ? ["0-1023"] : []),
                    .init(shard: "\(shardPrefix)-1", address: "127.0.0.1:2", slots: sourceOwns ? [] : ["0-1023"]),
                ]
            ])
    }
}
