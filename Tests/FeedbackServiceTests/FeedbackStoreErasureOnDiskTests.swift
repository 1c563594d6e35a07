import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import Testing

@testable import C360Feedback

@Suite("Feedback store: free text sealed on disk, and erasure leaves nothing")
struct FeedbackStoreErasureOnDiskTests {
    @Test(
        "after erasure no byte of the customer's comments, vote comments, churn reasons or theme terms is in feedback.sqlite or its WAL, where none of it was ever in the clear"
    )
    func noBytesLeft() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let pool = try DatabasePool(
                path: directory.appendingPathComponent("feedback.sqlite").path,
                configuration: ServiceDatabase.configuration(label: "feedback.sqlite"))
            let keyring = try Keyring.open(
                path: directory.appendingPathComponent("keys/keyring.sqlite").path,
                kek: .generate(), logger: .init(label: "test"))
            let store = try FeedbackStore(writer: pool, keyring: keyring)
            let day0 = Fixed.day0
            let nps = makeSurvey("nps", .nps)
            _ = try await store.createSurvey(nps)
            // Ada's words name her; the theme terms hold a surface form and a lower-case stem of her family name.
            _ = try await store.record(
                makeResponse(
                    "a1", survey: nps, score: 3, at: day0,
                    comment: "Xanthippa Quillbrook here: the courier lost my parcel",
                    sentiment: Sentiments.negative),
                terms: [
                    ThemeExtractor.Term(stem: "quillbrook", surface: "Quillbrook"),
                    ThemeExtractor.Term(stem: "courier", surface: "courier"),
                ])
            _ = try await store.record(
                makeResponse(
                    "s1", customer: Customers.sara, survey: nps, score: 5, at: day0, comment: "Late again",
                    sentiment: Sentiments.negative),
                terms: [ThemeExtractor.Term(stem: "late", surface: "late")])
            _ = try await store.createFeatureRequest(
                FeatureRequest(id: "fr-dark", title: "Dark mode", details: "", createdAt: day0),
                vote: FeatureVote(
                    featureRequestID: "fr-dark", customerID: Customers.ada,
                    comment: "Xanthippa needs it at night", channel: .app, votedAt: day0))
            _ = try await store.record(
                ChurnReason(
                    id: "ch-ada", customerID: Customers.ada, category: .price,
                    text: "Quillbrook moved to a cheaper plan elsewhere, call +989127364518", sentiment: nil,
                    churnedAt: day0, channel: .email, recordedBy: "csm-1", recordedAt: day0))
            let erasedValues = ["Xanthippa", "Quillbrook", "quillbrook", "+989127364518"]
            // Comments, vote comments, churn reasons and theme terms are sealed (themes are counted by a blind
            // index of the stem): nothing on disk names her.
            let stored = try DatabaseFileScan.find(erasedValues, under: directory)
            #expect(stored.isEmpty, "stored in the clear: \(stored)")
            // Themes still name the words, opened from the sealed forms.
            var filter = ThemeFilter()
            filter.sentimentLabel = .negative
            let themes = try await store.themes(filter: filter, periods: [nil])
            #expect(themes.first?.themes.map(\.term) == ["courier", "late", "Quillbrook"])
            let export = try await exportedText(store, Customers.ada)
            #expect(export.contains("Xanthippa needs it at night") && export.contains("call +989127364518"))

            let erased = try await store.erase(customer: Customers.ada)

            #expect(erased.responses == 1 && erased.votes == 1 && erased.churnReasons == 1)
            let left = try DatabaseFileScan.find(erasedValues, under: directory)
            #expect(left.isEmpty, "left on disk: \(left)")
            // Sara's answer stays.
            let remaining = try await store.responses(filter: ResponseFilter(), after: nil, limit: 10)
            #expect(remaining.items.map(\.response.comment) == ["Late again"])
            try pool.close()
        }
    }
}

/// Every comment and churn reason text of the customer's export, joined.
private func exportedText(_ store: FeedbackStore, _ customerID: String) async throws -> String {
    var texts: [String] = []
    try await store.export(customer: customerID) { chunk in
        texts += chunk.responses.map(\.comment) + chunk.votes.map(\.comment) + chunk.churnReasons.map(\.text)
    }
    return texts.joined(separator: "\n")
}
