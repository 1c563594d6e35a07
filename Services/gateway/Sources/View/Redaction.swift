import C360Contracts

/// Removes personal data (names, identifiers, demographics, custom attributes, comments, message bodies, ticket
/// subjects) for roles that may not see it, keeping what dashboards need (ids, stages, tags, scores, counts).
enum Redaction {
    static func redact(_ customer: inout Customer360_V1_Customer) {
        customer.identifiers = []
        customer.givenName = ""
        customer.familyName = ""
        let country = customer.demographics.countryCode
        customer.demographics = .with { $0.countryCode = country }
        customer.attributes = [:]
    }

    static func redact(_ touchpoint: inout Customer360_V1_Touchpoint) {
        touchpoint.body = ""
        touchpoint.attributes = [:]
    }

    static func redact(_ view: inout Customer360_V1_Customer360View) {
        if view.hasProfile { redact(&view.profile) }
        for index in view.recentTimeline.indices { redact(&view.recentTimeline[index]) }
        for index in view.openTickets.indices { view.openTickets[index].subject = "" }
        for index in view.recentFeedback.indices { view.recentFeedback[index].comment = "" }
        view.personalDataRedacted = true
    }
}
