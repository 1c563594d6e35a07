public import C360ServerKit
import Foundation

/// The text of a message template: `{{placeholder}}` or `{{placeholder|fallback}}` filled from the customer's
/// facts. A placeholder the customer has no value for takes its fallback (or nothing), and is reported as missing,
/// so a preview shows what a send would look like. Text between placeholders is kept exactly as written, so
/// right-to-left scripts (Persian) and their direction marks pass through untouched.
public struct TemplateText: Sendable, Equatable {
    /// The placeholders a template may use, with what they stand for (the README lists them too).
    public static let placeholders: [String: String] = [
        "given_name": "the customer's given name",
        "family_name": "the customer's family name",
        "loyalty_tier": "bronze, silver, gold or platinum",
        "loyalty_points": "the points balance",
        "last_purchase_at": "the date of the last purchase (yyyy-MM-dd, customer's time zone)",
        "orders": "the number of orders",
        "clv": "historic customer lifetime value in minor units",
        "city": "the customer's city",
        "country_code": "ISO country code",
        "customer_id": "the customer id",
        "recommendation": "the product most often bought with theirs (item-to-item)",
        "feature_title": "in a journey triggered by FEATURE_REQUEST_SHIPPED: the title of the feature that shipped",
    ]

    enum Part: Sendable, Equatable {
        case literal(String)
        case placeholder(name: String, fallback: String)
    }

    let parts: [Part]

    /// Parses `text`; every placeholder must be known.
    ///
    /// - Throws: `InvalidArgument` naming `field` and the placeholder.
    public init(_ text: String, field: String) throws(InvalidArgument) {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.literal(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw InvalidArgument(field, "has a '{{' without its closing '}}'")
            }
            let inside = rest[open.upperBound..<close.lowerBound]
            let pieces = inside.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            let name = pieces[0].trimmingCharacters(in: .whitespaces)
            guard Self.placeholders[name] != nil else {
                throw InvalidArgument(
                    field,
                    "'{{\(inside.prefix(64))}}' is not a known placeholder; use one of "
                        + Self.placeholders.keys.sorted().joined(separator: ", "))
            }
            parts.append(.placeholder(name: name, fallback: pieces.count > 1 ? String(pieces[1]) : ""))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        self.parts = parts
    }

    /// The text with `values` filled in, and the placeholders that had no (non-empty) value.
    public func render(_ values: [String: String]) -> (text: String, missing: [String]) {
        var text = ""
        var missing: [String] = []
        for part in parts {
            switch part {
            case .literal(let literal):
                text += literal
            case .placeholder(let name, let fallback):
                if let value = values[name], !value.isEmpty {
                    text += value
                } else {
                    text += fallback
                    if !missing.contains(name) { missing.append(name) }
                }
            }
        }
        return (text, missing)
    }
}

extension CustomerFacts {
    /// The values of `TemplateText.placeholders` for this customer, names and city from `contact` (the read model
    /// holds those only sealed); facts the customer lacks are left out.
    public func placeholderValues(_ contact: CustomerContact) -> [String: String] {
        var values: [String: String] = ["customer_id": customerId]
        values["given_name"] = contact.givenName
        values["family_name"] = contact.familyName
        values["loyalty_tier"] = loyaltyTier
        values["city"] = contact.city
        values["country_code"] = countryCode
        values["recommendation"] = recommendation
        if loyaltyPoints > 0 || !loyaltyTier.isEmpty { values["loyalty_points"] = String(loyaltyPoints) }
        if orders > 0 {
            values["orders"] = String(orders)
            values["clv"] = String(clvMinor)
        }
        if let lastPurchaseAt {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.calendar = Calendar(identifier: .gregorian)
            formatter.timeZone = TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd"
            values["last_purchase_at"] = formatter.string(from: Date(unixMillis: lastPurchaseAt))
        }
        return values.filter { !$0.value.isEmpty }
    }
}
