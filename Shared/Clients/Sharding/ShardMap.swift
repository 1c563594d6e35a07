import C360StoreKit
public import Foundation

/// Which process owns which customers, per service: the customers are cut into a fixed number of slots by a hash of
/// their id (`ShardMap.slot(of:)`), and each service's slots are split into ranges, each range owned by one shard (a
/// process with its own SQLite files). Every caller routes with it (`ShardedClientTransport`), and every shard checks
/// with it that a call is its own (`ShardOwnershipInterceptor`), so both read the same file: in Kubernetes a
/// ConfigMap, here a JSON file given with `--shard-map`.
///
/// ```json
/// {
///   "epoch": 2,
///   "services": {
///     "interaction-service": [
///       {"shard": "interaction-0", "address": "interaction-0.interaction:7102", "slots": ["0-511"]},
///       {"shard": "interaction-1", "address": "interaction-1.interaction:7102", "slots": ["512-1023"]}
///     ]
///   }
/// }
/// ```
///
/// A service the map does not name is not sharded: its callers use its one address. The epoch grows with every
/// change of the map; a shard that refuses a call names its epoch, so a caller with an older map knows to reload.
public struct ShardMap: Sendable, Equatable {
    /// How many slots the customers are cut into. Fixed for the life of a deployment: a customer's slot never
    /// changes, only which shard owns it.
    public static let slotCount = CustomerSlot.count

    /// One shard of a service.
    public struct Shard: Sendable, Equatable, Codable {
        /// Its stable name (the StatefulSet pod's), which the process is started with (`--shard`).
        public var shard: String
        /// Where callers reach it, `host:port`.
        public var address: String
        /// The slot ranges it owns, each `first-last` (inclusive) or one slot.
        public var slots: [String]

        public init(shard: String, address: String, slots: [String]) {
            self.shard = shard
            self.address = address
            self.slots = slots
        }
    }

    /// A map that cannot be used, and why: a person must fix the file.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public let epoch: Int64
    /// The shards of each sharded service, by executable name (`interaction-service`).
    public let services: [String: [Shard]]
    /// Per service, the index into `services[name]` of each slot's owner.
    private let owners: [String: [Int]]

    /// Checks the map: each service's shards have distinct names and `host:port` addresses, and their ranges cover
    /// every slot exactly once.
    ///
    /// - Throws: `Invalid`, naming the service, shard and slots at fault.
    public init(epoch: Int64, services: [String: [Shard]]) throws(Invalid) {
        guard epoch >= 0 else { throw Invalid(description: "the shard map's epoch must be 0 or more, not \(epoch)") }
        var owners: [String: [Int]] = [:]
        for (service, shards) in services {
            guard !shards.isEmpty else {
                throw Invalid(description: "\(service) lists no shards; leave it out of the map to run it unsharded")
            }
            var owner = [Int](repeating: -1, count: Self.slotCount)
            var names: Set<String> = []
            for (index, shard) in shards.enumerated() {
                guard !shard.shard.isEmpty, names.insert(shard.shard).inserted else {
                    throw Invalid(description: "\(service) names shard '\(shard.shard)' twice, or not at all")
                }
                guard PeerAddress(shard.address) != nil else {
                    throw Invalid(
                        description:
                            "\(service) shard \(shard.shard): address must be host:port, not '\(shard.address)'")
                }
                for text in shard.slots {
                    let range = try Self.range(text, service: service, shard: shard.shard)
                    for slot in range {
                        guard owner[slot] < 0 else {
                            throw Invalid(
                                description: """
                                    \(service): slot \(slot) is given to both \(shards[owner[slot]].shard) \
                                    and \(shard.shard)
                                    """)
                        }
                        owner[slot] = index
                    }
                }
            }
            if let missing = owner.firstIndex(of: -1) {
                let end = owner[missing...].firstIndex { $0 >= 0 } ?? Self.slotCount
                throw Invalid(description: "\(service): slots \(missing)-\(end - 1) belong to no shard")
            }
            owners[service] = owner
        }
        self.epoch = epoch
        self.services = services
        self.owners = owners
    }

    /// Parses and checks a map file's bytes.
    public init(json: Data) throws(Invalid) {
        struct File: Decodable {
            var epoch: Int64
            var services: [String: [Shard]]
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: json)
        } catch {
            throw Invalid(description: "the shard map is not the expected JSON (epoch, services): \(error)")
        }
        try self.init(epoch: file.epoch, services: file.services)
    }

    /// The file's JSON, keys sorted, so a written map diffs cleanly.
    public var json: Data {
        struct File: Encodable {
            var epoch: Int64
            var services: [String: [Shard]]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? encoder.encode(File(epoch: epoch, services: services))) ?? Data()
    }

    /// A customer's slot: the first 8 bytes of SHA-256 of its id's UTF-8, read big-endian, modulo `slotCount`.
    /// Stated so any language can compute it; a hash, so neighbouring ids spread over every shard.
    public static func slot(of customerID: String) -> Int {
        CustomerSlot.of(customerID)
    }

    /// The shard of `service` that owns `customerID`; nil when the service is not sharded.
    public func owner(of customerID: String, in service: String) -> Shard? {
        owner(ofSlot: Self.slot(of: customerID), in: service)
    }

    /// The shard of `service` that owns `slot`; nil when the service is not sharded.
    public func owner(ofSlot slot: Int, in service: String) -> Shard? {
        guard let owner = owners[service], let shards = services[service] else { return nil }
        return shards[owner[slot]]
    }

    /// The named shard of `service`, if the map lists it.
    public func shard(named name: String, in service: String) -> Shard? {
        services[service]?.first { $0.shard == name }
    }

    /// How many slots `shard` of `service` owns.
    public func slotCount(of shard: String, in service: String) -> Int {
        guard let index = services[service]?.firstIndex(where: { $0.shard == shard }) else { return 0 }
        return owners[service]?.count { $0 == index } ?? 0
    }

    /// The slot ranges `shard` of `service` owns (none when the map does not list it).
    public func ranges(of shard: String, in service: String) -> [ClosedRange<Int>] {
        // Every range was parsed when the map was read.
        self.shard(named: shard, in: service)?.slots.compactMap { try? Self.slots($0) } ?? []
    }

    /// The map after moving `slots` of `service` to `target`: the next epoch, the slots taken from whoever owned them
    /// and each shard's ranges rewritten as the fewest `first-last` strings. What `<service> reshard` publishes.
    ///
    /// - Throws: `Invalid` when the service is not sharded or names no shard `target`.
    public func moving(_ slots: ClosedRange<Int>, of service: String, to target: String) throws(Invalid) -> ShardMap {
        guard var owner = owners[service], let shards = services[service] else {
            throw Invalid(description: "\(service) is not sharded in this map")
        }
        guard let index = shards.firstIndex(where: { $0.shard == target }) else {
            throw Invalid(description: "\(service) has no shard named '\(target)' in this map")
        }
        for slot in slots { owner[slot] = index }
        let rewritten = shards.enumerated().map { index, shard in
            Shard(
                shard: shard.shard, address: shard.address,
                slots: Self.texts(of: owner.indices.filter { owner[$0] == index }))
        }
        var services = services
        // A shard left with no slots stays listed (its process may still be draining); the check allows no ranges.
        services[service] = rewritten
        return try ShardMap(epoch: epoch + 1, services: services)
    }

    /// Ascending `slots` as the fewest `first-last` (or single-slot) strings: `slots(_:)` of each gives them back.
    public static func texts(of slots: [Int]) -> [String] {
        var texts: [String] = []
        var index = slots.startIndex
        while index < slots.endIndex {
            var last = index
            while last + 1 < slots.endIndex, slots[last + 1] == slots[last] + 1 { last += 1 }
            texts.append(last == index ? "\(slots[index])" : "\(slots[index])-\(slots[last])")
            index = last + 1
        }
        return texts
    }

    /// The slots `text` names, `first-last` or one slot, as in a map file or on a command line.
    public static func slots(_ text: String) throws(Invalid) -> ClosedRange<Int> {
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        let range: ClosedRange<Int>? =
            switch bounds.count {
            case 1: bounds[0].map { $0...$0 }
            case 2: bounds[0].flatMap { first in bounds[1].flatMap { last in first <= last ? first...last : nil } }
            default: nil
            }
        guard let range, range.lowerBound >= 0, range.upperBound < slotCount else {
            throw Invalid(description: "'\(text)' is not a slot range; write first-last within 0-\(slotCount - 1)")
        }
        return range
    }

    /// A map splitting every named service's slots evenly over `addresses` (shard names `<prefix>-0`, `-1`…), for
    /// the local launcher and tests.
    public static func even(
        epoch: Int64 = 1, services: [(name: String, shardPrefix: String, addresses: [String])]
    ) throws(Invalid) -> ShardMap {
        var listed: [String: [Shard]] = [:]
        for service in services {
            let count = service.addresses.count
            listed[service.name] = service.addresses.enumerated().map { index, address in
                let first = index * slotCount / count
                let last = (index + 1) * slotCount / count - 1
                return Shard(shard: "\(service.shardPrefix)-\(index)", address: address, slots: ["\(first)-\(last)"])
            }
        }
        return try ShardMap(epoch: epoch, services: listed)
    }

    private static func range(_ text: String, service: String, shard: String) throws(Invalid) -> ClosedRange<Int> {
        do {
            return try slots(text)
        } catch {
            throw Invalid(description: "\(service) shard \(shard): \(error.description)")
        }
    }
}
