import C360Contracts
import Testing

@testable import C360Gateway

/// A change event of `kind` about `customerID` (and `related`, for merges).
private func event(
    _ kind: Customer360_V1_ChangeKind, _ customerID: String, related: String = ""
) -> Customer360_V1_ChangeEvent {
    .with {
        $0.kind = kind
        $0.customerID = customerID
        $0.relatedCustomerID = related
    }
}

private let ada = "01900000-0000-7000-8000-00000000000a"
private let bob = "01900000-0000-7000-8000-00000000000b"

/// What a `WatchCustomer360` call keeps between updates: the sections changes touched, merged, never a queue.
@Suite("WatchCustomer360's inbox: changes become sections to re-read")
struct WatchInboxTests {
    @Test("each service's changes mark the sections it fills")
    func sectionsBySource() {
        typealias Source = Customer360Watch.Source
        #expect(Source.profile.sections == [.profile, .consents])
        #expect(Source.interaction.sections == [.timeline, .engagement, .commerce, .support])
        #expect(Source.feedback.sections == [.feedback])
        #expect(Source.success.sections == [.successPlans, .health, .alerts])
        // Together they are the whole view, each section owned by one service.
        let all = Source.allCases.map(\.sections)
        #expect(all.reduce(into: Set()) { $0.formUnion($1) } == Set(Customer360Watch.Section.allCases))
        #expect(all.map(\.count).reduce(0, +) == Customer360Watch.Section.allCases.count)
        #expect(
            Customer360Watch.Section.allCases.map(\.rawValue) == [
                "profile", "consents", "timeline", "engagement",
                "commerce", "support", "feedback", "success_plans", "health", "alerts",
            ])
    }

    @Test("a burst of 1000 touchpoints and a response is one pending set of sections, caused by the latest")
    func burstIsOneSet() {
        let inbox = WatchInbox(customerID: ada)
        for _ in 0..<1_000 { inbox.post(event(.touchpointRecorded, ada), from: .interaction) }
        inbox.post(event(.responseRecorded, ada), from: .feedback)

        let pending = inbox.take()
        #expect(pending.sections == [.timeline, .engagement, .commerce, .support, .feedback])
        #expect(pending.cause == "CHANGE_KIND_RESPONSE_RECORDED")
        #expect(pending.survivor == nil)
        #expect(inbox.take().isEmpty)
    }

    @Test("the watched customer merged away sets the survivor, which stays; a merge into it only marks the profile")
    func mergeAwayMovesTheWatch() {
        let inbox = WatchInbox(customerID: ada)
        inbox.post(event(.customerMerged, bob, related: ada), from: .profile)
        #expect(inbox.take().sections == [.profile, .consents])

        inbox.post(event(.customerMerged, ada, related: bob), from: .profile)
        #expect(inbox.take().survivor == bob)
        #expect(inbox.take().survivor == bob)
    }

    @Test("a change kind is named as the contract names it")
    func kindNames() {
        #expect(Customer360Watch.name(of: .touchpointRecorded) == "CHANGE_KIND_TOUCHPOINT_RECORDED")
        #expect(Customer360Watch.name(of: .customerMerged) == "CHANGE_KIND_CUSTOMER_MERGED")
        #expect(Customer360Watch.name(of: .customerRekeyed) == "CHANGE_KIND_CUSTOMER_REKEYED")
    }

    @Test("waiting returns at once when something is pending, and is woken by the next change otherwise")
    func waitIsWokenByAChange() async {
        let inbox = WatchInbox(customerID: ada)
        inbox.post([.health], cause: "CHANGE_KIND_HEALTH_SCORED")
        await inbox.wait()
        _ = inbox.take()

        async let woken: Void = inbox.wait()
        inbox.post(event(.alertRaised, ada), from: .success)
        await woken
        #expect(inbox.take().sections == [.successPlans, .health, .alerts])
    }

    @Test("a cancelled wait returns")
    func cancelledWaitReturns() async {
        let inbox = WatchInbox(customerID: ada)
        let waiting = Task { await inbox.wait() }
        waiting.cancel()
        await waiting.value
        #expect(inbox.take().isEmpty)
    }
}
