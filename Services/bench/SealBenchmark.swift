import ArgumentParser
import C360Profile
import C360ServerKit
import C360StoreKit
import Foundation
import GRDB

/// What sealing personal data costs a profile read: the opens a GetCustomer performs, timed alone, against the
/// store's whole GetCustomer, in one run.
struct SealBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "The share of profile-service's GetCustomer spent opening sealed personal data (goal ≤ 10%).",
        discussion: """
            Fills a profile store (a WAL pool and a keyring in a scratch directory) with --customers customers, each \
            with a name, city, company, an email, a phone and two attributes. Then, in one run, times --reads \
            GetCustomer reads through the store (random customers, warm caches), and the same number of rounds of \
            the opens such a read performs (eight values, keys cached as in the store). The ratio is an upper bound \
            on the RPC's share, which also pays for gRPC and protobuf.
            """
    )

    @Option(help: "Customers in the store.")
    var customers = 5_000

    @Option(help: "Reads to time (each side).")
    var reads = 50_000

    func run() async throws {
        guard customers >= 1, reads >= 1 else { throw ValidationError("--customers and --reads must be at least 1") }
        let scratch = try ScratchDirectory(label: "seal")
        defer { scratch.remove() }
        let data = scratch.child("profile")
        let pool = try ServiceDatabase.openPool(
            directory: data.path, fileName: "profile.sqlite", logger: .init(label: "bench"))
        let keyring = try Keyring.open(
            path: data.appendingPathComponent("keyring.sqlite").path, kek: .generate(),
            logger: .init(label: "bench"))
        let store = try ProfileStore(writer: pool, keyring: keyring)
        say("bench seal: creating \(customers) customers…")
        var ids: [String] = []
        for index in 0..<customers {
            var new = NewCustomer()
            new.givenName = "Given\(index)"
            new.familyName = "Family\(index)"
            new.city = "City \(index % 97)"
            new.company = "Company \(index % 13)"
            new.identifiers = [
                Identifier(.email, "customer\(index)@example.org"), Identifier(.phone, "+4930\(1_000_000 + index)"),
            ]
            new.attributes = ["plan": "gold-\(index % 5)", "address": "\(index) Long Street"]
            ids.append(try await store.createCustomer(new).id)
            if (index + 1) % max(customers / 10, 1) == 0 { say("  \(index + 1) customers") }
        }
        // The eight values one GetCustomer opens, sealed as the store seals them.
        let samples = try ids.prefix(1_000).map { id in
            try [
                "Given", "Family", "City 1", "Company 2", "someone@example.org", "+49301000000", "gold-1",
                "1 Long Street",
            ].map { try keyring.seal($0, for: id) }
        }
        var generator = SystemRandomNumberGenerator()
        // Warm up both paths (statement caches, key cache).
        for id in ids.prefix(1_000) { _ = try await store.customer(id) }

        let clock = ContinuousClock()
        let readTime = try await clock.measure {
            for _ in 0..<reads { _ = try await store.customer(ids[Int.random(in: 0..<ids.count, using: &generator)]) }
        }
        let openTime = try clock.measure {
            for _ in 0..<reads {
                for value in samples[Int.random(in: 0..<samples.count, using: &generator)] {
                    _ = try keyring.open(value)
                }
            }
        }
        let perRead = readTime.inSeconds / Double(reads) * 1e6
        let perOpens = openTime.inSeconds / Double(reads) * 1e6
        say(
            "GetCustomer through the store: \(String(format: "%.1f", perRead)) µs; its 8 opens: "
                + "\(String(format: "%.1f", perOpens)) µs = \(String(format: "%.1f", perOpens / perRead * 100))% (goal ≤ 10%)"
        )
    }
}
