import C360TestSupport
import Foundation
import SwiftProtobuf
import Testing

/// The descriptor set of the newest release in Proto/releases, and the one generated from Proto/ now.
private func descriptorSets() throws -> (
    release: String, released: Google_Protobuf_FileDescriptorSet,
    current: Google_Protobuf_FileDescriptorSet
) {
    let root = try ServiceBinaries.packageRoot()
    let releases = root.appendingPathComponent("Proto/releases")
    let files = try FileManager.default.contentsOfDirectory(atPath: releases.path).filter { $0.hasSuffix(".protoset") }
    let newest = try #require(files.max(by: { versionParts($0).lexicographicallyPrecedes(versionParts($1)) }))
    let released = try Google_Protobuf_FileDescriptorSet(
        serializedBytes: try Data(contentsOf: releases.appendingPathComponent(newest)))
    let current = try Google_Protobuf_FileDescriptorSet(
        serializedBytes: try Data(
            contentsOf: root.appendingPathComponent("Shared/Contracts/Generated/customer360.protoset")))
    return (newest, released, current)
}

/// `v1.10.2.protoset` → [1, 10, 2], so 1.10 sorts after 1.9.
private func versionParts(_ file: String) -> [Int] {
    file.dropFirst().replacingOccurrences(of: ".protoset", with: "").split(separator: ".").map { Int($0) ?? 0 }
}

private func field(
    _ name: String, _ number: Int32, _ type: Google_Protobuf_FieldDescriptorProto.TypeEnum = .string,
    repeated: Bool = false
) -> Google_Protobuf_FieldDescriptorProto {
    .with {
        $0.name = name
        $0.number = number
        $0.type = type
        $0.label = repeated ? .repeated : .optional
    }
}

/// A one-file contract: message Customer { id = 1; name = 2; tags = 3 (repeated) }, enum Stage { UNSPECIFIED, LEAD },
/// service Customers { Get (unary), Watch (server streaming) }.
private func contract(_ change: (inout Google_Protobuf_FileDescriptorProto) -> Void = { _ in })
    -> Google_Protobuf_FileDescriptorSet
{
    var file = Google_Protobuf_FileDescriptorProto.with {
        $0.name = "test/v1/customers.proto"
        $0.package = "test.v1"
        $0.messageType = [
            .with {
                $0.name = "Customer"
                $0.field = [field("id", 1), field("name", 2), field("tags", 3, repeated: true)]
            }
        ]
        $0.enumType = [
            .with {
                $0.name = "Stage"
                $0.value = [
                    .with {
                        $0.name = "STAGE_UNSPECIFIED"
                        $0.number = 0
                    },
                    .with {
                        $0.name = "STAGE_LEAD"
                        $0.number = 1
                    },
                ]
            }
        ]
        $0.service = [
            .with {
                $0.name = "Customers"
                $0.method = [
                    .with {
                        $0.name = "Get"
                        $0.inputType = ".test.v1.Customer"
                        $0.outputType = ".test.v1.Customer"
                    },
                    .with {
                        $0.name = "Watch"
                        $0.inputType = ".test.v1.Customer"
                        $0.outputType = ".test.v1.Customer"
                        $0.serverStreaming = true
                    },
                ]
            }
        ]
    }
    change(&file)
    return .with { $0.file = [file] }
}

@Suite("Contract compatibility")
struct ContractCompatibilityTests {
    @Test("Proto/ today breaks nothing a client of the last release relies on")
    func currentContractsKeepTheLastRelease() throws {
        let sets = try descriptorSets()
        let problems = ContractCompatibility(released: sets.released, current: sets.current).breakingChanges()
        #expect(problems.isEmpty, "breaking changes against \(sets.release):\n\(problems.joined(separator: "\n"))")
        #expect(sets.released.file.count >= 7)
    }

    @Test("adding a field, an enum value, an RPC, a message or a file is compatible")
    func additionsAreFine() {
        let newer = contract { file in
            file.messageType[0].field.append(field("email", 4))
            file.messageType.append(.with { $0.name = "Address" })
            file.enumType[0].value.append(
                .with {
                    $0.name = "STAGE_CUSTOMER"
                    $0.number = 2
                })
            file.service[0].method.append(
                .with {
                    $0.name = "List"
                    $0.inputType = ".test.v1.Customer"
                    $0.outputType = ".test.v1.Customer"
                })
        }
        var withFile = newer
        withFile.file.append(
            .with {
                $0.name = "test/v1/more.proto"
                $0.package = "test.v1"
            })
        #expect(ContractCompatibility(released: contract(), current: withFile).breakingChanges().isEmpty)
    }

    @Test(
        "each breaking change is named",
        arguments: [
            ("field removed", "field 2 (name) was removed"),
            ("field renumbered", "field 2 (name) was removed or renumbered"),
            ("field renamed", "field 2 (name) was renamed to full_name"),
            ("field retyped", "field 2 (name) changed type"),
            ("field label", "field 3 (tags) changed label"),
            ("enum value removed", "value 1 (STAGE_LEAD) was removed"),
            ("RPC removed", "RPC test.v1.Customers/Get was removed"),
            ("streaming changed", "RPC test.v1.Customers/Watch changed its streaming shape"),
            ("response changed", "RPC test.v1.Customers/Get changed its request or response type"),
            ("message removed", "message test.v1.Customer was removed"),
        ])
    func breakingChangesAreFound(change: String, expected: String) {
        let newer = contract { file in
            switch change {
            case "field removed": file.messageType[0].field.remove(at: 1)
            case "field renumbered": file.messageType[0].field[1].number = 7
            case "field renamed": file.messageType[0].field[1].name = "full_name"
            case "field retyped": file.messageType[0].field[1].type = .int64
            case "field label": file.messageType[0].field[2].label = .optional
            case "enum value removed": file.enumType[0].value.remove(at: 1)
            case "RPC removed": file.service[0].method.remove(at: 0)
            case "streaming changed": file.service[0].method[1].serverStreaming = false
            case "response changed": file.service[0].method[0].outputType = ".test.v1.Other"
            case "message removed": file.messageType.remove(at: 0)
            default: Issue.record("unknown change \(change)")
            }
        }
        let problems = ContractCompatibility(released: contract(), current: newer).breakingChanges()
        #expect(problems.contains { $0.contains(expected) }, "\(problems)")
    }
}
