public import C360Contracts
public import Foundation
public import SwiftProtobuf

/// The compiled contracts (`C360DescriptorSet`), parsed once with the access options decoded: every service's methods
/// with their `AccessPolicy`, and every message's fields. The single source the gateway's access control, forwarding
/// and redaction, and every server's reflection, read from, so none of them keeps a list of methods of its own.
public struct ContractCatalog: Sendable {
    /// One RPC as declared in Proto/.
    public struct Method: Sendable, Hashable {
        /// Fully qualified service name, e.g. `customer360.v1.ProfileService`.
        public var service: String
        /// e.g. `GetCustomer`.
        public var name: String
        /// Fully qualified message names, without the leading dot.
        public var inputType: String
        public var outputType: String
        public var clientStreaming: Bool
        public var serverStreaming: Bool
        /// Nil when the RPC declares no `(customer360.v1.access)` option.
        public var policy: Customer360_V1_AccessPolicy?

        /// `service/name`, as grpc-swift's `MethodDescriptor.fullyQualifiedMethod` spells it.
        public var fullyQualifiedMethod: String { "\(service)/\(name)" }
    }

    /// Every file, imports included, as compiled.
    public let files: [Google_Protobuf_FileDescriptorProto]
    /// Every RPC of every service, in declaration order.
    public let methods: [Method]
    /// Every message by fully qualified name (nested messages included, e.g. `customer360.v1.Customer.AttributesEntry`).
    public let messages: [String: Google_Protobuf_DescriptorProto]
    private let methodsByPath: [String: Method]

    /// The catalog of the contracts this binary was built with.
    public static let current: ContractCatalog = {
        do {
            return try ContractCatalog(serializedDescriptorSet: C360DescriptorSet.data)
        } catch {
            fatalError("the embedded descriptor set does not parse: \(error); run scripts/generate-contracts.sh")
        }
    }()

    public init(serializedDescriptorSet data: Data) throws {
        let set = try Google_Protobuf_FileDescriptorSet(
            serializedBytes: data, extensions: Customer360_V1_Access_Extensions)
        var methods: [Method] = []
        var messages: [String: Google_Protobuf_DescriptorProto] = [:]
        for file in set.file {
            let prefix = file.package.isEmpty ? "" : file.package + "."
            func collect(_ message: Google_Protobuf_DescriptorProto, scope: String) {
                let name = scope + message.name
                messages[name] = message
                for nested in message.nestedType { collect(nested, scope: name + ".") }
            }
            for message in file.messageType { collect(message, scope: prefix) }
            for service in file.service {
                for method in service.method {
                    methods.append(
                        Method(
                            service: prefix + service.name, name: method.name,
                            inputType: String(method.inputType.drop { $0 == "." }),
                            outputType: String(method.outputType.drop { $0 == "." }),
                            clientStreaming: method.clientStreaming, serverStreaming: method.serverStreaming,
                            policy: method.options.hasCustomer360_V1_access ? method.options.Customer360_V1_access : nil
                        ))
                }
            }
        }
        self.files = set.file
        self.methods = methods
        self.messages = messages
        self.methodsByPath = Dictionary(
            methods.map { ($0.fullyQualifiedMethod, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The method `service/name` names, if the contracts declare it.
    public func method(_ fullyQualifiedMethod: String) -> Method? { methodsByPath[fullyQualifiedMethod] }

    /// The methods of one service, in declaration order.
    public func methods(ofService service: String) -> [Method] { methods.filter { $0.service == service } }

    /// The fully qualified names of every service declared, in file order.
    public var services: [String] {
        var seen = Set<String>()
        return methods.map(\.service).filter { seen.insert($0).inserted }
    }
}
