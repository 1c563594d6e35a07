import C360Contracts
import C360ServerKit
import C360TestExpectations
import C360TestSupport
import Foundation
import GRPCCore
import GRPCInProcessTransport
import SwiftProtobuf
import Testing

@testable import C360Profile

/// Runs `body` against a ProfileService on a fresh database, over the real gRPC stack in-process.
private func withProfileClient(
    clock: TestClock = TestClock(),
    _ body: @Sendable (Customer360_V1_ProfileService.Client<InProcessTransport.Client>) async throws -> Void
) async throws {
    let service = ProfileService(store: try makeStore(clock: clock), now: { clock.now() })
    try await InProcessServer.withClient(serving: [service]) { client in
        try await body(Customer360_V1_ProfileService.Client(wrapping: client))
    }
}

private func createRequest(email: String? = nil, phone: String? = nil, given: String = "")
    -> Customer360_V1_CreateCustomerRequest
{
    .with { request in
        if let email {
            request.identifiers.append(
                .with {
                    $0.kind = .email
                    $0.value = email
                })
        }
        if let phone {
            request.identifiers.append(
                .with {
                    $0.kind = .phone
                    $0.value = phone
                })
        }
        request.givenName = given
    }
}

@Suite("ProfileService RPCs: normalisation and precise statuses")
struct ProfileServiceHandlerTests {
    @Test("ResolveCustomers answers each id in order: itself, the survivor of a merge, or why it cannot take data")
    func resolveCustomers() async throws {
        try await withProfileClient { profiles in
            let survivor = try await profiles.createCustomer(createRequest(given: "Ada")).customerID
            let merged = try await profiles.createCustomer(createRequest(given: "Ada old")).customerID
            let deleted = try await profiles.createCustomer(createRequest(given: "Gone")).customerID
            _ = try await profiles.mergeCustomers(
                .with {
                    $0.customerID = survivor
                    $0.mergedID = merged
                })
            _ = try await profiles.deleteCustomer(.with { $0.customerID = deleted })
            let unknown = "01900000-0000-7000-8000-0000000000ff"

            let answer = try await profiles.resolveCustomers(
                .with { $0.customerIds = [merged, survivor, deleted, unknown] })

            #expect(answer.customers.map(\.requestedID) == [merged, survivor, deleted, unknown])
            #expect(answer.customers.map(\.customerID) == [survivor, survivor, "", ""])
            #expect(answer.customers[2].unresolvedReason.contains("deleted"))
            #expect(answer.customers[3].unresolvedReason.contains("does not exist"))
        }
    }

    @Test("ResolveCustomers refuses no ids, more than 1,000, or a malformed one, naming the field")
    func resolveCustomersLimits() async throws {
        try await withProfileClient { profiles in
            await expectStatus(.invalidArgument, containing: "customer_ids") {
                _ = try await profiles.resolveCustomers(.init())
            }
            await expectStatus(.invalidArgument, containing: "customer_ids") {
                _ = try await profiles.resolveCustomers(
                    .with {
                        $0.customerIds = Array(repeating: "01900000-0000-7000-8000-0000000000ff", count: 1_001)
                    })
            }
            await expectStatus(.invalidArgument, containing: "customer_ids[1]") {
                _ = try await profiles.resolveCustomers(
                    .with {
                        $0.customerIds = ["01900000-0000-7000-8000-0000000000ff", "not-an-id"]
                    })
            }
        }
    }

    @Test("identifiers are normalised: email lower-cased, phone to E.164, and lookups use the same rules")
    func normalisation() async throws {
        try await withProfileClient { profiles in
            let created = try await profiles.createCustomer(
                createRequest(
                    email: "  Ada@Example.COM ", phone: "0098 (912) 345-6789", given: "Ada"))
            #expect(created.identifiers.map(\.value) == ["ada@example.com", "+989123456789"])
            let found = try await profiles.lookupCustomer(
                .with {
                    $0.identifier = .with {
                        $0.kind = .phone
                        $0.value = "+98 912 345 6789"
                    }
                })
            #expect(found.customerID == created.customerID)
        }
    }

    @Test("a taken identifier answers ALREADY_EXISTS naming it and its holder")
    func alreadyExists() async throws {
        try await withProfileClient { profiles in
            let first = try await profiles.createCustomer(createRequest(email: "ada@example.com"))
            await expectStatus(
                .alreadyExists, containing: "email ada@example.com already belongs to customer \(first.customerID)"
            ) {
                _ = try await profiles.createCustomer(createRequest(email: "ADA@example.com"))
            }
        }
    }

    @Test(
        "every malformed field answers INVALID_ARGUMENT naming the field, and nothing is stored",
        arguments: [
            (createRequest(email: "not-an-email"), "identifiers[0].value"),
            (createRequest(phone: "0912 345 6789"), "identifiers[0].value"),
            (createRequest(phone: "+12"), "identifiers[0].value"),
            (Customer360_V1_CreateCustomerRequest(), "identifiers"),
            (createRequest(given: String(repeating: "x", count: 101)), "given_name"),
            (createRequest(given: "A").with { $0.demographics.countryCode = "XX" }, "demographics.country_code"),
            (createRequest(given: "A").with { $0.demographics.language = "klingon" }, "demographics.language"),
            (createRequest(given: "A").with { $0.demographics.birthYear = 1800 }, "demographics.birth_year"),
            (createRequest(given: "A").with { $0.tags = ["Has Space"] }, "tags[0]"),
            (createRequest(given: "A").with { $0.identifiers = [.with { $0.value = "x" }] }, "identifiers[0].kind"),
            (
                createRequest(given: "A").with {
                    $0.preferences.quietHours = .with {
                        $0.startMinute = 1320
                        $0.endMinute = 60
                        $0.timeZone = "Mars/Base"
                    }
                }, "preferences.quiet_hours.time_zone"
            ),
        ])
    func invalidCreate(request: Customer360_V1_CreateCustomerRequest, field: String) async throws {
        try await withProfileClient { profiles in
            await expectStatus(.invalidArgument, containing: "\(field):") {
                _ = try await profiles.createCustomer(request)
            }
            let all = try await profiles.listCustomers(.init())
            #expect(all.customers.isEmpty)
        }
    }

    @Test("ids are checked before they are used: malformed → INVALID_ARGUMENT, unknown → NOT_FOUND")
    func ids() async throws {
        try await withProfileClient { profiles in
            await expectStatus(.invalidArgument, containing: "customer_id: 'abc' is not a valid id") {
                _ = try await profiles.getCustomer(.with { $0.customerID = "abc" })
            }
            await expectStatus(.invalidArgument, containing: "customer_id: is required") {
                _ = try await profiles.getCustomer(.init())
            }
            await expectStatus(.notFound, containing: "does not exist") {
                _ = try await profiles.getCustomer(.with { $0.customerID = "01890000-0000-7000-8000-000000000000" })
            }
        }
    }

    @Test("update changes only the fields set; UNSPECIFIED stays unset")
    func update() async throws {
        try await withProfileClient { profiles in
            let created = try await profiles.createCustomer(
                createRequest(email: "a@b.co", given: "Ada").with {
                    $0.demographics.city = "London"
                    $0.lifecycleStage = .active
                })
            let updated = try await profiles.updateCustomer(
                .with {
                    $0.customerID = created.customerID
                    $0.familyName = "Lovelace"
                    $0.countryCode = "gb"
                })
            #expect(updated.givenName == "Ada" && updated.familyName == "Lovelace")
            #expect(updated.demographics.city == "London" && updated.demographics.countryCode == "GB")
            #expect(updated.lifecycleStage == .active)
        }
    }

    @Test("list pages with opaque tokens; a token from another filter or a forged one is refused")
    func paging() async throws {
        try await withProfileClient { profiles in
            for index in 0..<5 { _ = try await profiles.createCustomer(createRequest(given: "Name\(index)")) }
            var names: [String] = []
            var token = ""
            repeat {
                let page = try await profiles.listCustomers(
                    .with {
                        $0.page.pageSize = 2
                        $0.page.pageToken = token
                    })
                names += page.customers.map(\.givenName)
                token = page.page.nextPageToken
            } while !token.isEmpty
            #expect(names == (0..<5).map { "Name\($0)" })

            let first = try await profiles.listCustomers(.with { $0.page.pageSize = 2 })
            await expectStatus(.invalidArgument, containing: "page.page_token: was issued for a different filter") {
                _ = try await profiles.listCustomers(
                    .with {
                        $0.page.pageToken = first.page.nextPageToken
                        $0.query = "name"
                    })
            }
            await expectStatus(.invalidArgument, containing: "page.page_token: is not a page token") {
                _ = try await profiles.listCustomers(.with { $0.page.pageToken = "garbage!" })
            }
            await expectStatus(.invalidArgument, containing: "page.page_size: must be between 0") {
                _ = try await profiles.listCustomers(.with { $0.page.pageSize = 501 })
            }
        }
    }

    @Test("merge, consent and loyalty failures answer the precise status")
    func preconditions() async throws {
        try await withProfileClient { profiles in
            let customer = try await profiles.createCustomer(createRequest(given: "C"))
            await expectStatus(.invalidArgument, containing: "merged_id: must differ from customer_id") {
                _ = try await profiles.mergeCustomers(
                    .with {
                        $0.customerID = customer.customerID
                        $0.mergedID = customer.customerID
                    })
            }
            await expectStatus(.invalidArgument, containing: "channel: is required") {
                _ = try await profiles.setConsent(
                    .with {
                        $0.customerID = customer.customerID
                        $0.purpose = .marketing
                        $0.status = .granted
                        $0.source = "form"
                    })
            }
            await expectStatus(.invalidArgument, containing: "decided_at: is in the future") {
                _ = try await profiles.setConsent(
                    .with {
                        $0.customerID = customer.customerID
                        $0.purpose = .marketing
                        $0.channel = .email
                        $0.status = .granted
                        $0.source = "form"
                        $0.decidedAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(86_400 * 365 * 10))
                    })
            }
            await expectStatus(.failedPrecondition, containing: "has 0 points and cannot redeem 10") {
                _ = try await profiles.redeemPoints(
                    .with {
                        $0.customerID = customer.customerID
                        $0.points = 10
                        $0.reason = "voucher"
                    })
            }
            await expectStatus(.invalidArgument, containing: "points: must be greater than zero") {
                _ = try await profiles.earnPoints(
                    .with {
                        $0.customerID = customer.customerID
                        $0.points = -5
                        $0.reason = "x"
                    })
            }
            await expectStatus(.invalidArgument, containing: "namespace:") {
                _ = try await profiles.upsertTraits(
                    .with {
                        $0.customerID = customer.customerID
                        $0.namespace = "Bad Namespace"
                        $0.traits = ["score": .with { $0.numberValue = 1 }]
                    })
            }
        }
    }

    @Test("the merged-away id answers the survivor with resolved_from set")
    func mergedResolution() async throws {
        try await withProfileClient { profiles in
            let survivor = try await profiles.createCustomer(createRequest(email: "s@example.com"))
            let merged = try await profiles.createCustomer(createRequest(email: "m@example.com"))
            _ = try await profiles.mergeCustomers(
                .with {
                    $0.customerID = survivor.customerID
                    $0.mergedID = merged.customerID
                })
            let viaOld = try await profiles.getCustomer(.with { $0.customerID = merged.customerID })
            #expect(viaOld.customerID == survivor.customerID)
            #expect(viaOld.resolvedFrom == merged.customerID)
            #expect(viaOld.identifiers.map(\.value).sorted() == ["m@example.com", "s@example.com"])
        }
    }
}

extension Customer360_V1_CreateCustomerRequest {
    func with(_ change: (inout Self) -> Void) -> Self {
        var copy = self
        change(&copy)
        return copy
    }
}
