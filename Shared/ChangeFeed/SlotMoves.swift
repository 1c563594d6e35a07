import C360Clients
public import C360Contracts
public import C360ServerKit
public import C360StoreKit
import Foundation
public import GRDB
import GRPCCore

/// A shard's side of moving customers to another shard (`AdminService`'s FenceSlots, ExportSlots,
/// ImportSlotCustomers and DropSlots, driven by `<service> reshard`), for any store that names its customer tables
/// (`SlotMovable`).
///
/// A customer moves whole: every row of every customer table, sealed as stored, with the data key they are sealed
/// under. Importing replaces whatever the target held for that customer, so copying a customer twice — a mover
/// restarted after a kill, or a customer written again during the copy and caught up from the change feed — leaves
/// one copy. Each RPC checks the shard map in force (read again first): a shard exports and fences only slots it
/// owns, imports only slots it does not own yet, and drops only slots the map gives to another shard, so a mover
/// with a wrong plan cannot overwrite or delete live data.
public struct SlotMoves: SlotMoveService {
    let store: any SlotMovable
    let service: String
    let shards: ShardSettings?
    let tables: [CustomerTable]

    public init(store: any SlotMovable, service: String, shards: ShardSettings?) {
        self.store = store
        self.service = service
        self.shards = shards
        self.tables = type(of: store).customerTables
    }

    public func fenceSlots(_ request: Customer360_V1_FenceSlotsRequest) async throws
        -> Customer360_V1_FenceSlotsResponse
    {
        let ranges = try slotRanges(request.slots)
        if request.lift {
            let head = try await store.database.write { db in
                try lift(db, ranges)
                return try self.head(db)
            }
            return .with { $0.feedHead = UInt64(head) }
        }
        let map = try requireOwnership(of: ranges, owned: true)
        guard map.shard(named: request.targetShard, in: service) != nil else {
            throw InvalidArgument("target_shard", "'\(request.targetShard)' is not a shard of \(service) in the map")
        }
        // Work the store cannot cut in two is waited for: checked and fenced in one write transaction, so nothing can
        // begin in between.
        let waitingSince = ContinuousClock.now
        while true {
            let fenced: Result<Int64, Blocked> = try await store.database.write { db in
                if let reason = try store.fenceBlocker(db, ranges) { return .failure(Blocked(reason: reason)) }
                try SlotFence.fence(db, ranges, epoch: request.epoch, target: request.targetShard, tables: tables)
                // Rows this shard copied in of these slots are its own now: the fence stands for them until the drop.
                try SlotCopies.forget(db, ranges)
                return .success(try head(db))
            }
            switch fenced {
            case .success(let head): return .with { $0.feedHead = UInt64(head) }
            case .failure(let blocked) where ContinuousClock.now - waitingSince >= Self.fenceWait:
                throw RPCError(
                    code: .unavailable,
                    message: """
                        slots \(request.slots.joined(separator: ", ")) cannot be fenced yet: \(blocked.reason) \
                        (waited \(Self.fenceWait)); run the move again to resume it
                        """)
            case .failure:
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// How long a fence waits for work the store cannot cut in two (`SlotMovable.fenceBlocker`).
    static var fenceWait: Duration { .seconds(30) }

    private struct Blocked: Error {
        var reason: String
    }

    /// Whether the store's catch-up reads its touch log, which is written only while a move is logged.
    var logsTouches: Bool {
        if case .touchLog = type(of: store).catchUp { true } else { false }
    }

    /// The position a catch-up starts after: the head of the change feed or of the touch log, as the store says.
    func head(_ db: Database) throws -> Int64 {
        logsTouches ? try SlotTouchLog.head(db) : try ChangeLog.head(db)
    }

    /// Lifts the fence of `ranges` (a move that ended, or was called off), ends the logging of their writes and forgets
    /// their copies (a drop takes them out).
    private func lift(_ db: Database, _ ranges: [ClosedRange<Int>]) throws {
        try SlotFence.lift(db, ranges, tables: tables)
        try SlotCopies.forget(db, ranges)
        if logsTouches { try SlotTouchLog.end(db, ranges, tables: tables) }
    }

    public func exportSlots(_ request: Customer360_V1_ExportSlotsRequest) async throws
        -> Customer360_V1_ExportSlotsResponse
    {
        let ranges = try slotRanges(request.slots)
        guard (0...1_000).contains(request.limit) else { throw InvalidArgument("limit", "use 1–1,000, or 0 for 100") }
        try requireOwnership(of: ranges, owned: true)
        let keyring = store.dataKeys
        if request.referenceData {
            let references = type(of: store).referenceTables
            return try await store.database.read { db in
                try .with {
                    $0.referenceTables = try references.map { table in
                        let names = try referenceColumns(db, table)
                        let rows = try Row.fetchAll(
                            db,
                            sql: """
                                SELECT \(names.map { "\"\($0)\"" }.joined(separator: ", ")) FROM \(table.name)\
                                \(table.assignedKey.map { " ORDER BY \($0)" } ?? "")
                                """)
                        return .with {
                            $0.name = table.name
                            $0.columns = names
                            $0.rows = rows.map { row in
                                .with { $0.values = row.databaseValues.map(Customer360_V1_SlotValue.init) }
                            }
                        }
                    }
                    $0.throughSequence = UInt64(try head(db))
                }
            }
        }
        if request.catchUp {
            let after = Int64(clamping: request.changedAfterSequence)
            let scan = request.limit == 0 ? 1_000 : Int(request.limit)
            return try await store.database.read { db in
                if logsTouches {
                    guard try SlotTouchLog.isLogging(db, ranges, since: after) else {
                        throw RPCError(
                            code: .failedPrecondition,
                            message: """
                                writes to slots \(ranges.map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ", ")) \
                                are not being logged here for a move since \(after): start the move again from the copy
                                """)
                    }
                    try requireUnpruned(after, prunedThrough: try SlotTouchLog.prunedThrough(db), log: "touch log")
                    let touched = try SlotTouchLog.touched(db, after: after, limit: scan)
                    return try catchUpPage(
                        db, changed: touched, through: touched.last?.sequence ?? after,
                        caughtUp: touched.count < scan, after: after, ranges: ranges, keyring: keyring)
                }
                try requireUnpruned(after, prunedThrough: try ChangeLog.prunedThrough(db), log: "change feed")
                let batch = try ChangeLog.batch(db, after: after, filter: ChangeFilter(), limit: scan)
                let changed = batch.records.flatMap { record in
                    [record.customerId, record.relatedCustomerId].filter { !$0.isEmpty }.map {
                        (customerID: $0, sequence: record.sequence ?? after + 1)
                    }
                }
                return try catchUpPage(
                    db, changed: changed, through: batch.through, caughtUp: batch.caughtUp, after: after,
                    ranges: ranges, keyring: keyring)
            }
        }
        let limit = request.limit == 0 ? 100 : Int(request.limit)
        if logsTouches {
            // Before the page and its head are read: every write after that read is then logged for the catch-up.
            try await store.database.write { db in try SlotTouchLog.begin(db, ranges, tables: tables) }
        }
        return try await store.database.read { db in
            let ids = try customers(db, in: ranges, after: request.afterCustomerID, limit: limit)
            let columns = try copiedColumns(db)
            var page = Page()
            for id in ids {
                try page.add(try export(db, id, columns: columns, keyring: keyring))
                if page.isFull { break }
            }
            let more = page.customers.count < ids.count || ids.count == limit
            return try .with {
                $0.customers = page.customers
                $0.nextCustomerID = more ? page.customers.last?.customerID ?? "" : ""
                $0.throughSequence = UInt64(try head(db))
            }
        }
    }

    /// Refuses a catch-up from before what `log` still holds (pruned through `prunedThrough`).
    private func requireUnpruned(_ after: Int64, prunedThrough pruned: Int64, log: String) throws {
        guard after < pruned else { return }
        throw RPCError(
            code: .failedPrecondition,
            message: """
                the \(log) was pruned through \(pruned), past \(after): changes since then cannot be caught up; \
                start the move again from the copy
                """)
    }

    /// A catch-up page: the customers of `ranges` among `changed` (in log order, each with its position), each
    /// exported once, until the page is full; then the page covers the positions before the first customer it could
    /// not take, and the next page starts there. Otherwise it covers `through`.
    func catchUpPage(
        _ db: Database, changed: [(customerID: String, sequence: Int64)], through: Int64, caughtUp: Bool, after: Int64,
        ranges: [ClosedRange<Int>], keyring: Keyring
    ) throws -> Customer360_V1_ExportSlotsResponse {
        let columns = try copiedColumns(db)
        var page = Page()
        var (through, caughtUp) = (through, caughtUp)
        for (customerID, sequence) in changed
        where Self.contains(ranges, CustomerSlot.of(customerID)) && !page.holds(customerID) {
            guard !page.isFull else {
                through = sequence - 1
                caughtUp = false
                break
            }
            try page.add(try export(db, customerID, columns: columns, keyring: keyring))
        }
        return .with {
            $0.customers = page.customers
            $0.throughSequence = UInt64(max(through, after))
            $0.caughtUp = caughtUp
        }
    }

    /// One answer of `ExportSlots`, kept well under gRPC's 4 MiB message limit (the answer, and the import the mover
    /// sends on): it is full past 100 customers or 1 MiB of customers. One customer larger than the limit alone still
    /// fails the call.
    struct Page {
        static let customerLimit = 100
        static let byteBudget = 1 << 20
        private(set) var customers: [Customer360_V1_SlotCustomer] = []
        private var ids: Set<String> = []
        private var bytes = 0

        var isFull: Bool { customers.count >= Self.customerLimit || bytes >= Self.byteBudget }
        func holds(_ id: String) -> Bool { ids.contains(id) }

        mutating func add(_ customer: Customer360_V1_SlotCustomer) throws {
            customers.append(customer)
            ids.insert(customer.customerID)
            let encoded: [UInt8] = try customer.serializedBytes()
            bytes += encoded.count
        }
    }

    public func importSlotCustomers(_ request: Customer360_V1_ImportSlotCustomersRequest) async throws
        -> Customer360_V1_ImportSlotCustomersResponse
    {
        guard !request.customers.isEmpty || !request.referenceTables.isEmpty else {
            throw InvalidArgument("customers", "send at least one customer, or reference_tables")
        }
        try requireOwnership(
            of: Set(request.customers.map { CustomerSlot.of($0.customerID) }).map { $0...$0 }, owned: request.append)
        let references = type(of: store).referenceTables
        let (columns, referenceColumns) = try await store.database.read { db in
            (
                try copiedColumns(db),
                try Dictionary(uniqueKeysWithValues: references.map { ($0.name, try self.referenceColumns(db, $0)) })
            )
        }
        for (index, customer) in request.customers.enumerated() {
            try validate(customer, columns: columns, field: "customers[\(index)]")
        }
        for (index, table) in request.referenceTables.enumerated() {
            guard let expected = referenceColumns[table.name] else {
                throw InvalidArgument(
                    "reference_tables[\(index)].name", "'\(table.name)' is not reference data of \(service)")
            }
            guard Set(table.columns) == Set(expected), table.columns.count == expected.count,
                table.rows.allSatisfy({ $0.values.count == table.columns.count })
            else {
                throw InvalidArgument(
                    "reference_tables[\(index)]",
                    "must be the columns \(expected.joined(separator: ", ")), a value each")
            }
        }
        // In the order the store lists its reference tables: rows refer to earlier ones.
        let referenceData = references.compactMap { table in request.referenceTables.first { $0.name == table.name } }
        // A customer this shard erased arrives empty: nothing of them is sealed or stored here again.
        let erased = try await store.database.read { db in
            try Set(request.customers.map(\.customerID).filter { try store.wasErased(db, $0) })
        }
        // Sealed values are opened with the keys that came with them and sealed under this shard's keys first, outside
        // the write: the keyring is its own database, and a key it creates for a customer whose rows then fail to
        // commit seals nothing.
        let customers = try request.customers.map { customer in
            if erased.contains(customer.customerID) {
                return Customer360_V1_SlotCustomer.with { $0.customerID = customer.customerID }
            }
            return try resealed(customer)
        }
        let append = request.append
        try await store.database.write { db in
            // Checked at commit: a customer's rows may refer to one another in any order (a merged-away profile
            // names its survivor).
            try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
            // Reference rows this shard holds already are kept, or brought up to date where the store says how (a
            // retire this shard missed).
            for table in referenceData {
                let refresh = references.first { $0.name == table.name }?.refresh
                let insert = try db.cachedStatement(
                    sql: """
                        INSERT \(refresh == nil ? "OR IGNORE " : "")INTO \(table.name) \
                        (\(table.columns.map { "\"\($0)\"" }.joined(separator: ", "))) \
                        VALUES (\(databaseQuestionMarks(count: table.columns.count)))\
                        \(refresh.map { " ON CONFLICT (\($0.conflict)) DO UPDATE SET \($0.set)" } ?? "")
                        """)
                for row in table.rows {
                    try insert.execute(arguments: StatementArguments(row.values.map(\.databaseValue)))
                }
            }
            for customer in customers { try insert(db, customer, append: append) }
            // Copies of slots this shard does not own yet: its reads across customers leave them out until it does.
            if !append { try SlotCopies.record(db, slots: Set(customers.map { CustomerSlot.of($0.customerID) })) }
        }
        // A customer with nothing left on the source (erased meanwhile) keeps no key here either.
        if !append {
            try store.dataKeys.shred(customers.filter { $0.dataKey.isEmpty && $0.tables.isEmpty }.map(\.customerID))
        }
        return .with { $0.imported = Int32(request.customers.count) }
    }

    public func recordHeldSlots() throws -> [Int] {
        guard let owned = CustomerOwnership(shards: shards, service: service).ownedRanges else { return [] }
        // Read first: at almost every start there is nothing to record, and the scan need not hold the writer.
        let found = try store.database.read { db in try SlotCopies.unrecorded(db, owned: owned, tables: tables) }
        if !found.isEmpty { try store.database.write { db in try SlotCopies.record(db, slots: Set(found)) } }
        return found
    }

    public func dropSlots(_ request: Customer360_V1_DropSlotsRequest) async throws -> Customer360_V1_DropSlotsResponse {
        let ranges = try slotRanges(request.slots)
        guard (0...1_000).contains(request.limit) else { throw InvalidArgument("limit", "use 1–1,000, or 0 for 100") }
        try requireOwnership(of: ranges, owned: false)
        let limit = request.limit == 0 ? 100 : Int(request.limit)
        let (ids, done, keyed) = try await store.database.read { db in
            // Rows a merge re-keyed here wait to be handed to their customer's shard (`SlotHandoff`), which deletes
            // them once it has them: dropped now, they would be lost. Listed again by every call, so fetched beyond
            // the page.
            let queued = try SlotCopies.queuedForHandoff(db)
            let listed = try customers(db, in: ranges, after: "", limit: limit + queued.count)
            let ids = listed.filter { !queued.contains($0) }
            let leaving = Set(ids)
            let columns = try copiedColumns(db)
            var keyed: [String] = []
            for id in ids where try store.holdsDataKey(db, id) {
                keyed += [id] + (try keysLeaving(db, with: id, leaving: leaving, columns: columns))
            }
            return (ids, listed.count < limit + queued.count, Array(Set(keyed)).sorted())
        }
        // Keys first: a crash before the rows are deleted leaves rows nobody can open, deleted by the next call.
        try store.dataKeys.shred(keyed)
        try await store.database.write { db in
            try SlotFence.bypassing(db) {
                for id in ids { try remove(db, id) }
            }
            if done { try lift(db, ranges) }
        }
        return .with {
            $0.dropped = Int32(ids.count)
            $0.done = done
        }
    }

    // MARK: - Importing

    /// `customer` with every sealed value sealed again under this shard's keys, opened with the keys that came with it.
    func resealed(_ customer: Customer360_V1_SlotCustomer) throws -> Customer360_V1_SlotCustomer {
        var customer = customer
        let keys = customer.otherDataKeys.merging(
            customer.dataKey.isEmpty ? [:] : [customer.customerID: customer.dataKey]
        ) { $1 }
        var resealer = SlotResealer(keys: keys, keyring: store.dataKeys)
        for table in customer.tables.indices {
            let json = Set(tables.first { $0.name == customer.tables[table].name }?.sealedJSONColumns ?? [])
            let columns = customer.tables[table].columns
            for row in customer.tables[table].rows.indices {
                for value in customer.tables[table].rows[row].values.indices {
                    switch customer.tables[table].rows[row].values[value].value {
                    case .blob(let bytes):
                        guard let resealed = try resealer.blob(bytes) else { continue }
                        customer.tables[table].rows[row].values[value].blob = resealed
                    case .text(let text) where json.contains(columns[value]):
                        customer.tables[table].rows[row].values[value].text = try resealer.json(text)
                    default:
                        continue
                    }
                }
            }
        }
        return customer
    }

    /// Stores one resealed customer in the caller's transaction: replacing what this shard holds of them, or, for a
    /// handover (`append`), adding to it.
    func insert(_ db: Database, _ customer: Customer360_V1_SlotCustomer, append: Bool) throws {
        if append {
            try store.customerLeaving(db, customer.customerID)
        } else {
            try remove(db, customer.customerID)
        }
        var kept: [(table: String, rows: [Row])] = []
        for table in customer.tables {
            let names = table.columns.map { "\"\($0)\"" }.joined(separator: ", ")
            // A handover keeps what is here already (a row handed over twice, or a key both sides hold).
            let insert = try db.cachedStatement(
                sql: """
                    INSERT \(append ? "OR IGNORE " : "")INTO \(table.name) (\(names)) \
                    VALUES (\(databaseQuestionMarks(count: table.columns.count)))
                    """)
            var keptRows: [Row] = []
            for row in table.rows {
                let values = row.values.map(\.databaseValue)
                try insert.execute(arguments: StatementArguments(values))
                if append, db.changesCount == 0 {
                    keptRows.append(Row(Dictionary(zip(table.columns, values)) { first, _ in first }))
                }
            }
            if !keptRows.isEmpty { kept.append((table.name, keptRows)) }
            try checkGenerated(db, table, of: customer.customerID)
        }
        for (table, rows) in kept { try store.handOverKept(db, customer.customerID, table: table, rows: rows) }
        if append { try store.customerGrew(db, customer.customerID) }
        try store.customerArrived(db, customer.customerID)
    }

    /// A customer handed over by another shard (a profile family for a merge across shards), checked against this
    /// store's tables and sealed again under this shard's keys, outside any transaction: `insert(_:handedOver:)`
    /// then stores it inside the caller's.
    public func prepare(handedOver customer: Customer360_V1_SlotCustomer) async throws -> HandedOverCustomer {
        let columns = try await store.database.read { db in try copiedColumns(db) }
        try validate(customer, columns: columns, field: "family")
        return HandedOverCustomer(customer: try resealed(customer))
    }

    /// Stores a prepared customer in the caller's transaction, replacing what this shard holds under their id.
    public func insert(_ db: Database, handedOver prepared: HandedOverCustomer) throws {
        try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
        try insert(db, prepared.customer, append: false)
    }

    // MARK: - Rows

    /// Up to `limit` customers of `ranges` after `after`, in id order, listed from the tables that list customers.
    func customers(_ db: Database, in ranges: [ClosedRange<Int>], after: String, limit: Int) throws -> [String] {
        let page = 1_000
        let listing = tables.filter(\.listsCustomers).map { table in
            "SELECT \(table.customerColumn) AS id FROM \(table.name) WHERE \(table.customerColumn) > ?1"
        }
        let statement = try db.cachedStatement(sql: listing.joined(separator: " UNION ") + " ORDER BY id LIMIT ?2")
        var found: [String] = []
        var cursor = after
        while found.count < limit {
            let ids = try String.fetchAll(statement, arguments: [cursor, page])
            for id in ids where Self.contains(ranges, CustomerSlot.of(id)) {
                found.append(id)
                if found.count == limit { break }
            }
            guard ids.count == page, let last = ids.last else { break }
            cursor = last
        }
        return found
    }

    /// The columns of a reference table a shard joining the map copies: all but the assigned key and the shard's own.
    func referenceColumns(_ db: Database, _ table: ReferenceTable) throws -> [String] {
        try storedColumns(db, table.name).filter { $0 != table.assignedKey && !table.localColumns.contains($0) }
    }

    /// The columns a move copies, per table: all but the one the database assigns.
    func copiedColumns(_ db: Database) throws -> [String: [String]] {
        var columns: [String: [String]] = [:]
        for table in tables {
            columns[table.name] = try storedColumns(db, table.name).filter { $0 != table.assignedKey }
        }
        return columns
    }

    /// A table's columns but its generated ones (which cannot be inserted, and are computed again on the target):
    /// `table_info` leaves those out, where GRDB's `columns(in:)` lists them.
    func storedColumns(_ db: Database, _ table: String) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [table])
    }

    /// The customer whole: `columns` (`copiedColumns`) of every customer table, and the keys their sealed values need.
    func export(
        _ db: Database, _ customerID: String, columns: [String: [String]], keyring: Keyring
    ) throws -> Customer360_V1_SlotCustomer {
        var customer = Customer360_V1_SlotCustomer()
        customer.customerID = customerID
        if try store.holdsDataKey(db, customerID) {
            customer.dataKey = try keyring.exportDataKey(for: customerID) ?? Data()
        }
        var owners: Set<String> = []
        for table in tables {
            let names = columns[table.name] ?? []
            let rows = try rows(db, of: customerID, in: table, columns: names)
            guard !rows.isEmpty else { continue }
            owners.formUnion(Self.sealedOwners(of: rows, in: table, columns: names))
            customer.tables.append(
                .with {
                    $0.name = table.name
                    $0.columns = names
                    $0.rows = rows.map { row in
                        .with { $0.values = row.databaseValues.map(Customer360_V1_SlotValue.init) }
                    }
                })
        }
        for owner in owners.subtracting([customerID]).sorted() {
            if let key = try keyring.exportDataKey(for: owner) { customer.otherDataKeys[owner] = key }
        }
        return customer
    }

    /// The customer's rows of `table`, `columns` of each, in the order they are copied.
    func rows(_ db: Database, of customerID: String, in table: CustomerTable, columns names: [String]) throws -> [Row] {
        let order = table.assignedKey.map { " ORDER BY \($0)" } ?? ""
        let statement = try db.cachedStatement(
            sql: """
                SELECT \(names.map { "\"\($0)\"" }.joined(separator: ", ")) FROM \(table.name) \
                WHERE \(table.customerColumn) = ?\(order)
                """)
        return try Row.fetchAll(statement, arguments: [customerID])
    }

    /// The keys, besides `customerID`'s own, that go when the customer's rows leave this shard (with `leaving`), as
    /// the store says (`SlotMovable.othersKeysLeaving`); the rows are read for their owners only if it asks.
    ///
    /// - Parameter columns: `copiedColumns`, when the caller read them already (a drop, for each of its customers).
    public func keysLeaving(
        _ db: Database, with customerID: String, leaving: Set<String>, columns: [String: [String]]? = nil
    ) throws -> [String] {
        try store.othersKeysLeaving(db, with: customerID, leaving: leaving) {
            try sealedOwners(db, customerID, columns: try columns ?? copiedColumns(db))
        }
    }

    /// Whose keys the customer's rows are sealed under.
    func sealedOwners(_ db: Database, _ customerID: String, columns: [String: [String]]) throws -> Set<String> {
        var owners: Set<String> = []
        for table in tables {
            let names = columns[table.name] ?? []
            owners.formUnion(
                Self.sealedOwners(
                    of: try rows(db, of: customerID, in: table, columns: names), in: table, columns: names))
        }
        return owners
    }

    /// Whose keys `rows` are sealed under. A merge moves rows as they are: some may be sealed under a merged
    /// customer's key, in a column or inside a JSON column (a merge's undo snapshot).
    static func sealedOwners(of rows: [Row], in table: CustomerTable, columns names: [String]) -> Set<String> {
        var owners: Set<String> = []
        for row in rows {
            for (column, value) in zip(names, row.databaseValues) {
                switch value.storage {
                case .blob(let bytes):
                    if let owner = SealedText(combined: bytes).owner { owners.insert(owner) }
                case .string(let text) where table.sealedJSONColumns.contains(column):
                    owners.formUnion(SlotResealer.owners(inJSON: text))
                default:
                    continue
                }
            }
        }
        return owners
    }

    /// One customer's rows as a move exports them, read in the caller's transaction: what a profile shard hands to
    /// the survivor's shard for a merge across shards (`FamilyTransfers`).
    public func export(_ db: Database, customer customerID: String) throws -> Customer360_V1_SlotCustomer {
        try export(db, customerID, columns: try copiedColumns(db), keyring: store.dataKeys)
    }

    /// Deletes one customer's rows in the caller's transaction, past any fence (a customer handed to another shard).
    public func remove(_ db: Database, handedOver customerID: String) throws {
        try SlotFence.bypassing(db) { try remove(db, customerID) }
    }

    /// Deletes every row of the customer, after the store took them out of its state across customers.
    func remove(_ db: Database, _ customerID: String) throws {
        try store.customerLeaving(db, customerID)
        for table in tables {
            try db.cachedStatement(sql: "DELETE FROM \(table.name) WHERE \(table.customerColumn) = ?")
                .execute(arguments: [customerID])
        }
    }

    /// Refuses, inside the import's transaction, rows whose generated customer column (which `validate` could not
    /// see) names another customer than the one they came under.
    func checkGenerated(_ db: Database, _ table: Customer360_V1_SlotTable, of customerID: String) throws {
        guard let definition = tables.first(where: { $0.name == table.name }),
            !table.columns.contains(definition.customerColumn)
        else { return }
        let held =
            try Int.fetchOne(
                db.cachedStatement(
                    sql: "SELECT COUNT(*) FROM \(table.name) WHERE \(definition.customerColumn) = ?"),
                arguments: [customerID]) ?? 0
        guard held >= table.rows.count else {
            throw InvalidArgument(
                "customers[\(customerID)].tables[\(table.name)]",
                "has rows of another customer than \(customerID) (by its \(definition.customerColumn))")
        }
    }

    /// Checks an imported customer against this store's tables before anything is stored.
    func validate(_ customer: Customer360_V1_SlotCustomer, columns: [String: [String]], field: String) throws {
        guard !customer.customerID.isEmpty else { throw InvalidArgument("\(field).customer_id", "must not be empty") }
        guard customer.dataKey.isEmpty || customer.dataKey.count == 32 else {
            throw InvalidArgument("\(field).data_key", "a data key is 32 bytes, not \(customer.dataKey.count)")
        }
        if let (owner, key) = customer.otherDataKeys.first(where: { $0.value.count != 32 }) {
            throw InvalidArgument("\(field).other_data_keys[\(owner)]", "a data key is 32 bytes, not \(key.count)")
        }
        var named: Set<String> = []
        for (index, table) in customer.tables.enumerated() {
            let place = "\(field).tables[\(index)]"
            guard let definition = tables.first(where: { $0.name == table.name }), named.insert(table.name).inserted,
                let expected = columns[table.name]
            else {
                throw InvalidArgument(
                    "\(place).name", "'\(table.name)' is not a customer table of \(service), or is listed twice")
            }
            guard Set(table.columns) == Set(expected), table.columns.count == expected.count else {
                throw InvalidArgument(
                    "\(place).columns", "must be the columns \(expected.joined(separator: ", ")) in any order")
            }
            // A generated customer column is not sent: the database computes it from the row.
            let customerColumn = table.columns.firstIndex(of: definition.customerColumn)
            for (rowIndex, row) in table.rows.enumerated() {
                guard row.values.count == table.columns.count else {
                    throw InvalidArgument(
                        "\(place).rows[\(rowIndex)]", "has \(row.values.count) values, not one per column")
                }
                guard customerColumn.map({ row.values[$0].text == customer.customerID }) ?? true else {
                    throw InvalidArgument(
                        "\(place).rows[\(rowIndex)]", "belongs to another customer than \(customer.customerID)")
                }
            }
        }
    }

    // MARK: - The map

    /// The parsed `slots`, or the status that refuses the call (this process is not a shard, or a range is wrong).
    private func slotRanges(_ slots: [String]) throws -> [ClosedRange<Int>] {
        _ = try thisShard()
        guard !slots.isEmpty else { throw InvalidArgument("slots", "name at least one slot range, e.g. \"512-767\"") }
        var ranges: [ClosedRange<Int>] = []
        for text in slots {
            do {
                ranges.append(try ShardMap.slots(text))
            } catch {
                throw InvalidArgument("slots", error.description)
            }
        }
        return ranges
    }

    /// This process's shard settings and name, or the refusal for a process that is not a shard.
    private func thisShard() throws -> (ShardSettings, String) {
        guard let shards, let shard = shards.shard else {
            throw RPCError(
                code: .failedPrecondition,
                message: "this \(service) was not started as a shard (--shard): there is nothing to move from or to it")
        }
        return (shards, shard)
    }

    /// Reads the map again and checks that every slot of `ranges` is (or is not) this shard's.
    @discardableResult
    private func requireOwnership(of ranges: [ClosedRange<Int>], owned: Bool) throws -> ShardMap {
        let (shards, shard) = try thisShard()
        let map = shards.source.reload()
        for range in ranges {
            for slot in range where (map.owner(ofSlot: slot, in: service)?.shard == shard) != owned {
                throw RPCError(
                    code: .failedPrecondition,
                    message: owned
                        ? """
                        slot \(slot) is not \(shard)'s in shard map epoch \(map.epoch): a shard moves only slots it \
                        owns
                        """
                        : """
                        slot \(slot) is still \(shard)'s in shard map epoch \(map.epoch): a shard takes in or drops \
                        only slots the map gives to another
                        """)
            }
        }
        return map
    }

    static func contains(_ ranges: [ClosedRange<Int>], _ slot: Int) -> Bool {
        ranges.contains { $0.contains(slot) }
    }
}

extension Customer360_V1_SlotValue {
    init(_ value: DatabaseValue) {
        self.init()
        switch value.storage {
        case .null: null = true
        case .int64(let integer): self.integer = integer
        case .double(let real): self.real = real
        case .string(let text): self.text = text
        case .blob(let blob): self.blob = blob
        }
    }

    var databaseValue: DatabaseValue {
        switch value {
        case .integer(let integer): integer.databaseValue
        case .real(let real): real.databaseValue
        case .text(let text): text.databaseValue
        case .blob(let blob): blob.databaseValue
        case .null, nil: .null
        }
    }
}

/// A customer another shard handed over, checked and sealed under this shard's keys, ready to be stored
/// (`SlotMoves.prepare(handedOver:)`).
public struct HandedOverCustomer: Sendable {
    let customer: Customer360_V1_SlotCustomer
}
