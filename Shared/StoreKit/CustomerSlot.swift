import Crypto
import Foundation
import GRDB

/// Which of the fixed 1,024 slots a customer falls in: the unit a sharded deployment assigns to shards (the shard map)
/// and moves between them (resharding). Stated so any language can compute it: the first 8 bytes of SHA-256 of the
/// id's UTF-8, read big-endian, modulo 1,024. A hash, so neighbouring ids spread over every shard.
///
/// It lives with the stores because a store needs it inside SQL (`c360_slot(id)`, registered on every connection by
/// `ServiceDatabase`): the fence that stops writes to moving slots is checked by triggers in the write transaction.
public enum CustomerSlot {
    /// Fixed for the life of a deployment: a customer's slot never changes, only which shard owns it.
    public static let count = 1_024

    public static func of(_ customerID: String) -> Int {
        let digest = SHA256.hash(data: Data(customerID.utf8))
        let prefix = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Int(prefix % UInt64(count))
    }

    /// `c360_slot(text) → integer`, deterministic so SQLite may use it in triggers and indexes.
    static let sqlFunction = DatabaseFunction("c360_slot", argumentCount: 1, pure: true) { values in
        String.fromDatabaseValue(values[0]).map { of($0) }
    }
}
