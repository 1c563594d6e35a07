import Foundation

/// The keys identity resolution compares, and its rules. Two customers whose keys are equal may be one person:
/// identifiers in another spelling that still reach the same inbox, phone or CRM record, or the same person's name,
/// birth year and city. Keys are stored beside the rows and indexed, so matching a new or changed customer is a few
/// index lookups, never a scan.
enum IdentityMatch {
    /// A rule, strongest first, with the score a match by it gets.
    enum Rule: String, CaseIterable {
        case sameEmail = "same_email"
        case samePhone = "same_phone"
        case sameCRMID = "same_crm_id"
        case nameBirthYearCity = "name_birth_year_city"

        var score: Double {
            switch self {
            case .sameEmail: 0.95
            case .samePhone: 0.9
            case .sameCRMID: 0.9
            case .nameBirthYearCity: 0.7
            }
        }

        init(_ kind: IdentifierKind) {
            switch kind {
            case .email: self = .sameEmail
            case .phone: self = .samePhone
            case .crmID: self = .sameCRMID
            }
        }
    }

    /// The identifier as its owner's systems see it: an email without sub-address (`+tag`) and, at Gmail, without
    /// dots (both deliver to the same inbox); a phone's last ten digits (the national number, whatever the country
    /// prefix was typed as); a CRM id without case or punctuation.
    static func identifierKey(_ kind: IdentifierKind, _ value: String) -> String {
        switch kind {
        case .email:
            let parts = value.lowercased().split(separator: "@", maxSplits: 1)
            guard parts.count == 2 else { return value.lowercased() }
            var local = String(parts[0].split(separator: "+", maxSplits: 1).first ?? parts[0])
            var domain = String(parts[1])
            if domain == "gmail.com" || domain == "googlemail.com" {
                local.removeAll { $0 == "." }
                domain = "gmail.com"
            }
            return "\(local)@\(domain)"
        case .phone:
            return String(value.filter(\.isASCII).filter(\.isNumber).suffix(10))
        case .crmID:
            return String(
                value.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }
                    .map(Character.init))
        }
    }

    /// Name, birth year and city as one key; nil unless all three are known (a name alone matches too many people).
    static func personKey(givenName: String, familyName: String, birthYear: Int?, city: String) -> String? {
        let name = normalizedName(givenName + familyName)
        let place = normalizedName(city)
        guard let birthYear, !name.isEmpty, !place.isEmpty else { return nil }
        return "\(name)|\(birthYear)|\(place)"
    }

    /// A name folded so that spellings of it compare equal: Arabic letter forms as their Persian ones (ي/ئ → ی, ك → ک,
    /// ة → ه, أ/إ/آ → ا, ؤ → و), Persian and Arabic digits as ASCII, no diacritics (Latin accents, Arabic harakat), no
    /// tatweel, and no spaces or zero-width non-joiners (محمدرضا, محمد رضا and محمد‌رضا are one name), lower-cased.
    static func normalizedName(_ text: String) -> String {
        let folded = text.precomposedStringWithCompatibilityMapping
            .folding(options: [.diacriticInsensitive, .caseInsensitive, .widthInsensitive], locale: nil)
        var result = String.UnicodeScalarView()
        for scalar in folded.unicodeScalars {
            switch scalar.value {
            // Arabic yeh, alef maksura, yeh with hamza → Persian yeh
            case 0x064A, 0x0649, 0x0626: result.append("\u{06CC}")
            case 0x0624: result.append("\u{0648}") // waw with hamza → waw
            case 0x0643: result.append("\u{06A9}") // Arabic kaf → keheh
            case 0x0629: result.append("\u{0647}") // teh marbuta → heh
            case 0x0623, 0x0625, 0x0622, 0x0671: result.append("\u{0627}") // hamza/madda alefs → alef
            case 0x06F0...0x06F9: result.append(Unicode.Scalar(scalar.value - 0x06F0 + 0x30)!)
            case 0x0660...0x0669: result.append(Unicode.Scalar(scalar.value - 0x0660 + 0x30)!)
            case 0x064B...0x065F, 0x0670, 0x0640: continue // harakat, superscript alef, tatweel
            default:
                if scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) { result.append(scalar) }
            }
        }
        return String(result)
    }
}
