import C360Contracts
import C360TestSupport
import Foundation
import SwiftProtobuf
import Testing

/// Every RPC of every service, walked from the compiled descriptors (the set each executable embeds), is sent
/// plausible, extreme and random requests against the real executables for a bounded time (`FuzzSettings`: seed,
/// budget, caps, a method filter and a report file come from `C360_FUZZ_*`). No process may end, and no call may
/// answer UNKNOWN or INTERNAL: an out-of-range value is the caller's mistake (INVALID_ARGUMENT), never the service's.
///
/// Each finding prints the RPC, how the request was made (e.g. `touchpoint.occurred_at = seconds Int64.min`), the
/// request in text form and its bytes in base64, and the seed: the same seed sends the same requests.
@Suite("request fuzzing against the real executables")
struct RequestFuzzTests {
    static let catalog: ProtoCatalog = {
        do {
            return try ProtoCatalog(descriptorSet: C360DescriptorSet.data)
        } catch {
            fatalError("the embedded descriptor set does not parse: \(error)")
        }
    }()

    @Test("no request, however extreme, crashes an internal service or makes it answer UNKNOWN or INTERNAL")
    func internalServices() async throws {
        let targets =
            [StackMember.profile, .interaction, .feedback, .success, .outreach].map {
                FuzzTarget(name: $0.executable, member: $0, credential: .none, share: 0.1)
            } + [
                FuzzTarget(
                    name: "gateway authority", member: .gateway, credential: .serviceToken, share: 0.05,
                    port: .authority)
            ]
        try await fuzz(targets, title: "internal services, called directly")
    }

    @Test(
        "no request through the gateway, with an admin or a viewer key, crashes a service or answers UNKNOWN or INTERNAL"
    )
    func gateway() async throws {
        let targets = [
            FuzzTarget(name: "gateway as admin", member: .gateway, credential: .admin, share: 0.45),
            FuzzTarget(name: "gateway as viewer", member: .gateway, credential: .viewer, share: 0.15),
        ]
        try await fuzz(targets, title: "gateway")
    }

    @Test("the fuzz targets cover every RPC of every customer360 service, and only those")
    func coverage() throws {
        let campaign = FuzzCampaign(catalog: Self.catalog, settings: FuzzSettings())
        let services = Self.catalog.serviceNames.filter { $0.hasPrefix("customer360.") }
        let direct = StackMember.allCases.filter { $0 != .gateway }.flatMap {
            campaign.services(of: FuzzTarget(name: $0.executable, member: $0, credential: .none, share: 0))
        }
        let authority = campaign.services(
            of: FuzzTarget(
                name: "gateway authority", member: .gateway, credential: .serviceToken, share: 0, port: .authority))
        #expect(Set(direct + [StackMember.gateway.serviceName] + authority) == Set(services), "\(services)")
        let throughGateway = campaign.methods(
            of: FuzzTarget(name: "gateway", member: .gateway, credential: .admin, share: 0))
        #expect(Set(throughGateway) == Set(Self.catalog.methods.filter { $0.service.hasPrefix("customer360.") }))
        #expect(!throughGateway.contains { $0.service.hasPrefix("grpc.") })
    }

    /// Runs `targets` in a fresh stack, prints and optionally files the report, and records one issue per finding.
    private func fuzz(_ targets: [FuzzTarget], title: String) async throws {
        let settings = FuzzSettings.fromEnvironment()
        print(
            "RequestFuzz (\(title)): seed \(settings.seedText) — set C360_FUZZ_SEED to replay, C360_FUZZ_SECONDS "
                + "(now \(settings.seconds)) for a longer run")
        var campaign = FuzzCampaign(catalog: Self.catalog, settings: settings)
        try await campaign.run(targets)
        let report = campaign.report(title: title)
        print(report)
        if let file = settings.reportFile {
            let handle = try? FileHandle(forWritingTo: file)
            if let handle {
                handle.seekToEndOfFile()
                handle.write(Data((report + "\n\n").utf8))
                try? handle.close()
            } else {
                try Data((report + "\n\n").utf8).write(to: file)
            }
        }
        for finding in campaign.findings {
            Issue.record("\(finding)")
        }
    }
}

/// The fuzzer's requests must be well-formed protobuf where they mean to be, or it would only ever test the parser.
@Suite("fuzz requests are well-formed where they mean to be")
struct FuzzRequestEncodingTests {
    /// The generated message type for a descriptor name such as `.customer360.v1.Customer`.
    private static func generatedType(_ typeName: String) -> (any SwiftProtobuf.Message.Type)? {
        C360MessageTypes.all.first { ".\($0.protoMessageName)" == typeName }
    }

    @Test("every plausible request the fuzzer builds decodes with the generated type, with no unknown fields")
    func plausibleRequestsDecode() throws {
        let catalog = RequestFuzzTests.catalog
        let generator = RequestGenerator(catalog: catalog)
        var rng = FuzzRandom(seed: 1)
        var checked = 0
        for method in catalog.methods where method.service.hasPrefix("customer360.") {
            let type = try #require(Self.generatedType(method.inputType), "no generated type for \(method.inputType)")
            for _ in 0..<20 {
                let request = generator.validMessage(method.inputType, rng: &rng)
                let decoded = try type.init(serializedBytes: request.encoded())
                // Text format names known fields and numbers unknown ones ("7: 12", "9 {"), at any depth.
                let unknown = decoded.textFormatString().split(separator: "\n").filter { line in
                    line.trimmingCharacters(in: .whitespaces).first?.isNumber == true
                }
                #expect(unknown.isEmpty, "\(method): \(request.textDescription) → \(unknown)")
                checked += 1
            }
        }
        #expect(checked > 1_000)
    }

    @Test("an extreme timestamp, an undeclared enum number and NaN arrive in the service's message as sent")
    func extremesArriveAsSent() throws {
        let catalog = RequestFuzzTests.catalog
        let generator = RequestGenerator(catalog: catalog)
        var rng = FuzzRandom(seed: 2)
        let leaves = generator.leaves(of: ".customer360.v1.RecordTouchpointRequest")
        let occurredAt = try #require(leaves.first { $0.label == "touchpoint.occurred_at" })
        let channel = try #require(leaves.first { $0.label == "touchpoint.channel" })
        var message = generator.validMessage(".customer360.v1.RecordTouchpointRequest", rng: &rng)
        let minimum = try #require(
            generator.extremes(for: occurredAt, rng: &rng).first { $0.label == "seconds Int64.min" })
        message = generator.setting(occurredAt.path[...], to: minimum.values, in: message, rng: &rng)
        message = generator.setting(channel.path[...], to: [.signed(Int64(Int32.min))], in: message, rng: &rng)

        let decoded = try Customer360_V1_RecordTouchpointRequest(serializedBytes: message.encoded())
        #expect(decoded.touchpoint.occurredAt.seconds == .min)
        #expect(decoded.touchpoint.channel == .UNRECOGNIZED(Int(Int32.min)))

        let plan = try #require(
            generator.leaves(of: ".customer360.v1.RecordGoalProgressRequest").first { $0.kind == .floating })
        var progress = generator.validMessage(".customer360.v1.RecordGoalProgressRequest", rng: &rng)
        progress = generator.setting(plan.path[...], to: [.double(.nan)], in: progress, rng: &rng)
        let decodedProgress = try Customer360_V1_RecordGoalProgressRequest(serializedBytes: progress.encoded())
        #expect(decodedProgress.unknownFields.data.isEmpty)
        #expect(progress.textDescription.contains("nan"))
    }

    @Test("a schedule tries timestamps and durations before anything else, and every leaf's worst extreme first")
    func scheduleOrder() throws {
        let catalog = RequestFuzzTests.catalog
        let generator = RequestGenerator(catalog: catalog)
        let method = try #require(
            catalog.methods.first { $0.description == "customer360.v1.InteractionService/RecordTouchpoint" })
        var schedule = MethodSchedule(method: method, generator: generator, seed: 3)
        let timestamps = generator.leaves(of: method.inputType).filter { $0.kind == .timestamp }.map(\.label)
        let cases = (0..<(2 + timestamps.count + 1)).map { _ in schedule.next(using: generator) }
        #expect(cases[0].label == "plausible request")
        #expect(cases[1].label.hasPrefix("empty request"))
        let firstRound = cases[2..<(2 + timestamps.count)]
        #expect(firstRound.map(\.leaf) == timestamps.map(Optional.some))
        #expect(firstRound.allSatisfy { $0.label.hasSuffix(" = seconds Int64.min") }, "\(cases.map(\.label))")
        #expect(cases.last?.label.hasSuffix(" = seconds Int64.max") == true, "\(cases.map(\.label))")

        var again = MethodSchedule(method: method, generator: generator, seed: 3)
        #expect(cases.map { _ in again.next(using: generator).label } == cases.map(\.label))
    }
}
