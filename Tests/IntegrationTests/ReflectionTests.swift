import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

/// Asks one reflection question over `ServerReflectionInfo` (v1) and returns the answer.
private func ask(
    _ client: GRPCClient<HTTP2ClientTransport.Posix>, _ question: Grpc_Reflection_V1_ServerReflectionRequest
) async throws -> Grpc_Reflection_V1_ServerReflectionResponse {
    let reflection = Grpc_Reflection_V1_ServerReflection.Client(wrapping: client)
    return try await reflection.serverReflectionInfo { writer in
        try await writer.write(question)
    } onResponse: { response in
        for try await answer in response.messages { return answer }
        throw RPCError(code: .internalError, message: "no reflection answer")
    }
}

/// The names of the files in a file-descriptor answer.
private func fileNames(_ answer: Grpc_Reflection_V1_ServerReflectionResponse) throws -> [String] {
    try answer.fileDescriptorResponse.fileDescriptorProto.map {
        try Google_Protobuf_FileDescriptorProto(serializedBytes: $0).name
    }
}

@Suite("gRPC server reflection, from the embedded descriptors")
struct ReflectionTests {
    @Test("the gateway lists every service it serves, the forwarded backends included, without an API key")
    func gatewayListsServices() async throws {
        try await withGatewayStack { stack in
            try await withConnectedClient(to: stack.gatewayProcess.address) { client in
                let answer = try await ask(client, .with { $0.listServices = "" })
                let names = Set(answer.listServicesResponse.service.map(\.name))
                #expect(
                    names.isSuperset(of: [
                        "customer360.v1.GatewayService", "customer360.v1.ProfileService",
                        "customer360.v1.InteractionService",
                        "customer360.v1.FeedbackService", "customer360.v1.SuccessService",
                        "customer360.v1.AdminService",
                        "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                        "grpc.reflection.v1alpha.ServerReflection",
                    ]), "\(names)")
            }
        }
    }

    @Test("a symbol's file comes with every file it imports, so a tool can build the method's messages")
    func symbolWithDependencies() async throws {
        try await withService("profile-service") { _, client in
            let answer = try await ask(
                client, .with { $0.fileContainingSymbol = "customer360.v1.ProfileService.GetLoyalty" })
            let names = try fileNames(answer)
            #expect(names.first == "customer360/v1/profile.proto")
            #expect(
                Set(names).isSuperset(of: [
                    "customer360/v1/access.proto", "customer360/v1/common.proto", "google/protobuf/timestamp.proto",
                    "google/protobuf/descriptor.proto",
                ]), "\(names)")
            let byName = try await ask(client, .with { $0.fileByFilename = "customer360/v1/common.proto" })
            #expect(try fileNames(byName).first == "customer360/v1/common.proto")
            let extensions = try await ask(
                client, .with { $0.allExtensionNumbersOfType = "google.protobuf.MethodOptions" })
            #expect(extensions.allExtensionNumbersResponse.extensionNumber == [51360])
        }
    }

    @Test("an unknown symbol answers NOT_FOUND inside the stream, and v1alpha answers like v1")
    func unknownAndAlpha() async throws {
        try await withService("feedback-service") { _, client in
            let missing = try await ask(client, .with { $0.fileContainingSymbol = "customer360.v1.NoSuchThing" })
            #expect(missing.errorResponse.errorCode == Int32(RPCError.Code.notFound.rawValue))
            #expect(missing.errorResponse.errorMessage.contains("NoSuchThing"))

            let alpha = Grpc_Reflection_V1alpha_ServerReflection.Client(wrapping: client)
            let services = try await alpha.serverReflectionInfo { writer in
                try await writer.write(.with { $0.listServices = "" })
            } onResponse: { response in
                var names: [String] = []
                for try await answer in response.messages { names += answer.listServicesResponse.service.map(\.name) }
                return names
            }
            #expect(
                services.contains("customer360.v1.FeedbackService")
                    && !services.contains("customer360.v1.ProfileService"))
        }
    }
}
