import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
@testable import FeedbackService
import Testing

@Suite("Feedback store: erasure leaves nothing on disk")
struct FeedbackStoreErasureOnDiskTests {
    @Test("after erasure no byte of the customer's comments, vote comments, churn reasons or theme terms is in feedback.sqlite or its WAL")
    func noBytesLeft() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let pool = try DatabasePool(path: directory.appendingPathComponent("feedback.sqlite").path,
                                        configuration: ServiceDatabase.configuration(label: "feedback.sqlite"))
            let store = try FeedbackStore(writer: pool)
            let day0 = Fixed.day0
            let nps = makeSurvey("nps", .nps)
            _ = try await store.createSurvey(nps)
            // Ada's words name her; the theme terms hold a surface form and a lower-case stem of her family name.
            _ = try await store.record(
                makeResponse("a1", survey: nps, score: 3, at: day0,
                             comment: "Xanthippa Quillbrook here: the courier lost my parcel",
                             sentiment: Sentiments.negative),
                terms: [ThemeExtractor.Term(stem: "quillbrook", surface: "Quillbrook"),
                        ThemeExtractor.Term(stem: "courier", surface: "courier")])
            _ = try await store.record(
                makeResponse("s1", customer: Customers.sara, survey: nps, score: 5, at: day0, comment: "Late again",
                             sentiment: Sentiments.negative),
                terms: [ThemeExtractor.Term(stem: "late", surface: "late")])
            _ = try await store.createFeatureRequest(
                FeatureRequest(id: "fr-dark", title: "Dark mode", details: "", createdAt: day0),
                vote: FeatureVote(featureRequestID: "fr-dark", customerID: Customers.ada,
                                  comment: "Xanthippa needs it at night", channel: .app, votedAt: day0))
            _ = try await store.record(ChurnReason(
                id: "ch-ada", customerID: Customers.ada, category: .price,
                text: "Quillbrook moved to a cheaper plan elsewhere, call +989127364518", sentiment: nil,
                churnedAt: day0, channel: .email, recordedBy: "csm-1", recordedAt: day0))
            let erasedValues = ["Xanthippa", "Quillbrook", "quillbrook", "+989127364518"]
            // The scan sees the values while they are stored, so an empty scan later means they are gone.
            let stored = Set(try DatabaseFileScan.find(erasedValues, under: directory).map(\.value))
            #expect(stored == Set(erasedValues), "\(stored)")

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
