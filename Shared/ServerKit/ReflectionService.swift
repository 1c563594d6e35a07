import C360Contracts
import Foundation
public import GRPCCore
import SwiftProtobuf

/// gRPC server reflection (`grpc.reflection.v1` and the older `v1alpha` many tools still ask first), answered from the
/// embedded descriptor set (`ContractCatalog`), so grpcurl, grpc_cli, Postman and Evans can list and call every
/// method without the .proto files. Lists exactly the services this server serves.
public struct ReflectionService: RegistrableRPCService {
    private let index: ReflectionIndex

    /// `services`: the fully qualified names this server serves (the reflection services are added).
    public init(services: [String], catalog: ContractCatalog = .current) {
        self.index = ReflectionIndex(catalog: catalog, services: services + ReflectionService.names)
    }

    /// The names of the two reflection services.
    public static let names = [
        Grpc_Reflection_V1_ServerReflection.descriptor.fullyQualifiedService,
        Grpc_Reflection_V1alpha_ServerReflection.descriptor.fullyQualifiedService,
    ]

    public func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        V1(index: index).registerMethods(with: &router)
        V1Alpha(index: index).registerMethods(with: &router)
    }

    /// grpc.reflection.v1.
    struct V1: Grpc_Reflection_V1_ServerReflection.SimpleServiceProtocol {
        let index: ReflectionIndex

        func serverReflectionInfo(
            request: RPCAsyncSequence<Grpc_Reflection_V1_ServerReflectionRequest, any Error>,
            response: RPCWriter<Grpc_Reflection_V1_ServerReflectionResponse>,
            context: ServerContext
        ) async throws {
            for try await question in request { try await response.write(index.answer(question)) }
        }
    }

    /// grpc.reflection.v1alpha: the same messages field for field under another package, so each question is read as
    /// v1, answered once, and the answer's bytes read back as v1alpha.
    struct V1Alpha: Grpc_Reflection_V1alpha_ServerReflection.SimpleServiceProtocol {
        let index: ReflectionIndex

        func serverReflectionInfo(
            request: RPCAsyncSequence<Grpc_Reflection_V1alpha_ServerReflectionRequest, any Error>,
            response: RPCWriter<Grpc_Reflection_V1alpha_ServerReflectionResponse>,
            context: ServerContext
        ) async throws {
            for try await question in request {
                let asked = try Grpc_Reflection_V1_ServerReflectionRequest(
                    serializedBytes: try question.serializedBytes() as [UInt8])
                let answer: [UInt8] = try index.answer(asked).serializedBytes()
                try await response.write(try Grpc_Reflection_V1alpha_ServerReflectionResponse(serializedBytes: answer))
            }
        }
    }
}

/// Where each file, symbol and extension of the contracts is, for answering reflection questions.
struct ReflectionIndex: Sendable {
    private let files: [String: Google_Protobuf_FileDescriptorProto]
    private let fileOfSymbol: [String: String]
    /// Extensions by the type they extend: field number → file.
    private let extensions: [String: [Int32: String]]
    private let services: [String]

    init(catalog: ContractCatalog, services: [String]) {
        var files: [String: Google_Protobuf_FileDescriptorProto] = [:]
        var fileOfSymbol: [String: String] = [:]
        var extensions: [String: [Int32: String]] = [:]
        for file in catalog.files {
            files[file.name] = file
            let prefix = file.package.isEmpty ? "" : file.package + "."
            func addMessage(_ message: Google_Protobuf_DescriptorProto, scope: String) {
                let name = scope + message.name
                fileOfSymbol[name] = file.name
                for field in message.field { fileOfSymbol["\(name).\(field.name)"] = file.name }
                for nested in message.nestedType { addMessage(nested, scope: name + ".") }
                for nested in message.enumType { fileOfSymbol["\(name).\(nested.name)"] = file.name }
                for field in message.extension {
                    extensions[String(field.extendee.drop { $0 == "." }), default: [:]][field.number] = file.name
                }
            }
            for message in file.messageType { addMessage(message, scope: prefix) }
            for value in file.enumType { fileOfSymbol[prefix + value.name] = file.name }
            for service in file.service {
                fileOfSymbol[prefix + service.name] = file.name
                for method in service.method { fileOfSymbol["\(prefix)\(service.name).\(method.name)"] = file.name }
            }
            for field in file.extension {
                fileOfSymbol[prefix + field.name] = file.name
                extensions[String(field.extendee.drop { $0 == "." }), default: [:]][field.number] = file.name
            }
        }
        self.files = files
        self.fileOfSymbol = fileOfSymbol
        self.extensions = extensions
        self.services = services.sorted()
    }

    func answer(_ question: Grpc_Reflection_V1_ServerReflectionRequest) throws
        -> Grpc_Reflection_V1_ServerReflectionResponse
    {
        var answer = Grpc_Reflection_V1_ServerReflectionResponse()
        answer.validHost = question.host
        answer.originalRequest = question
        switch question.messageRequest {
        case .listServices?:
            answer.listServicesResponse = .with { $0.service = services.map { name in .with { $0.name = name } } }
        case .fileByFilename(let name)?:
            answer.messageResponse = try fileResponse(
                files[name] == nil ? nil : name, missing: "no file named '\(name)'")
        case .fileContainingSymbol(let symbol)?:
            let symbol = String(symbol.drop { $0 == "." })
            answer.messageResponse = try fileResponse(fileOfSymbol[symbol], missing: "no symbol named '\(symbol)'")
        case .fileContainingExtension(let request)?:
            let file = extensions[request.containingType]?[request.extensionNumber]
            answer.messageResponse = try fileResponse(
                file, missing: "no extension \(request.extensionNumber) of '\(request.containingType)'")
        case .allExtensionNumbersOfType(let type)?:
            if let numbers = extensions[type] {
                answer.allExtensionNumbersResponse = .with {
                    $0.baseTypeName = type
                    $0.extensionNumber = numbers.keys.sorted()
                }
            } else if fileOfSymbol[type] != nil {
                answer.allExtensionNumbersResponse = .with { $0.baseTypeName = type }
            } else {
                answer.errorResponse = Self.notFound("no message type named '\(type)'")
            }
        case nil:
            answer.errorResponse = .with {
                $0.errorCode = Int32(RPCError.Code.invalidArgument.rawValue)
                $0.errorMessage = "the request sets none of the reflection questions"
            }
        }
        return answer
    }

    /// The file and, before it, everything it imports (transitively), each once, as reflection clients expect.
    private func fileResponse(
        _ name: String?, missing: String
    ) throws -> Grpc_Reflection_V1_ServerReflectionResponse.OneOf_MessageResponse {
        guard let name else { return .errorResponse(Self.notFound(missing)) }
        var ordered: [String] = []
        var seen = Set<String>()
        func visit(_ file: String) {
            guard seen.insert(file).inserted, let descriptor = files[file] else { return }
            ordered.append(file)
            for dependency in descriptor.dependency { visit(dependency) }
        }
        visit(name)
        return .fileDescriptorResponse(
            .with {
                $0.fileDescriptorProto = ordered.compactMap { file -> Data? in try? files[file]?.serializedBytes() }
            })
    }

    private static func notFound(_ message: String) -> Grpc_Reflection_V1_ErrorResponse {
        .with {
            $0.errorCode = Int32(RPCError.Code.notFound.rawValue)
            $0.errorMessage = message
        }
    }
}
