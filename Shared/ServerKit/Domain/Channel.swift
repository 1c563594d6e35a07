public import C360Contracts

/// A way a customer can reach us or we can reach them; stored by name, mapped to `customer360.v1.Channel` at the
/// edge. Every service uses this one type.
public enum Channel: String, Codable, Sendable, CaseIterable {
    case web, app, email, sms, push, chat, phone, social
    case inStore = "in_store"

    /// The domain value of a proto channel; `nil` for UNSPECIFIED or a value this build does not know.
    public init?(proto: Customer360_V1_Channel) {
        switch proto {
        case .web: self = .web
        case .app: self = .app
        case .email: self = .email
        case .sms: self = .sms
        case .push: self = .push
        case .chat: self = .chat
        case .phone: self = .phone
        case .social: self = .social
        case .inStore: self = .inStore
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Customer360_V1_Channel {
        switch self {
        case .web: .web
        case .app: .app
        case .email: .email
        case .sms: .sms
        case .push: .push
        case .chat: .chat
        case .phone: .phone
        case .social: .social
        case .inStore: .inStore
        }
    }
}
