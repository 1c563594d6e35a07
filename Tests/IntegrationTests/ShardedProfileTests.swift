import C360Clients
import C360Contracts
import C360StoreKit
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Testing

/// profile-service as two shards on loopback behind the gateway: each customer on the shard of its id's slot, every
/// identifier found and kept unique across both through the identifier index the shards keep among themselves.
@Suite("profile-service as shards: customers by id, identifiers indexed and unique across shards")
struct ShardedProfileTests {
    @Test(
        """
        through the gateway customers are created on both shards, each living on its id's shard only; every email is \
        found from either shard, a taken email is refused wherever the new customer would live and stores nothing, a \
        removed email is free for another shard's customer, and lists and batch reads across shards are whole
        """)
    func identifiersAcrossShards() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("c360-profile-shards-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try ProfileShardFiles(in: directory)
        let (mapFile, keyFile, shardFlags) = (files.mapFile, files.keyFile, files.shardFlags)

        // A shard without the deployment's blind-index key refuses to start: its index entries would not be found.
        let refused = try await ChildProcess.run(
            try ServiceBinaries.url(of: "profile-service"),
            [
                "--shard-map", mapFile.path, "--shard", "profile-0", "--port", "0", "--data-dir",
                directory.appendingPathComponent("refused").path,
            ])
        #expect(refused.status != 0)
        #expect(refused.output.contains("--blind-index-key-file"), "\(refused.output)")

        try await withService("profile-service", arguments: shardFlags + ["--shard", "profile-0"]) { shard0, client0 in
            try await withService("profile-service", arguments: shardFlags + ["--shard", "profile-1"]) {
                shard1, client1 in
                let real = try ProfileShardFiles.map(["\(shard0.address)", "\(shard1.address)"], epoch: 2)
                try real.json.write(to: mapFile)
                for client in [client0, client1] { try await waitForEpoch(2, of: client) }
                try await withService(
                    "gateway",
                    arguments: files.gatewayArguments
                ) { gatewayProcess, gatewayClient in
                    let admin = bearer(try await bootstrapSecret(of: gatewayProcess))
                    try await exercise(
                        map: real, shards: [.init(wrapping: client0), .init(wrapping: client1)],
                        indexes: [.init(wrapping: client0), .init(wrapping: client1)],
                        frontDoor: .init(wrapping: gatewayClient), admin: admin, mapFile: mapFile, keyFile: keyFile)
                }
            }
        }
    }
}

/// What profile-service shards on loopback share: a shard map file (first with unreachable addresses, until the shards
/// are started and the real ones written) and the deployment's blind-index key.
struct ProfileShardFiles {
    let mapFile: URL
    let keyFile: URL

    init(in directory: URL) throws {
        mapFile = directory.appendingPathComponent("shard-map.json")
        keyFile = directory.appendingPathComponent("blind-index.key")
        try Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString().write(
            to: keyFile, atomically: true, encoding: .utf8)
        try Self.map(["127.0.0.1:1", "127.0.0.1:2"], epoch: 1).json.write(to: mapFile)
    }

    /// The flags every shard starts with (and `--shard`).
    var shardFlags: [String] { ["--shard-map", mapFile.path, "--blind-index-key-file", keyFile.path] }

    /// A gateway routing profile calls by the map, its other peers unreachable (their sections answer as missing).
    var gatewayArguments: [String] {
        [
            "--shard-map", mapFile.path, "--profile-addr", "127.0.0.1:1", "--interaction-addr", "127.0.0.1:1",
            "--success-addr", "127.0.0.1:1", "--feedback-addr", "127.0.0.1:1", "--peer-deadline-ms",
            "\(peerDeadlineMs)",
        ]
    }

    /// The slots split evenly over shards at `addresses`, named profile-0, profile-1, …
    static func map(_ addresses: [String], epoch: Int64) throws -> ShardMap {
        try ShardMap.even(
            epoch: epoch, services: [(name: "profile-service", shardPrefix: "profile", addresses: addresses)])
    }
}

private typealias ProfileClient = Customer360_V1_ProfileService.Client<HTTP2ClientTransport.Posix>

/// Waits until the process serves shard map `epoch` (it reads the file every 2 s).
func waitForEpoch(_ epoch: Int64, of client: GRPCClient<HTTP2ClientTransport.Posix>) async throws {
    let admin = Customer360_V1_AdminService.Client(wrapping: client)
    let deadline = ContinuousClock.now + .seconds(15)
    while try await admin.getServerInfo(.init()).shardMapEpoch < epoch {
        try #require(ContinuousClock.now < deadline, "the shard never read map epoch \(epoch)")
        try await Task.sleep(for: .milliseconds(100))
    }
}

private func email(_ index: Int) -> Customer360_V1_Identifier {
    .with {
        $0.kind = .email
        $0.value = "shopper\(index)@example.org"
    }
}

private func exercise(
    map: ShardMap, shards: [ProfileClient],
    indexes: [Customer360_V1_ProfileShardService.Client<HTTP2ClientTransport.Posix>], frontDoor: ProfileClient,
    admin: Metadata, mapFile: URL, keyFile: URL
) async throws {
    // Customers are created through the front door until each shard owns two: a create goes to a random shard,
    // which mints an id of its own slots.
    var owned: [[String]] = [[], []]
    var emails: [String: Int] = [:]
    var created = 0
    while owned.contains(where: { $0.count < 2 }), created < 64 {
        let customer = try await frontDoor.createCustomer(
            .with {
                $0.givenName = "Shopper"
                $0.familyName = "\(created)"
                $0.identifiers = [email(created)]
            }, metadata: admin)
        let owner = try #require(map.owner(of: customer.customerID, in: "profile-service"))
        owned[owner.shard == "profile-0" ? 0 : 1].append(customer.customerID)
        emails[customer.customerID] = created
        created += 1
    }
    try #require(owned.allSatisfy { $0.count >= 2 }, "64 creates reached both shards")
    let customers = owned.flatMap { $0 }

    // Each customer lives on its id's shard only; the other refuses it, naming the owner.
    for (index, ids) in owned.enumerated() {
        for id in ids {
            #expect(try await shards[index].getCustomer(.with { $0.customerID = id }).customerID == id)
            let error = await #expect(throws: RPCError.self) {
                _ = try await shards[1 - index].getCustomer(.with { $0.customerID = id })
            }
            #expect(error?.code == .failedPrecondition)
            #expect(
                error?.message.contains("belongs to shard profile-\(index)") == true, "\(String(describing: error))")
        }
    }

    // Every email is found, through the front door and asked of either shard directly.
    for id in customers {
        let identifier = email(try #require(emails[id]))
        #expect(
            try await frontDoor.lookupCustomer(.with { $0.identifier = identifier }, metadata: admin).customerID == id)
        for shard in shards {
            #expect(try await shard.lookupCustomer(.with { $0.identifier = identifier }).customerID == id)
        }
    }
    let unknown = await #expect(throws: RPCError.self) {
        _ = try await frontDoor.lookupCustomer(.with { $0.identifier = email(9_999) }, metadata: admin)
    }
    #expect(unknown?.code == .notFound)

    // A taken email is refused wherever the new customer would live (the create goes to a random shard), and
    // nothing is stored.
    func listed() async throws -> [String] {
        var ids: [String] = []
        var token = ""
        repeat {
            let page = try await frontDoor.listCustomers(
                .with {
                    $0.page.pageSize = 3
                    $0.page.pageToken = token
                }, metadata: admin)
            ids += page.customers.map(\.customerID)
            token = page.page.nextPageToken
        } while !token.isEmpty && ids.count <= created + 8
        return ids
    }
    let before = try await listed()
    #expect(before == customers.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }, "each once, in id order")
    for attempt in 0..<8 {
        let holder = customers[attempt % customers.count]
        let taken = await #expect(throws: RPCError.self) {
            _ = try await frontDoor.createCustomer(
                .with {
                    $0.givenName = "Duplicate \(attempt)"
                    $0.identifiers = [email(attempt + 1_000), email(emails[holder] ?? 0)]
                }, metadata: admin)
        }
        #expect(taken?.code == .alreadyExists)
        #expect(taken?.message.contains(holder) == true, "\(String(describing: taken))")
    }
    #expect(try await listed() == before, "a refused create stores nothing")
    // The new emails those refused creates named were released: a customer takes them now.
    let late = try await frontDoor.createCustomer(
        .with {
            $0.givenName = "Late"
            $0.identifiers = [email(1_000)]
        }, metadata: admin)
    #expect(
        try await frontDoor.lookupCustomer(.with { $0.identifier = email(1_000) }, metadata: admin).customerID
            == late.customerID)

    // An email moves from a customer of one shard to a customer of the other once removed.
    let (from, to) = (owned[0][0], owned[1][0])
    let moving = email(try #require(emails[from]))
    let blocked = await #expect(throws: RPCError.self) {
        _ = try await frontDoor.addIdentifier(
            .with {
                $0.customerID = to
                $0.identifier = moving
            }, metadata: admin)
    }
    #expect(blocked?.code == .alreadyExists)
    _ = try await frontDoor.removeIdentifier(
        .with {
            $0.customerID = from
            $0.identifier = moving
        }, metadata: admin)
    let gained = try await frontDoor.addIdentifier(
        .with {
            $0.customerID = to
            $0.identifier = moving
        }, metadata: admin)
    #expect(gained.identifiers.contains(moving))
    for shard in shards {
        #expect(try await shard.lookupCustomer(.with { $0.identifier = moving }).customerID == to)
    }

    // Two customers of different shards merge: the merged customer's family is handed to the survivor's shard and
    // merged there, its id left an alias where it lived. Both emails are the survivor's wherever they are looked up,
    // and taken; the old id reads as the survivor; merging again answers the same.
    let left = try await shards[0].createCustomer(
        .with {
            $0.givenName = "Left"
            $0.identifiers = [email(3_000)]
        }
    ).customerID
    let right = try await shards[1].createCustomer(
        .with {
            $0.givenName = "Right"
            $0.familyName = "Across"
            $0.identifiers = [email(3_001)]
        }
    ).customerID
    let joined = try await frontDoor.mergeCustomers(
        .with {
            $0.customerID = left
            $0.mergedID = right
        }, metadata: admin)
    #expect(joined.customerID == left && joined.givenName == "Left" && joined.familyName == "Across")
    #expect(Set(joined.identifiers.map(\.value)) == [email(3_000).value, email(3_001).value])
    let byOldID = try await frontDoor.getCustomer(.with { $0.customerID = right }, metadata: admin)
    #expect(byOldID.customerID == left && byOldID.resolvedFrom == right)
    for shard in shards {
        #expect(try await shard.lookupCustomer(.with { $0.identifier = email(3_001) }).customerID == left)
    }
    let again = try await frontDoor.mergeCustomers(
        .with {
            $0.customerID = left
            $0.mergedID = right
        }, metadata: admin)
    #expect(again.customerID == left)
    let taken = await #expect(throws: RPCError.self) {
        _ = try await shards[1].createCustomer(.with { $0.identifiers = [email(3_001)] })
    }
    #expect(taken?.code == .alreadyExists, "\(String(describing: taken))")
    let acrossMerge = try #require(
        try await frontDoor.listMerges(.with { $0.customerID = left }, metadata: admin).merges.first)
    #expect(acrossMerge.mergedID == right)
    // Undone, the merge hands the restored customer back to its own shard: read there alone, its email its own again
    // wherever it is looked up; then merged across shards once more.
    let undone = try await frontDoor.unmergeCustomers(.with { $0.mergeID = acrossMerge.mergeID }, metadata: admin)
    #expect(undone.restored.customerID == right && undone.restored.familyName == "Across")
    #expect(undone.survivor.identifiers.map(\.value) == [email(3_000).value])
    let restored = try await shards[1].getCustomer(.with { $0.customerID = right })
    #expect(restored.resolvedFrom.isEmpty && restored.identifiers.map(\.value) == [email(3_001).value])
    let notKept = await #expect(throws: RPCError.self) {
        _ = try await shards[0].getCustomer(.with { $0.customerID = right })
    }
    #expect(notKept.map(WrongShard.isRefusal) == true, "\(String(describing: notKept))")
    for shard in shards {
        #expect(try await shard.lookupCustomer(.with { $0.identifier = email(3_001) }).customerID == right)
    }
    // Asked again, the unmerge answers the same from both shards; the survivor and its ledger read as before, though
    // the keys the handed-back family was sealed under are gone from its shard.
    let undoneAgain = try await frontDoor.unmergeCustomers(
        .with { $0.mergeID = acrossMerge.mergeID }, metadata: admin)
    #expect(undoneAgain.restored.customerID == right && undoneAgain.merge.hasUnmergedAt)
    #expect(try await shards[0].getCustomer(.with { $0.customerID = left }).identifiers.count == 1)
    #expect(
        try await frontDoor.listMerges(.with { $0.customerID = left }, metadata: admin).merges.map(\.mergeID)
            == [acrossMerge.mergeID])
    let rejoined = try await frontDoor.mergeCustomers(
        .with {
            $0.customerID = left
            $0.mergedID = right
        }, metadata: admin)
    #expect(Set(rejoined.identifiers.map(\.value)) == [email(3_000).value, email(3_001).value])
    #expect(try await shards[0].lookupCustomer(.with { $0.identifier = email(3_001) }).customerID == left)

    // A transfer the survivor's shard does not finish keeps the customer's slot fenced until it is ended; aborted, the
    // customer is written to again where it was.
    let staying = try await shards[1].createCustomer(.with { $0.identifiers = [email(3_002)] }).customerID
    let transferID = EntityID.generate()
    let handed = try await indexes[1].transferFamily(
        .with {
            $0.transferID = transferID
            $0.customerID = staying
            $0.survivorID = left
            $0.survivorShard = "profile-0"
        })
    #expect(handed.family.customerID == staying && !handed.family.tables.isEmpty)
    func handOver(_ id: String) async throws {
        _ = try await indexes[1].transferFamily(
            .with {
                $0.transferID = id
                $0.customerID = staying
                $0.survivorID = left
                $0.survivorShard = "profile-0"
            })
    }
    // One transfer of a family at a time: a second would hand it to two survivors.
    let second = await #expect(throws: RPCError.self) { try await handOver(EntityID.generate()) }
    #expect(second?.code == .unavailable, "\(String(describing: second))")
    let fenced = await #expect(throws: RPCError.self) {
        _ = try await shards[1].addTags(
            .with {
                $0.customerID = staying
                $0.tags = ["held"]
            })
    }
    #expect(fenced?.code == .unavailable, "\(String(describing: fenced))")
    #expect(
        try await indexes[1].endTransfer(
            .with {
                $0.transferID = transferID
                $0.abort = true
            }
        ).ended)
    let tagged = try await shards[1].addTags(
        .with {
            $0.customerID = staying
            $0.tags = ["held"]
        })
    #expect(tagged.tags == ["held"])
    // An ended transfer cannot begin again (a request that arrives after its abort): the merge asks again anew.
    let afterEnd = await #expect(throws: RPCError.self) { try await handOver(transferID) }
    #expect(afterEnd?.code == .unavailable && afterEnd?.message.contains("ended") == true)

    // Batch reads by id across shards (service-to-service, through the routing transport): each id answered by the
    // shard that has it.
    let source = try ShardMapSource(path: mapFile.path)
    let connection = try PeerConnection(
        address: PeerAddress(host: "127.0.0.1", port: 1), service: "profile-service", shards: source,
        routing: .current)
    try await withThrowingDiscardingTaskGroup { group in
        group.addTask { try await connection.run() }
        defer { group.cancelAll() }
        let routed = Customer360_V1_ProfileService.Client(wrapping: connection.client)
        let missing = "01890000-0000-7000-8000-000000000000"
        let batch = try await routed.batchGetCustomers(.with { $0.customerIds = customers + [missing] })
        #expect(batch.results.map(\.customer.customerID) == customers + [""])
        #expect(batch.results.last?.unresolvedReason.contains("does not exist") == true)
        let resolved = try await routed.resolveCustomers(.with { $0.customerIds = customers + [missing] })
        #expect(resolved.customers.map(\.customerID) == customers + [""])
    }

    // A merge and an unmerge move identifiers between two customers of one shard; a lookup from the other shard
    // follows them to whoever holds each now.
    let home = shards[0]
    let survivor = try await home.createCustomer(
        .with {
            $0.givenName = "Survivor"
            $0.identifiers = [email(2_000)]
        }
    ).customerID
    let duplicate = try await home.createCustomer(
        .with {
            $0.givenName = "Duplicate"
            $0.identifiers = [email(2_001)]
        }
    ).customerID
    let merged = try await home.mergeCustomers(
        .with {
            $0.customerID = survivor
            $0.mergedID = duplicate
        })
    #expect(merged.customerID == survivor)
    #expect(try await shards[1].lookupCustomer(.with { $0.identifier = email(2_001) }).customerID == survivor)
    // Added by the merged-away id: claimed for, and held by, the survivor.
    _ = try await home.addIdentifier(
        .with {
            $0.customerID = duplicate
            $0.identifier = email(2_002)
        })
    #expect(try await shards[1].lookupCustomer(.with { $0.identifier = email(2_002) }).customerID == survivor)
    let merge = try #require(
        try await home.listMerges(.with { $0.customerID = survivor }).merges.first(where: { $0.mergedID == duplicate }))
    _ = try await home.unmergeCustomers(.with { $0.mergeID = merge.mergeID })
    for shard in shards {
        #expect(try await shard.lookupCustomer(.with { $0.identifier = email(2_001) }).customerID == duplicate)
        #expect(try await shard.lookupCustomer(.with { $0.identifier = email(2_000) }).customerID == survivor)
    }

    // Erasing a customer removes every index entry naming it, on every shard: its emails are unknown everywhere, and
    // free for another customer at once.
    let keyring = try Keyring(
        database: ServiceDatabase.inMemory(label: "test-keyring"), kek: .generate(),
        sharedIndexKey: try KeyEncryptionKey(file: keyFile.path))
    func indexEntry(_ identifier: Customer360_V1_Identifier) async throws -> [String] {
        let valueIndex = keyring.blindIndex(identifier.value, purpose: "identifier:email")
        let owner = try #require(map.owner(of: valueIndex, in: "profile-service"))
        let shard = indexes[owner.shard == "profile-0" ? 0 : 1]
        return try await shard.findIdentifiers(
            .with {
                $0.identifiers = [
                    .with {
                        $0.kind = .email
                        $0.valueIndex = valueIndex
                    }
                ]
            }
        ).holders.map(\.holderID)
    }
    let erased = owned[1][1]
    let erasedEmail = email(try #require(emails[erased]))
    #expect(try await indexEntry(erasedEmail) == [erased])
    _ = try await shards[1].eraseCustomer(.with { $0.customerID = erased })
    #expect(try await indexEntry(erasedEmail).isEmpty, "no entry ties the erased customer's email to its id")
    for shard in shards {
        let gone = await #expect(throws: RPCError.self) {
            _ = try await shard.lookupCustomer(.with { $0.identifier = erasedEmail })
        }
        #expect(gone?.code == .notFound)
    }
    let successor = try await frontDoor.createCustomer(
        .with {
            $0.givenName = "Successor"
            $0.identifiers = [erasedEmail]
        }, metadata: admin)
    #expect(try await indexEntry(erasedEmail) == [successor.customerID])
}
