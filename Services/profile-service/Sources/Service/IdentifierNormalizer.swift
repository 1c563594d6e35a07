import C360ServerKit
import Foundation

/// Turns identifiers as people type them into the one form we store and look up: lower-case emails, E.164 phones,
/// trimmed CRM ids. Two spellings of the same identifier always normalise to the same value.
enum IdentifierNormalizer {
    static func normalize(_ kind: IdentifierKind, _ raw: String, field: String) throws(InvalidArgument) -> Identifier {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw InvalidArgument(field, "is required") }
        switch kind {
        case .email: return Identifier(.email, try email(trimmed, field: field))
        case .phone: return Identifier(.phone, try phone(trimmed, field: field))
        case .crmID: return Identifier(.crmID, try crmID(trimmed, field: field))
        }
    }

    /// A syntactically plausible address (local@domain.tld), lower-cased; at most 254 characters.
    static func email(_ value: String, field: String) throws(InvalidArgument) -> String {
        let email = value.lowercased()
        let invalid = InvalidArgument(
            field, "'\(value.prefix(64))' is not an email address (expected name@example.com)")
        guard email.count <= 254, !email.contains(where: { $0.isWhitespace || $0.isNewline }) else { throw invalid }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...64).contains(parts[0].count), !parts[0].hasPrefix("."),
            !parts[0].hasSuffix("."), !parts[0].contains("..")
        else { throw invalid }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2,
            labels.allSatisfy({ label in
                !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
            }),
            let tld = labels.last, tld.count >= 2, tld.allSatisfy(\.isLetter)
        else { throw invalid }
        return email
    }

    /// E.164: "+", a country code and subscriber number, 8 to 15 digits. Spaces, dots, dashes and parentheses are
    /// dropped and a leading international "00" becomes "+"; a number without a country code is refused because we
    /// cannot tell which country it belongs to.
    static func phone(_ value: String, field: String) throws(InvalidArgument) -> String {
        var compact = value.filter { !" .-()\u{00A0}".contains($0) }
        if compact.hasPrefix("00") { compact = "+" + compact.dropFirst(2) }
        guard compact.hasPrefix("+") else {
            throw InvalidArgument(
                field,
                "'\(value.prefix(32))' has no country code; write it as +<country><number>, e.g. +98 912 345 6789")
        }
        let digits = compact.dropFirst()
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), (8...15).contains(digits.count),
            digits.first != "0"
        else {
            throw InvalidArgument(
                field, "'\(value.prefix(32))' is not a phone number in E.164 form (+ and 8 to 15 digits)")
        }
        return "+" + digits
    }

    /// 1 to 128 characters, no white space or control characters.
    static func crmID(_ value: String, field: String) throws(InvalidArgument) -> String {
        guard value.count <= 128 else { throw InvalidArgument(field, "is longer than 128 characters") }
        guard
            !value.unicodeScalars.contains(where: {
                $0.properties.isWhitespace || $0.properties.generalCategory == .control
            })
        else { throw InvalidArgument(field, "must not contain spaces or control characters") }
        return value
    }
}
