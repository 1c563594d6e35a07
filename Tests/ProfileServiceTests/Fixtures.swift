import C360ServerKit
import C360StoreKit
import C360TestSupport
import Foundation

@testable import C360Profile

/// A store on a fresh in-memory database with the production configuration and a hand-moved clock.
func makeStore(clock: TestClock = TestClock()) throws -> ProfileStore {
    try ProfileStore(writer: ServiceDatabase.inMemory(), keyring: Keyring.inMemory(), now: { clock.now() })
}

/// A new customer with the given identifiers and names.
func newCustomer(
    email: String? = nil, phone: String? = nil, crmID: String? = nil, given: String = "", family: String = "",
    country: String = "", tags: [String] = [], attributes: [String: String] = [:], stage: LifecycleStage? = nil
) -> NewCustomer {
    var new = NewCustomer()
    if let email { new.identifiers.append(Identifier(.email, email)) }
    if let phone { new.identifiers.append(Identifier(.phone, phone)) }
    if let crmID { new.identifiers.append(Identifier(.crmID, crmID)) }
    new.givenName = given
    new.familyName = family
    new.countryCode = country
    new.tags = tags
    new.attributes = attributes
    new.lifecycleStage = stage
    return new
}
