import SwiftProtobuf

/// Compares two descriptor sets of the contracts and lists every change that breaks a client or a peer built against
/// the older one. Adding files, messages, fields, enum values, services and RPCs is fine; removing, renumbering,
/// renaming (the JSON mapping uses names), retyping or relabelling is not, and neither is changing an RPC's
/// request, response or streaming shape.
struct ContractCompatibility {
    let released: Google_Protobuf_FileDescriptorSet
    let current: Google_Protobuf_FileDescriptorSet

    /// One sentence per breaking change, e.g. "customer360.v1.Customer: field 3 (given_name) was removed".
    func breakingChanges() -> [String] {
        var problems: [String] = []
        for (old, new) in counterparts(released.file, current.file, by: \.name) {
            guard let new else {
                problems.append("\(old.name) was removed")
                continue
            }
            if old.package != new.package {
                problems.append("\(old.name): package \(old.package) became \(new.package)")
            }
            compareMessages(old.messageType, new.messageType, scope: old.package, into: &problems)
            compareEnums(old.enumType, new.enumType, scope: old.package, into: &problems)
            compareServices(old.service, new.service, scope: old.package, into: &problems)
        }
        return problems
    }

    private func compareMessages(
        _ old: [Google_Protobuf_DescriptorProto], _ new: [Google_Protobuf_DescriptorProto], scope: String,
        into problems: inout [String]
    ) {
        for (message, newMessage) in counterparts(old, new, by: \.name) {
            let name = "\(scope).\(message.name)"
            guard let newMessage else {
                problems.append("message \(name) was removed")
                continue
            }
            for (field, newField) in counterparts(message.field, newMessage.field, by: \.number) {
                let label = "\(name): field \(field.number) (\(field.name))"
                guard let newField else {
                    problems.append("\(label) was removed or renumbered")
                    continue
                }
                if newField.name != field.name { problems.append("\(label) was renamed to \(newField.name)") }
                if newField.type != field.type || newField.typeName != field.typeName {
                    problems.append("\(label) changed type from \(describe(field)) to \(describe(newField))")
                }
                if newField.label != field.label || newField.proto3Optional != field.proto3Optional {
                    problems.append("\(label) changed label (repeated/optional)")
                }
                if oneofName(field, in: message) != oneofName(newField, in: newMessage) {
                    problems.append("\(label) moved into or out of a oneof")
                }
            }
            compareMessages(message.nestedType, newMessage.nestedType, scope: name, into: &problems)
            compareEnums(message.enumType, newMessage.enumType, scope: name, into: &problems)
        }
    }

    private func compareEnums(
        _ old: [Google_Protobuf_EnumDescriptorProto], _ new: [Google_Protobuf_EnumDescriptorProto], scope: String,
        into problems: inout [String]
    ) {
        for (enumeration, newEnum) in counterparts(old, new, by: \.name) {
            let name = "\(scope).\(enumeration.name)"
            guard let newEnum else {
                problems.append("enum \(name) was removed")
                continue
            }
            for (value, newValue) in counterparts(enumeration.value, newEnum.value, by: \.number) {
                guard let newName = newValue?.name else {
                    problems.append("\(name): value \(value.number) (\(value.name)) was removed")
                    continue
                }
                if newName != value.name {
                    problems.append("\(name): value \(value.number) (\(value.name)) was renamed to \(newName)")
                }
            }
        }
    }

    private func compareServices(
        _ old: [Google_Protobuf_ServiceDescriptorProto], _ new: [Google_Protobuf_ServiceDescriptorProto], scope: String,
        into problems: inout [String]
    ) {
        for (service, newService) in counterparts(old, new, by: \.name) {
            let name = "\(scope).\(service.name)"
            guard let newService else {
                problems.append("service \(name) was removed")
                continue
            }
            for (method, newMethod) in counterparts(service.method, newService.method, by: \.name) {
                let label = "\(name)/\(method.name)"
                guard let newMethod else {
                    problems.append("RPC \(label) was removed")
                    continue
                }
                if newMethod.inputType != method.inputType || newMethod.outputType != method.outputType {
                    problems.append("RPC \(label) changed its request or response type")
                }
                if newMethod.clientStreaming != method.clientStreaming
                    || newMethod.serverStreaming != method.serverStreaming
                {
                    problems.append("RPC \(label) changed its streaming shape")
                }
            }
        }
    }

    /// Each element of `old` with the element of `new` that has the same key (the first, if several), or `nil`.
    private func counterparts<Element, Key: Hashable>(
        _ old: [Element], _ new: [Element], by key: (Element) -> Key
    ) -> [(Element, Element?)] {
        let byKey = Dictionary(new.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        return old.map { ($0, byKey[key($0)]) }
    }

    private func describe(_ field: Google_Protobuf_FieldDescriptorProto) -> String {
        field.typeName.isEmpty ? "\(field.type)" : field.typeName
    }

    /// The real oneof a field belongs to (proto3 `optional` fields sit in synthetic oneofs, which don't count).
    private func oneofName(_ field: Google_Protobuf_FieldDescriptorProto, in message: Google_Protobuf_DescriptorProto)
        -> String?
    {
        guard field.hasOneofIndex, !field.proto3Optional, Int(field.oneofIndex) < message.oneofDecl.count else {
            return nil
        }
        return message.oneofDecl[Int(field.oneofIndex)].name
    }
}
