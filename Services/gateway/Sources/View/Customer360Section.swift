import C360ServerKit

/// A section of the 360° view, by its name in the contracts (`Customer360View.section_statuses`, `missing_sections`,
/// `GetCustomer360Request.sections`, `Customer360Update.sections`) and the service that fills it.
///
/// One type for the assembler, the request's validation and the watch, so a section is never a bare string that one
/// of them could spell differently.
enum Customer360Section: String, CaseIterable, Sendable {
    case profile, consents, timeline, engagement, commerce, support, feedback
    case successPlans = "success_plans"
    case health, alerts

    /// The service whose answer fills this section.
    var service: ServiceIdentity {
        switch self {
        case .profile, .consents: .profile
        case .timeline, .engagement, .commerce, .support: .interaction
        case .feedback: .feedback
        case .successPlans, .health, .alerts: .success
        }
    }

    /// The sections `names` lists (a request's), or INVALID_ARGUMENT naming the first that is not one.
    static func parse(_ names: [String], field: String) throws -> Set<Customer360Section> {
        try Set(
            names.enumerated().map { index, name in
                guard let section = Customer360Section(rawValue: name) else {
                    throw InvalidArgument(
                        "\(field)[\(index)]",
                        "'\(name.prefix(32))' is not a section ("
                            + allCases.map(\.rawValue).joined(separator: ", ") + ")")
                }
                return section
            })
    }
}
