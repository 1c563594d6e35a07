import C360StoreKit
import C360TestSupport
import Testing

@testable import C360Profile

@Suite("Profile store: one customer's calls cost the same however many other customers are stored")
struct ProfileStoreCostTests {
    /// How much more SQLite work an operation may do among 10× the customers: B-trees may grow a level deeper,
    /// nothing more. A query that walks other customers' rows does up to 10× the work.
    static let allowedGrowth = 1.5

    @Test("creating, reading, finding by email, updating and tagging a customer do not walk other customers' rows")
    func perCustomerWorkIsFlat() async throws {
        let (database, work) = try SQLiteWork.inMemory()
        let store = try ProfileStore(writer: database, keyring: Keyring.inMemory())
        var stored = 0
        func fill(to count: Int) async throws {
            while stored < count {
                _ = try await store.createCustomer(
                    newCustomer(
                        email: "customer.\(stored)@example.com", given: "Bench", family: "Customer \(stored)"))
                stored += 1
            }
        }
        /// SQLite instructions per operation on a new customer named `probe`.
        func costs(_ probe: String) async throws -> [String: Int] {
            var costs: [String: Int] = [:]
            var id = ""
            costs["create"] = try await work.measure {
                id = try await store.createCustomer(
                    newCustomer(email: "\(probe)@example.com", given: "Probe", family: "Customer \(probe)")
                ).id
            }
            costs["get"] = try await work.measure { _ = try await store.customer(id) }
            costs["find by email"] = try await work.measure {
                _ = try await store.customer(with: Identifier(.email, "\(probe)@example.com"))
            }
            var patch = CustomerPatch()
            patch.familyName = "Renamed \(probe)"
            costs["update"] = try await work.measure { _ = try await store.updateCustomer(id, patch) }
            costs["tag"] = try await work.measure { _ = try await store.addTags(["vip"], to: id) }
            return costs
        }

        try await fill(to: 50)
        let few = try await costs("few")
        try await fill(to: 500)
        let many = try await costs("many")

        for (operation, cost) in few.sorted(by: { $0.key < $1.key }) {
            let grown = many[operation] ?? 0
            #expect(
                Double(grown) <= Double(cost) * Self.allowedGrowth,
                "\(operation): \(cost) SQLite instructions among 50 customers, \(grown) among 500")
        }
    }
}
