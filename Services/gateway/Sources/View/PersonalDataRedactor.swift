public import C360Clients
public import C360ServerKit
import SwiftProtobuf

/// Removes the fields Proto/ marks `(customer360.v1.personal_data)` from encoded messages, at any depth, without
/// decoding them into generated types: the gateway forwards backend answers as bytes and only rewrites those of
/// `redacted` RPCs for roles that may not see personal data. What a field holds is declared once, in the contracts.
public struct PersonalDataRedactor: Sendable {
    /// What to do with one message type's fields.
    private struct Plan: Sendable {
        /// Fields holding personal data: dropped.
        var drop: Set<Int32> = []
        /// Message-typed fields whose type holds personal data somewhere below: rewritten.
        var descend: [Int32: String] = [:]
    }

    private let plans: [String: Plan]

    /// The redactor for the embedded contracts.
    public static let current = PersonalDataRedactor(catalog: .current)

    public init(catalog: ContractCatalog) {
        var direct: [String: Plan] = [:]
        var children: [String: [(Int32, String)]] = [:]
        for (name, message) in catalog.messages {
            var plan = Plan()
            for field in message.field {
                if field.options.Customer360_V1_personalData {
                    plan.drop.insert(field.number)
                } else if field.type == .message {
                    children[name, default: []].append((field.number, String(field.typeName.drop { $0 == "." })))
                }
            }
            direct[name] = plan
        }
        // A type needs rewriting when it drops a field itself or holds a type that does: grow that set to a fixpoint.
        var needs = Set(direct.filter { !$0.value.drop.isEmpty }.keys)
        var changed = true
        while changed {
            changed = false
            for (name, fields) in children
            where !needs.contains(name) && fields.contains(where: { needs.contains($0.1) }) {
                needs.insert(name)
                changed = true
            }
        }
        var plans: [String: Plan] = [:]
        for name in needs {
            var plan = direct[name] ?? Plan()
            for (number, type) in children[name] ?? [] where needs.contains(type) { plan.descend[number] = type }
            plans[name] = plan
        }
        self.plans = plans
    }

    /// Whether a message of `type` can carry personal data anywhere in it.
    public func mayHoldPersonalData(_ type: String) -> Bool { plans[type] != nil }

    /// `bytes`, a message of `type`, without its personal data.
    ///
    /// - Throws: `ProtobufWire.Malformed` when the bytes are not a message (the caller fails closed).
    public func redact(_ bytes: [UInt8], as type: String) throws(ProtobufWire.Malformed) -> [UInt8] {
        guard let plan = plans[type] else { return bytes }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        for field in try ProtobufWire.fields(of: bytes) {
            if plan.drop.contains(field.number) { continue }
            if let nested = plan.descend[field.number], field.wireType == .lengthDelimited {
                let payload = try redact(Array(bytes[field.payload]), as: nested)
                ProtobufWire.appendVarint(UInt64(field.number) << 3 | 2, to: &output)
                ProtobufWire.appendVarint(UInt64(payload.count), to: &output)
                output += payload
            } else {
                output += bytes[field.range]
            }
        }
        return output
    }
}
