import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import Testing

@testable import C360Feedback

@Suite("Feedback store: migrations v2 and v3 seal the free text and theme terms version 1 stored in the clear")
struct FeedbackSealingMigrationTests {
    @Test(
        "comments, vote comments, churn reasons and theme terms written in the clear read the same after the migration, and are no longer in the file"
    )
    func sealsExistingText() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("feedback.sqlite").path
            let pool = try DatabasePool(
                path: path, configuration: ServiceDatabase.configuration(label: "feedback.sqlite"))
            try FeedbackStore.schema.migrate(pool, upTo: "merge journal: rows each applied merge moved")
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO survey (surveyId, type, name, question, language, channel, scaleMin, scaleMax, createdAt)
                        VALUES ('nps', 'nps', 'NPS', 'How likely?', 'en', 'email', 0, 10, 0);
                        INSERT INTO survey_response (responseId, customerId, surveyId, surveyType, surveyLanguage, score,
                            npsCategory, comment, sentimentLabel, channel, answeredAt, recordedAt)
                        VALUES ('r1', '\(Customers.ada)', 'nps', 'nps', 'en', 9, 'promoter', 'Xanthippa loves the courier',
                            'negative', 'email', 1, 1);
                        INSERT INTO response_term (responseSeq, stem, surface) VALUES (1, 'xanthippa', 'Xanthippa'),
                            (1, 'courier', 'courier');
                        INSERT INTO feature_request (featureRequestId, title, details, status, votes, createdAt, updatedAt)
                        VALUES ('fr', 'Dark mode', '', 'open', 1, 0, 0);
                        INSERT INTO feature_vote (featureRequestId, customerId, comment, votedAt)
                        VALUES ('fr', '\(Customers.ada)', 'Quillbrook reads at night', 1);
                        INSERT INTO churn_reason (churnReasonId, customerId, category, text, churnedAt, recordedAt)
                        VALUES ('ch', '\(Customers.ada)', 'price', 'call +989127364518', 1, 1);
                        """)
            }
            try await pool.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
            let plaintext = ["Xanthippa loves", "Quillbrook reads", "+989127364518", "xanthippa"]
            #expect(try DatabaseFileScan.find(plaintext, under: directory).count == 4)

            let keyring = try Keyring.open(
                path: directory.appendingPathComponent("keys/keyring.sqlite").path,
                kek: .generate(), logger: .init(label: "test"))
            let store = try FeedbackStore(writer: pool, keyring: keyring)
            var texts: [String] = []
            try await store.export(customer: Customers.ada) { chunk in
                texts += chunk.responses.map(\.comment) + chunk.votes.map(\.comment) + chunk.churnReasons.map(\.text)
            }
            #expect(texts == ["Xanthippa loves the courier", "Quillbrook reads at night", "call +989127364518"])
            let themes = try await store.themes(filter: ThemeFilter(), periods: [nil])
            #expect(themes.first?.themes.map(\.term) == ["courier", "Xanthippa"])

            try await pool.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
            let left = try DatabaseFileScan.find(plaintext, in: [URL(fileURLWithPath: path)])
            #expect(left.isEmpty, "left in the clear: \(left)")
            try pool.close()
        }
    }
}
