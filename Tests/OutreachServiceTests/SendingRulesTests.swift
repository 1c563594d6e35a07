import C360Contracts
import C360ServerKit
import Foundation
import Testing

@testable import C360Outreach

@Suite("Templates, quiet hours and the frequency cap")
struct SendingRulesTests {
    @Test("placeholders take the customer's values, fallbacks fill what is missing, Persian text passes untouched")
    func rendering() throws {
        let text = try TemplateText("سلام {{given_name|دوست عزیز}}، امتیاز شما {{loyalty_points}} است.", field: "body")
        var facts = CustomerFacts(customerId: "c1", refreshedAt: 0)
        facts.loyaltyPoints = 1_200
        facts.loyaltyTier = "gold"
        let (rendered, missing) = text.render(facts.placeholderValues(CustomerContact()))
        #expect(rendered == "سلام دوست عزیز، امتیاز شما 1200 است.")
        #expect(missing == ["given_name"])
        let ada = CustomerContact(givenName: "Ada")
        #expect(
            try TemplateText("Hi {{ given_name }}!", field: "body").render(facts.placeholderValues(ada)).text
                == "Hi Ada!")
    }

    @Test("an unknown placeholder or an unclosed brace is refused naming the field")
    func invalidTemplates() {
        #expect(throws: InvalidArgument.self) { try TemplateText("Hi {{nickname}}", field: "variants[0].body") }
        do {
            _ = try TemplateText("Hi {{given_name", field: "variants[1].subject")
            Issue.record("accepted")
        } catch {
            #expect(error.field == "variants[1].subject")
        }
    }

    @Test("quiet hours defer to their end in the customer's time zone, across midnight")
    func quietHours() throws {
        // 22:00–07:00 in Tehran (UTC+3:30): 20:00 UTC is 23:30 there, so the message waits until 07:00 Tehran = 03:30 UTC
        let tehran = try #require(QuietHours(startMinute: 22 * 60, endMinute: 7 * 60, timeZone: "Asia/Tehran"))
        let evening = try Date("2026-12-05T20:00:00Z", strategy: .iso8601)
        #expect(tehran.deferral(at: evening) == (try Date("2026-12-06T03:30:00Z", strategy: .iso8601)))
        // 01:00 UTC is 04:30 there: still quiet, same morning
        let night = try Date("2026-12-06T01:00:00Z", strategy: .iso8601)
        #expect(tehran.deferral(at: night) == (try Date("2026-12-06T03:30:00Z", strategy: .iso8601)))
        // 10:00 UTC is 13:30 there: not quiet
        #expect(tehran.deferral(at: try Date("2026-12-06T10:00:00Z", strategy: .iso8601)) == nil)
        // The same UTC instant is daytime in New York (15:00), where the same quiet hours do not hold it
        let newYork = try #require(QuietHours(startMinute: 22 * 60, endMinute: 7 * 60, timeZone: "America/New_York"))
        #expect(newYork.deferral(at: evening) == nil)
        // A window within one day: 12:00–14:00 UTC
        let lunch = try #require(QuietHours(startMinute: 12 * 60, endMinute: 14 * 60, timeZone: "UTC"))
        #expect(
            lunch.deferral(at: try Date("2026-12-06T12:30:00Z", strategy: .iso8601))
                == (try Date("2026-12-06T14:00:00Z", strategy: .iso8601)))
        #expect(QuietHours(startMinute: nil, endMinute: 60, timeZone: "UTC") == nil)
    }

    @Test("the frequency cap parses counts per days or hours, or off")
    func frequencyCap() {
        #expect(FrequencyCap(parsing: "3/7d") == FrequencyCap(limit: 3, window: .seconds(7 * 86_400)))
        #expect(FrequencyCap(parsing: "1/24h")?.description == "1/1d")
        #expect(FrequencyCap(parsing: "off") == .off)
        for bad in ["", "3", "0/7d", "3/7w", "x/7d", "3/0d"] { #expect(FrequencyCap(parsing: bad) == nil, "\(bad)") }
    }

    @Test("the owners' answers become read-model facts, the top recommendation filling {{recommendation}}")
    func snapshot() throws {
        let customer = Customer360_V1_Customer.with {
            $0.customerID = "c1"
            $0.givenName = "Sara"
            $0.identifiers = [
                .with {
                    $0.kind = .email
                    $0.value = "sara@example.ir"
                }
            ]
            $0.loyaltyTier = .gold
            $0.preferences = .with {
                $0.quietHours = .with {
                    $0.startMinute = 1_320
                    $0.endMinute = 420
                    $0.timeZone = "Asia/Tehran"
                }
            }
        }
        let recommended = Customer360_V1_RecommendProductsResponse.with {
            $0.recommendations = [
                .with {
                    $0.sku = "tripod"
                    $0.name = "سه‌پایه"
                    $0.becauseSku = "camera"
                }
            ]
        }
        let snapshot = FactReader.snapshot(
            customer: customer, consents: .init(), stats: .init(), scores: .init(),
            success: .init(), recommendations: recommended, now: Date())
        let facts = snapshot.facts
        #expect(snapshot.contact.email == "sara@example.ir" && snapshot.contact.givenName == "Sara")
        #expect(facts.loyaltyTier == "gold" && facts.email.isEmpty, "the contact is sealed by the store, not here")
        #expect(facts.quietStartMinute == 1_320 && facts.timeZone == "Asia/Tehran")
        let text = try TemplateText("پیشنهاد ما: {{recommendation|پرفروش‌ها}}", field: "body")
        #expect(text.render(facts.placeholderValues(snapshot.contact)).text == "پیشنهاد ما: سه‌پایه")
        #expect(
            text.render(CustomerFacts(customerId: "c2", refreshedAt: 0).placeholderValues(CustomerContact())).text
                == "پیشنهاد ما: پرفروش‌ها")
    }

    @Test("proto enum values read as the rules spell them")
    func protoNames() {
        #expect(ProtoName.of(Customer360Names.rfm) == "potential_loyalist")
        #expect(ProtoName.of(Customer360Names.unspecified) == "")
    }
}

enum Customer360Names {
    static let rfm = Customer360_V1_RfmSegment.potentialLoyalist
    static let unspecified = Customer360_V1_LoyaltyTier.unspecified
}
