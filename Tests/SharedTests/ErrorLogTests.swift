import C360ServerKit
import Foundation
import GRDB
import Testing

@Suite("What the server log says of an unexpected error")
struct ErrorLogTests {
    /// A row with a value the record cannot read, beside values that must not reach a log line.
    private struct Ticket: Decodable, FetchableRecord {
        enum Priority: String, Decodable, DatabaseValueConvertible { case low, high }
        var customerId: String
        var priority: Priority
    }

    @Test("a row GRDB cannot decode is logged by its reason, without the row's other values or the arguments")
    func rowDecodingKeepsTheRowOut() throws {
        let database = try DatabaseQueue()
        let error = try database.read { db in
            #expect(throws: RowDecodingError.self) {
                _ = try Ticket.fetchAll(
                    db, sql: "SELECT ? AS customerId, 'urgent' AS priority", arguments: ["ada.lovelace@example.com"])
            }
        }
        let logged = ErrorLog.describe(try #require(error))
        #expect(logged.hasPrefix("RowDecodingError: "), "\(logged)")
        #expect(logged.contains("priority") || logged.contains("urgent"), "the reason names what failed: \(logged)")
        #expect(!logged.contains("ada.lovelace"), "\(logged)")
    }

    @Test("any other error is logged in full")
    func otherErrorsInFull() {
        struct Broken: Error { var reason = "the disk is full" }
        #expect(ErrorLog.describe(Broken()).contains("the disk is full"))
    }
}
