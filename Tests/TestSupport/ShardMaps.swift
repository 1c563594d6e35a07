public import C360Clients

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
