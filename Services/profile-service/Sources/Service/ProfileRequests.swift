import C360Contracts
import C360ServerKit
import Foundation

/// Validation of profile-service requests: each function reads a protobuf request and returns validated, normalised
/// domain input or throws `InvalidArgument` naming the first field that is wrong.
enum ProfileRequests {
    static let maxNameLength = 100
    static let maxTextLength = 200

    static func newCustomer(_ request: Customer360_V1_CreateCustomerRequest, now: Date) throws(InvalidArgument)
        -> NewCustomer
    {
        var new = NewCustomer()
        new.identifiers = try identifiers(request.identifiers)
        new.givenName = try Validate.text(request.givenName, field: "given_name", maxLength: maxNameLength)
        new.familyName = try Validate.text(request.familyName, field: "family_name", maxLength: maxNameLength)
        guard !new.identifiers.isEmpty || !new.givenName.isEmpty || !new.familyName.isEmpty else {
            throw InvalidArgument("identifiers", "a customer needs at least one identifier or a name")
        }
        if request.hasDemographics {
            let demographics = request.demographics
            new.birthYear = try birthYear(demographics.birthYear, field: "demographics.birth_year", now: now)
            new.city = try Validate.text(demographics.city, field: "demographics.city", maxLength: maxNameLength)
            new.countryCode = try Validate.countryCode(demographics.countryCode, field: "demographics.country_code")
            new.language = try Validate.language(demographics.language, field: "demographics.language")
            new.company = try Validate.text(
                demographics.company, field: "demographics.company", maxLength: maxTextLength)
        }
        if request.hasPreferences {
            let preferences = request.preferences
            new.preferredChannel = try optionalChannel(
                preferences.preferredChannel, field: "preferences.preferred_channel")
            new.preferredLanguage = try Validate.language(
                preferences.preferredLanguage, field: "preferences.preferred_language")
            if preferences.hasQuietHours {
                new.quietHours = try quietHours(preferences.quietHours, field: "preferences.quiet_hours")
            }
        }
        new.tags = try tags(request.tags, field: "tags")
        guard new.tags.count <= ProfileStore.maxTags else {
            throw InvalidArgument("tags", "has \(new.tags.count) tags; the maximum is \(ProfileStore.maxTags)")
        }
        new.attributes = try attributes(request.attributes, field: "attributes", allowEmptyValues: false)
        guard new.attributes.count <= ProfileStore.maxAttributes else {
            throw InvalidArgument(
                "attributes", "has \(new.attributes.count) entries; the maximum is \(ProfileStore.maxAttributes)")
        }
        new.lifecycleStage = try optionalStage(request.lifecycleStage, field: "lifecycle_stage")
        return new
    }

    static func patch(_ request: Customer360_V1_UpdateCustomerRequest, now: Date) throws(InvalidArgument)
        -> CustomerPatch
    {
        var patch = CustomerPatch()
        if request.hasGivenName {
            patch.givenName = try Validate.text(request.givenName, field: "given_name", maxLength: maxNameLength)
        }
        if request.hasFamilyName {
            patch.familyName = try Validate.text(request.familyName, field: "family_name", maxLength: maxNameLength)
        }
        if request.hasBirthYear {
            patch.birthYear = .some(try birthYear(request.birthYear, field: "birth_year", now: now))
        }
        if request.hasCity { patch.city = try Validate.text(request.city, field: "city", maxLength: maxNameLength) }
        if request.hasCountryCode {
            patch.countryCode = try Validate.countryCode(request.countryCode, field: "country_code")
        }
        if request.hasLanguage { patch.language = try Validate.language(request.language, field: "language") }
        if request.hasCompany {
            patch.company = try Validate.text(request.company, field: "company", maxLength: maxTextLength)
        }
        if request.hasPreferredChannel {
            patch.preferredChannel = .some(try optionalChannel(request.preferredChannel, field: "preferred_channel"))
        }
        if request.hasPreferredLanguage {
            patch.preferredLanguage = try Validate.language(request.preferredLanguage, field: "preferred_language")
        }
        if request.removeQuietHours {
            guard !request.hasQuietHours else {
                throw InvalidArgument("remove_quiet_hours", "cannot be combined with quiet_hours")
            }
            patch.quietHours = .some(nil)
        } else if request.hasQuietHours {
            patch.quietHours = .some(try quietHours(request.quietHours, field: "quiet_hours"))
        }
        if request.hasLifecycleStage {
            patch.lifecycleStage = .some(try optionalStage(request.lifecycleStage, field: "lifecycle_stage"))
        }
        return patch
    }

    static func query(_ request: Customer360_V1_ListCustomersRequest) throws(InvalidArgument) -> CustomerQuery {
        var query = CustomerQuery()
        query.text = try Validate.text(request.query, field: "query", maxLength: maxNameLength).lowercased()
        if !request.tag.isEmpty { query.tag = try tag(request.tag, field: "tag") }
        query.countryCode = try Validate.countryCode(request.countryCode, field: "country_code")
        query.lifecycleStage = try optionalStage(request.lifecycleStage, field: "lifecycle_stage")
        (query.createdFrom, query.createdUntil) = try Validate.window(
            request.created, isSet: request.hasCreated,
            field: "created")
        return query
    }

    // MARK: - Fields

    static func identifiers(_ list: [Customer360_V1_Identifier]) throws(InvalidArgument) -> [Identifier] {
        var result: [Identifier] = []
        for (index, item) in list.enumerated() {
            let identifier = try identifier(item, field: "identifiers[\(index)]")
            if !result.contains(identifier) { result.append(identifier) }
        }
        guard result.count <= 20 else { throw InvalidArgument("identifiers", "at most 20 identifiers per customer") }
        return result
    }

    static func identifier(_ item: Customer360_V1_Identifier, field: String) throws(InvalidArgument) -> Identifier {
        guard let kind = IdentifierKind(proto: item.kind) else {
            throw InvalidArgument("\(field).kind", "must be EMAIL, PHONE or CRM_ID")
        }
        return try IdentifierNormalizer.normalize(kind, item.value, field: "\(field).value")
    }

    static func tags(_ list: [String], field: String) throws(InvalidArgument) -> [String] {
        var result: [String] = []
        for (index, raw) in list.enumerated() {
            let value = try tag(raw, field: "\(field)[\(index)]")
            if !result.contains(value) { result.append(value) }
        }
        return result
    }

    /// Lower-case letters, digits, '-', '_' and ':', 1 to 64 characters (input is lower-cased first).
    static func tag(_ raw: String, field: String) throws(InvalidArgument) -> String {
        let value = raw.trimmingCharacters(in: .whitespaces).lowercased()
        guard isKey(value) else {
            throw InvalidArgument(field, "'\(raw.prefix(64))' must be 1 to 64 of a-z, 0-9, '-', '_' and ':'")
        }
        return value
    }

    static func attributes(
        _ map: [String: String], field: String, allowEmptyValues: Bool
    ) throws(InvalidArgument) -> [String: String] {
        var result: [String: String] = [:]
        for key in map.keys.sorted() {
            guard isKey(key) else {
                throw InvalidArgument(
                    "\(field)[\(key.prefix(64))]", "keys must be 1 to 64 of a-z, 0-9, '-', '_' and ':'")
            }
            let value = try Validate.text(map[key] ?? "", field: "\(field)[\(key)]", maxLength: 1024)
            if value.isEmpty, !allowEmptyValues { throw InvalidArgument("\(field)[\(key)]", "must not be empty") }
            result[key] = value
        }
        return result
    }

    /// A trait namespace or name: lower-case letters, digits and '_', starting with a letter, 1 to 32 characters.
    static func traitName(_ value: String, field: String) throws(InvalidArgument) -> String {
        guard (1...32).contains(value.utf8.count), let first = value.unicodeScalars.first,
            ("a"..."z").contains(first),
            value.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
        else {
            throw InvalidArgument(
                field, "'\(value.prefix(32))' must be 1 to 32 of a-z, 0-9 and '_', starting with a letter")
        }
        return value
    }

    static func traitValue(_ value: Customer360_V1_TraitValue, field: String) throws(InvalidArgument) -> TraitValue {
        switch value.value {
        case .stringValue(let text):
            return .string(try Validate.text(text, field: field, maxLength: 1024))
        case .numberValue(let number):
            guard number.isFinite else { throw InvalidArgument(field, "must be a finite number") }
            return .number(number)
        case .boolValue(let flag):
            return .bool(flag)
        case nil:
            throw InvalidArgument(field, "must hold a string, number or bool value")
        }
    }

    static func points(_ value: Int64, field: String = "points") throws(InvalidArgument) -> Int64 {
        guard value > 0 else { throw InvalidArgument(field, "must be greater than zero, not \(value)") }
        guard value <= 100_000_000 else { throw InvalidArgument(field, "must be at most 100,000,000 per transaction") }
        return value
    }

    static func transactionID(_ value: String) throws(InvalidArgument) -> String? {
        guard !value.isEmpty else { return nil }
        return try IdentifierNormalizer.crmID(value, field: "transaction_id")
    }

    // MARK: - Helpers

    private static func isKey(_ value: String) -> Bool {
        (1...64).contains(value.utf8.count)
            && value.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" || $0 == ":"
            }
    }

    private static func birthYear(_ year: Int32, field: String, now: Date) throws(InvalidArgument) -> Int? {
        guard year != 0 else { return nil }
        let current = Calendar(identifier: .gregorian).component(.year, from: now)
        guard (1900...current).contains(Int(year)) else {
            throw InvalidArgument(field, "must be a year between 1900 and \(current), not \(year)")
        }
        return Int(year)
    }

    private static func quietHours(_ hours: Customer360_V1_QuietHours, field: String) throws(InvalidArgument)
        -> QuietHours
    {
        guard (0..<1440).contains(hours.startMinute) else {
            throw InvalidArgument("\(field).start_minute", "must be 0...1439 minutes after midnight")
        }
        guard (0..<1440).contains(hours.endMinute) else {
            throw InvalidArgument("\(field).end_minute", "must be 0...1439 minutes after midnight")
        }
        guard hours.startMinute != hours.endMinute else {
            throw InvalidArgument(field, "start_minute and end_minute must differ")
        }
        guard TimeZone(identifier: hours.timeZone) != nil else {
            throw InvalidArgument(
                "\(field).time_zone", "'\(hours.timeZone.prefix(64))' is not an IANA time zone (e.g. Asia/Tehran)")
        }
        return QuietHours(
            startMinute: Int(hours.startMinute), endMinute: Int(hours.endMinute), timeZone: hours.timeZone)
    }

    static func optionalChannel(_ value: Customer360_V1_Channel, field: String) throws(InvalidArgument) -> Channel? {
        if value == .unspecified { return nil }
        guard let channel = Channel(proto: value) else { throw InvalidArgument(field, "is not a known channel") }
        return channel
    }

    static func channel(_ value: Customer360_V1_Channel, field: String) throws(InvalidArgument) -> Channel {
        guard let channel = try optionalChannel(value, field: field) else {
            throw InvalidArgument(field, "is required")
        }
        return channel
    }

    private static func optionalStage(
        _ value: Customer360_V1_LifecycleStage, field: String
    ) throws(InvalidArgument) -> LifecycleStage? {
        if value == .unspecified { return nil }
        guard let stage = LifecycleStage(proto: value) else {
            throw InvalidArgument(field, "is not a known lifecycle stage")
        }
        return stage
    }
}
