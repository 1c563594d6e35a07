public import Foundation
public import SwiftProtobuf

/// The messages, enums and services of a compiled descriptor set (`google.protobuf.FileDescriptorSet`), indexed by
/// their fully qualified names, so a test can build requests for an RPC it knows only from the descriptors.
///
/// Names are kept as the descriptors spell type references: with a leading dot (`.customer360.v1.Customer`) for
/// messages and enums, without one for services (`customer360.v1.ProfileService`, as gRPC paths use them).
public struct ProtoCatalog: Sendable {
    /// Every message, nested ones included, by `.package.Outer.Inner`.
    public let messages: [String: Google_Protobuf_DescriptorProto]
    /// Every enum, nested ones included, by `.package.Outer.Enum`.
    public let enums: [String: Google_Protobuf_EnumDescriptorProto]
    /// Every RPC of every service, in the order the files declare them.
    public let methods: [RPCMethodShape]

    /// Indexes the serialized descriptor set in `data`.
    public init(descriptorSet data: Data) throws {
        try self.init(Google_Protobuf_FileDescriptorSet(serializedBytes: data))
    }

    /// Indexes `set`.
    public init(_ set: Google_Protobuf_FileDescriptorSet) {
        var messages: [String: Google_Protobuf_DescriptorProto] = [:]
        var enums: [String: Google_Protobuf_EnumDescriptorProto] = [:]
        var methods: [RPCMethodShape] = []

        func index(_ message: Google_Protobuf_DescriptorProto, scope: String) {
            let name = "\(scope).\(message.name)"
            messages[name] = message
            for nested in message.nestedType { index(nested, scope: name) }
            for nested in message.enumType { enums["\(name).\(nested.name)"] = nested }
        }

        for file in set.file {
            let scope = file.package.isEmpty ? "" : ".\(file.package)"
            for message in file.messageType { index(message, scope: scope) }
            for enumeration in file.enumType { enums["\(scope).\(enumeration.name)"] = enumeration }
            for service in file.service {
                let serviceName = file.package.isEmpty ? service.name : "\(file.package).\(service.name)"
                for method in service.method {
                    methods.append(
                        RPCMethodShape(
                            service: serviceName, method: method.name, inputType: method.inputType,
                            outputType: method.outputType, clientStreaming: method.clientStreaming,
                            serverStreaming: method.serverStreaming))
                }
            }
        }
        self.messages = messages
        self.enums = enums
        self.methods = methods
    }

    /// The fully qualified names of every service, in declaration order, each once.
    public var serviceNames: [String] {
        var seen: Set<String> = []
        return methods.map(\.service).filter { seen.insert($0).inserted }
    }

    /// The RPCs of the service called `service` (e.g. `customer360.v1.ProfileService`).
    public func methods(of service: String) -> [RPCMethodShape] {
        methods.filter { $0.service == service }
    }
}

/// What a client needs to know to call one RPC without generated code: its path, its message types and which sides
/// stream.
public struct RPCMethodShape: Sendable, Hashable, CustomStringConvertible {
    /// The fully qualified service name, e.g. `customer360.v1.ProfileService`.
    public var service: String
    /// The method name, e.g. `CreateCustomer`.
    public var method: String
    /// The request message type, e.g. `.customer360.v1.CreateCustomerRequest`.
    public var inputType: String
    /// The response message type.
    public var outputType: String
    /// Whether the client sends a stream of requests.
    public var clientStreaming: Bool
    /// Whether the server answers with a stream of responses.
    public var serverStreaming: Bool

    /// `service/method`, as in the gRPC path without its leading slash.
    public var description: String {
        "\(service)/\(method)"
    }
}
