import C360Contracts
import SwiftProtobuf
import Testing

@testable import C360Gateway

private let customerID = "01900000-0000-7000-8000-00000000000a"

private func ada() -> Customer360_V1_Customer {
    .with {
        $0.customerID = customerID
        $0.identifiers = [
            .with {
                $0.kind = .email
                $0.value = "ada@example.com"
            },
            .with {
                $0.kind = .phone
                $0.value = "+989121234567"
            },
        ]
        $0.givenName = "Ada"
        $0.familyName = "Lovelace"
        $0.demographics = .with {
            $0.birthYear = 1990
            $0.city = "Tehran"
            $0.countryCode = "IR"
            $0.language = "fa"
            $0.company = "Analytical Engines"
        }
        $0.attributes = ["favourite_colour": "green"]
        $0.tags = ["vip"]
        $0.lifecycleStage = .active
        $0.loyaltyTier = .gold
        $0.loyaltyPoints = 6_000
    }
}

private func message() -> Customer360_V1_Touchpoint {
    .with {
        $0.eventID = "event-1"
        $0.customerID = customerID
        $0.channel = .email
        $0.kind = .message
        $0.direction = .inbound
        $0.body = "Hi, this is Ada; my card ending 4242 was charged twice."
        $0.attributes = ["device": "Ada's iPhone"]
        $0.occurredAt = Google_Protobuf_Timestamp(seconds: 1_790_000_000)
    }
}

@Suite("Redaction of personal data")
struct RedactionTests {
    @Test("a customer keeps its id, tags, stage, loyalty and country; names, identifiers and the rest go")
    func customer() {
        var customer = ada()
        Redaction.redact(&customer)
        #expect(customer.customerID == customerID)
        #expect(customer.identifiers.isEmpty)
        #expect(customer.givenName.isEmpty && customer.familyName.isEmpty)
        #expect(customer.demographics.countryCode == "IR")
        #expect(customer.demographics.city.isEmpty && customer.demographics.company.isEmpty)
        #expect(customer.demographics.birthYear == 0 && customer.demographics.language.isEmpty)
        #expect(customer.attributes.isEmpty)
        #expect(customer.tags == ["vip"])
        #expect(customer.lifecycleStage == .active)
        #expect(customer.loyaltyTier == .gold && customer.loyaltyPoints == 6_000)
    }

    @Test("a touchpoint keeps what happened, not what was said")
    func touchpoint() {
        var touchpoint = message()
        Redaction.redact(&touchpoint)
        #expect(touchpoint.body.isEmpty)
        #expect(touchpoint.attributes.isEmpty)
        #expect(touchpoint.eventID == "event-1" && touchpoint.channel == .email && touchpoint.kind == .message)
        #expect(touchpoint.occurredAt.seconds == 1_790_000_000)
    }

    @Test("a view loses names, identifiers, bodies, ticket subjects and comments, and says so")
    func view() {
        var view = Customer360_V1_Customer360View.with {
            $0.customerID = customerID
            $0.profile = ada()
            $0.recentTimeline = [message(), message()]
            $0.openTickets = [
                .with {
                    $0.ticketID = "ticket-1"
                    $0.customerID = customerID
                    $0.subject = "Ada's card was charged twice"
                    $0.status = .open
                }
            ]
            $0.feedback = .with {
                $0.customerID = customerID
                $0.responses = 1
            }
            $0.recentFeedback = [
                .with {
                    $0.responseID = "response-1"
                    $0.customerID = customerID
                    $0.score = 3
                    $0.comment = "Ada here: the courier was rude."
                }
            ]
            $0.missingSections = ["alerts"]
        }
        #expect(!view.personalDataRedacted)
        Redaction.redact(&view)

        #expect(view.personalDataRedacted)
        #expect(view.customerID == customerID)
        #expect(view.profile.customerID == customerID)
        #expect(view.profile.givenName.isEmpty && view.profile.familyName.isEmpty)
        #expect(view.profile.identifiers.isEmpty)
        #expect(view.profile.demographics.city.isEmpty && view.profile.demographics.countryCode == "IR")
        #expect(view.recentTimeline.count == 2)
        #expect(view.recentTimeline.allSatisfy { $0.body.isEmpty && $0.attributes.isEmpty })
        #expect(view.openTickets.map(\.ticketID) == ["ticket-1"])
        #expect(view.openTickets.allSatisfy { $0.subject.isEmpty })
        #expect(view.recentFeedback.map(\.responseID) == ["response-1"])
        #expect(view.recentFeedback.allSatisfy { $0.comment.isEmpty && $0.score == 3 })
        #expect(view.feedback.responses == 1)
        #expect(view.missingSections == ["alerts"])
    }

    @Test("a view without a profile (profile-service down) stays without one")
    func viewWithoutProfile() {
        var view = Customer360_V1_Customer360View.with {
            $0.customerID = customerID
            $0.missingSections = ["profile"]
        }
        Redaction.redact(&view)
        #expect(!view.hasProfile)
        #expect(view.personalDataRedacted)
    }
}
