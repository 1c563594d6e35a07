import Foundation

/// An opaque, self-contained page token: the position after the last row returned plus a fingerprint of the filter
/// it was issued for, as base64url JSON.
///
/// Tokens carry no server state, so a page can be continued on any replica, and a token presented with a different
/// filter is refused instead of silently skipping rows.
public struct PageToken<Position: Codable & Sendable & Equatable>: Sendable, Equatable {
    /// Where the next page starts (exclusive).
    public var position: Position
    /// Identifies the filter the token belongs to.
    public var filter: String

    public init(position: Position, filter: String) {
        self.position = position
        self.filter = filter
    }

    private struct Wire: Codable {
        var p: Position
        var f: String
    }

    /// The token as the client sees it.
    public func encoded() -> String {
        let data = (try? JSONEncoder().encode(Wire(p: position, f: filter))) ?? Data()
        return data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes a client's token; `nil` for the empty token (first page).
    ///
    /// - Throws: `PageTokenError` when the token is not one of ours or was issued for another filter.
    public static func decode(_ token: String, filter: String) throws(PageTokenError) -> PageToken? {
        guard !token.isEmpty else { return nil }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let wire = try? JSONDecoder().decode(Wire.self, from: data)
        else { throw .malformed }
        guard wire.f == filter else { throw .filterChanged }
        return PageToken(position: wire.p, filter: wire.f)
    }
}

/// Why a page token was refused.
public enum PageTokenError: Error, Equatable, Sendable {
    /// Not a token this service issued.
    case malformed
    /// Issued for a different filter than the request now carries.
    case filterChanged

    /// A sentence for the client.
    public var reason: String {
        switch self {
        case .malformed: "is not a page token issued by this service"
        case .filterChanged: "was issued for a different filter; start again without a page token"
        }
    }
}

/// Page-size rules shared by every list RPC: 0 means the default, the maximum is enforced, negatives are refused.
public struct PageSize: Sendable {
    public static let `default` = 50
    public static let maximum = 500

    /// The number of rows to return for a requested page size, or `nil` when the request is out of range.
    public static func resolve(_ requested: Int32) -> Int? {
        switch requested {
        case 0: `default`
        case 1...Int32(maximum): Int(requested)
        default: nil
        }
    }
}
