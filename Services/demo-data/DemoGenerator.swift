/// A small deterministic random generator (SplitMix64), so a seed always yields the same demo data.
struct DemoGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with the given probability.
    mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &self) < probability
    }

    mutating func pick<T>(_ items: [T]) -> T {
        items[Int.random(in: 0..<items.count, using: &self)]
    }
}

/// One demo person: how they write their name, and how it is spelled in an email address.
struct DemoPerson {
    var givenName: String
    var familyName: String
    var latinGiven: String
    var latinFamily: String
    var country: String
    var language: String
    var city: String
    var phonePrefix: String
}

/// Names, places and phone prefixes the demo customers are drawn from, in English and Persian.
enum DemoPeople {
    static let persian: [(String, String)] = [
        ("سارا", "sara"), ("علی", "ali"), ("مریم", "maryam"), ("رضا", "reza"), ("زهرا", "zahra"),
        ("محمد", "mohammad"), ("نگار", "negar"), ("امیر", "amir"), ("فاطمه", "fatemeh"), ("حسین", "hossein"),
        ("لیلا", "leila"), ("کاوه", "kaveh"), ("شیرین", "shirin"), ("بابک", "babak"), ("پریسا", "parisa"),
    ]
    static let persianFamilies: [(String, String)] = [
        ("احمدی", "ahmadi"), ("رضایی", "rezaei"), ("محمدی", "mohammadi"), ("حسینی", "hosseini"),
        ("کریمی", "karimi"), ("موسوی", "mousavi"), ("جعفری", "jafari"), ("تهرانی", "tehrani"),
        ("نوری", "nouri"), ("صادقی", "sadeghi"),
    ]
    static let english = [
        "Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances",
        "Tim", "Katherine", "John", "Radia", "Edsger", "Hedy",
    ]
    static let englishFamilies = [
        "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov",
        "Thompson", "Allen", "Berners-Lee", "Johnson", "Backus", "Perlman", "Dijkstra",
    ]
    static let persianCities = ["Tehran", "Isfahan", "Shiraz", "Tabriz", "Mashhad"]
    static let englishPlaces: [(country: String, city: String, phone: String, language: String)] = [
        ("GB", "London", "+447700900", "en-GB"), ("US", "Boston", "+1202555", "en-US"),
        ("DE", "Berlin", "+4915112", "de"), ("CA", "Toronto", "+1416555", "en"),
    ]

    static func make(using generator: inout DemoGenerator) -> DemoPerson {
        if generator.chance(0.55) {
            let given = generator.pick(persian)
            let family = generator.pick(persianFamilies)
            return DemoPerson(
                givenName: given.0, familyName: family.0, latinGiven: given.1, latinFamily: family.1,
                country: "IR", language: "fa", city: generator.pick(persianCities),
                phonePrefix: "+98912")
        }
        let place = generator.pick(englishPlaces)
        let given = generator.pick(english)
        let family = generator.pick(englishFamilies)
        return DemoPerson(
            givenName: given, familyName: family, latinGiven: given.lowercased(),
            latinFamily: family.lowercased().replacingOccurrences(of: "-", with: ""),
            country: place.country, language: place.language, city: place.city,
            phonePrefix: place.phone)
    }
}
