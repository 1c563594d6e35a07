import C360Clients
import C360Contracts
import GRPCCore
import GRPCNIOTransportHTTP2

/// Creates the demo customers in profile-service, printing progress as it goes.
struct ProfileDemoLoader {
    let profiles: Customer360_V1_ProfileService.Client<PeerTransport>
    /// The shard map when profile-service runs as shards: a duplicate is created on its original's shard, since a
    /// merge joins two customers of one shard.
    let shards: ShardMapSource?
    /// Advanced as data is made; handed on to the next loader so one seed drives the whole data set.
    var generator: DemoGenerator

    private let options = CallOptions.deadline(.seconds(10))
    private let stages: [Customer360_V1_LifecycleStage] = [
        .lead, .prospect, .onboarding, .active, .active, .active,
        .atRisk, .churned,
    ]
    private let tags = ["vip", "beta", "newsletter", "b2b", "early-adopter", "support-heavy"]
    private let plans = ["free", "pro", "enterprise"]

    mutating func load(customers count: Int) async throws {
        print("demo-data: creating \(count) customers in profile-service…")
        var created: [Customer360_V1_Customer] = []
        var usedEmails = Set<String>()
        for index in 0..<count {
            let person = DemoPeople.make(using: &generator)
            var email = "\(person.latinGiven).\(person.latinFamily)@example.\(person.country == "IR" ? "ir" : "com")"
            if usedEmails.contains(email) { email = email.replacingOccurrences(of: "@", with: "\(index)@") }
            usedEmails.insert(email)
            let request = makeRequest(person: person, email: email, index: index)
            let customer = try await profiles.createCustomer(request, options: options)
            try await decorate(customer)
            created.append(customer)
            if (index + 1) % 50 == 0 || index + 1 == count {
                print("demo-data: \(index + 1)/\(count) customers")
            }
        }
        try await mergeDuplicates(of: created)
        print("demo-data: done (\(count) customers, consents, loyalty points and merged duplicates)")
        if let sample = created.first(where: { $0.demographics.countryCode == "IR" }) ?? created.first,
            let email = sample.identifiers.first(where: { $0.kind == .email })
        {
            print("demo-data: for example, customer \(sample.customerID) has email \(email.value)")
        }
    }

    private mutating func makeRequest(person: DemoPerson, email: String, index: Int)
        -> Customer360_V1_CreateCustomerRequest
    {
        // "+" and five digits of the country's mobile prefix, then seven from the index: unique and E.164-valid.
        let phone = String(person.phonePrefix.prefix(6)) + String(index).leftPadded(to: 7, with: "0")
        let stage = generator.pick(stages)
        let tagCount = Int.random(in: 0...2, using: &generator)
        let chosenTags = (0..<tagCount).map { _ in generator.pick(tags) }
        let plan = generator.pick(plans)
        let birthYear = Int32.random(in: 1955...2004, using: &generator)
        let withCRM = generator.chance(0.3)
        return .with {
            $0.identifiers = [
                .with {
                    $0.kind = .email
                    $0.value = email
                },
                .with {
                    $0.kind = .phone
                    $0.value = phone
                },
            ]
            if withCRM {
                $0.identifiers.append(
                    .with {
                        $0.kind = .crmID
                        $0.value = "SF-\(100_000 + index)"
                    })
            }
            $0.givenName = person.givenName
            $0.familyName = person.familyName
            $0.demographics = .with {
                $0.birthYear = birthYear
                $0.city = person.city
                $0.countryCode = person.country
                $0.language = person.language
            }
            $0.preferences = .with {
                $0.preferredChannel = person.country == "IR" ? .sms : .email
                $0.preferredLanguage = String(person.language.prefix(2))
            }
            $0.tags = chosenTags
            $0.attributes = ["plan": plan]
            $0.lifecycleStage = stage
        }
    }

    /// Consents and loyalty activity, so every profile looks lived-in.
    private mutating func decorate(_ customer: Customer360_V1_Customer) async throws {
        let marketing: Customer360_V1_ConsentStatus = generator.chance(0.7) ? .granted : .withdrawn
        _ = try await profiles.setConsent(
            .with {
                $0.customerID = customer.customerID
                $0.purpose = .marketing
                $0.channel = customer.preferences.preferredChannel
                $0.status = marketing
                $0.source = "signup-form"
            }, options: options)
        if generator.chance(0.5) {
            _ = try await profiles.setConsent(
                .with {
                    $0.customerID = customer.customerID
                    $0.purpose = .analytics
                    $0.channel = .web
                    $0.status = .granted
                    $0.source = "cookie-banner"
                }, options: options)
        }
        let earned = Int64.random(in: 0...8_000, using: &generator)
        guard earned > 0 else { return }
        _ = try await profiles.earnPoints(
            .with {
                $0.customerID = customer.customerID
                $0.points = earned
                $0.reason = "purchases"
            }, options: options)
        if generator.chance(0.3) {
            _ = try await profiles.redeemPoints(
                .with {
                    $0.customerID = customer.customerID
                    $0.points = earned / 2
                    $0.reason = "voucher"
                }, options: options)
        }
    }

    /// Creates a second, sparser profile for a few customers (as a second sign-up would) and merges it back.
    private mutating func mergeDuplicates(of customers: [Customer360_V1_Customer]) async throws {
        let count = min(5, customers.count / 20)
        guard count > 0 else { return }
        for customer in customers.prefix(count) {
            let shard = shards?.current.owner(of: customer.customerID, in: "profile-service")?.shard
            let duplicate = try await profiles.createCustomer(
                .with {
                    $0.identifiers = [
                        .with {
                            $0.kind = .email
                            $0.value = "alt.\(customer.customerID.suffix(8))@example.org"
                        }
                    ]
                    $0.givenName = customer.givenName
                    $0.tags = ["imported"]
                }, metadata: shard.map { [WrongShard.pinKey: .string($0)] } ?? [:], options: options)
            _ = try await profiles.mergeCustomers(
                .with {
                    $0.customerID = customer.customerID
                    $0.mergedID = duplicate.customerID
                }, options: options)
        }
        print("demo-data: merged \(count) duplicate profiles into their originals")
    }
}

extension String {
    func leftPadded(to length: Int, with pad: Character) -> String {
        count >= length ? String(suffix(length)) : String(repeating: pad, count: length - count) + self
    }
}
