import ArgumentParser
import C360Contracts
import C360ServerKit
import C360StoreKit
import C360TestSupport
import Foundation
import GRPCCore
import Logging
import Synchronization
import Testing

@Suite("Server configuration: flags, then C360_<SERVICE>_* variables, then defaults")
struct ServerOptionsTests {
    @Test("defaults apply when neither flag nor variable is set")
    func defaults() throws {
        let config = try ServerOptions.parse([]).resolve(for: .profile, environment: [:])
        #expect(config.host == "127.0.0.1" && config.port == 50051)
        #expect(config.dataDirectory == "./data/profile-service")
        #expect(config.metricsPort == nil && config.portFile == nil)
        #expect(config.logLevel == .info && config.logFormat == .text)
    }

    @Test("environment variables override defaults and flags override both")
    func precedence() throws {
        let environment = [
            "C360_PROFILE_PORT": "6000", "C360_PROFILE_DATA_DIR": "/var/lib/c360",
            "C360_PROFILE_LOG_FORMAT": "json", "C360_INTERACTION_PORT": "7000",
        ]
        let fromEnvironment = try ServerOptions.parse([]).resolve(for: .profile, environment: environment)
        #expect(fromEnvironment.port == 6000 && fromEnvironment.dataDirectory == "/var/lib/c360")
        #expect(fromEnvironment.logFormat == .json)
        let fromFlags = try ServerOptions.parse(["--port", "0", "--log-format", "text"])
            .resolve(for: .profile, environment: environment)
        #expect(fromFlags.port == 0 && fromFlags.logFormat == .text && fromFlags.dataDirectory == "/var/lib/c360")
    }

    @Test("an unusable variable is refused naming it")
    func badVariable() throws {
        #expect(throws: ValidationError.self) {
            try ServerOptions.parse([]).resolve(for: .profile, environment: ["C360_PROFILE_PORT": "eighty"])
        }
        #expect(throws: ValidationError.self) {
            try ServerOptions.parse(["--port", "70000"]).resolve(for: .profile, environment: [:])
        }
    }
}

@Suite("Shared field validation")
struct ValidateTests {
    @Test("country codes are ISO 3166-1 alpha-2, returned upper-case")
    func countries() throws {
        #expect(try Validate.countryCode("ir", field: "c") == "IR")
        #expect(try Validate.countryCode("", field: "c") == "")
        #expect(throws: InvalidArgument.self) { try Validate.countryCode("XX", field: "c") }
        #expect(throws: InvalidArgument.self) { try Validate.countryCode("IRN", field: "c") }
    }

    @Test("languages are ISO 639-1 with an optional region, in canonical case")
    func languages() throws {
        #expect(try Validate.language("FA", field: "l") == "fa")
        #expect(try Validate.language("en_gb", field: "l") == "en-GB")
        #expect(
            throws: InvalidArgument(
                "l", "'xx' is not an ISO 639-1 language code, optionally with a region (e.g. fa, en-GB)")
        ) {
            try Validate.language("xx", field: "l")
        }
        #expect(throws: InvalidArgument.self) { try Validate.language("en-ZZ", field: "l") }
    }

    @Test("text is trimmed, length-checked in characters, and free of control characters")
    func text() throws {
        #expect(try Validate.text("  سلام  ", field: "t", maxLength: 4) == "سلام")
        #expect(throws: InvalidArgument("t", "is 5 characters long; the maximum is 4")) {
            try Validate.text("hello", field: "t", maxLength: 4)
        }
        #expect(throws: InvalidArgument("t", "is required")) {
            try Validate.text("  ", field: "t", maxLength: 4, required: true)
        }
        #expect(throws: InvalidArgument.self) { try Validate.text("a\u{0007}b", field: "t", maxLength: 9) }
    }
}

@Suite("Health checking")
struct HealthTests {
    @Test("watchers see the current status, every change, and the end of the stream at shutdown")
    func watch() async throws {
        let board = HealthStatusBoard(services: ["customer360.v1.ProfileService"])
        let updates = board.watch("customer360.v1.ProfileService")
        board.setAll(.serving)
        board.shutDown()
        var seen: [HealthStatusBoard.Status] = []
        for await status in updates { seen.append(status) }
        #expect(seen == [.notServing, .serving, .notServing])
        #expect(board.status(of: "") == .notServing)
        #expect(board.status(of: "other.Service") == nil)
        var late: [HealthStatusBoard.Status] = []
        for await status in board.watch("other.Service") { late.append(status) }
        #expect(late == [.serviceUnknown])
    }
}

@Suite("A server that is not ready yet")
struct ServerReadinessTests {
    @Test("a bound server reports SERVING only once its readiness holds, and gives up waiting when it stops")
    func servingOnceReady() async throws {
        let board = HealthStatusBoard(services: ["customer360.v1.ProfileService"])
        let ready = Mutex(false)
        let server = GRPCServerService(
            host: "127.0.0.1", port: 0, services: [], health: board, drain: ServerDrain(), portFile: nil,
            logger: Logger(label: "readiness-test"),
            readiness: .init(waitingFor: "a test's flag") { ready.withLock { $0 } })
        let running = Task { try await server.run() }
        defer { running.cancel() }
        _ = try await server.boundPort()
        // Bound and answering, but not ready: the health board says so for as long as that lasts.
        try await Task.sleep(for: .milliseconds(200))
        #expect(board.status(of: "") == .notServing)
        ready.withLock { $0 = true }
        let deadline = ContinuousClock.now + .seconds(10)
        while board.status(of: "") != .serving, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(board.status(of: "customer360.v1.ProfileService") == .serving)
        running.cancel()
        _ = await running.result
    }
}

/// A health service whose Check fails the way a bug or a database fault would: with a non-gRPC error.
private struct FaultyService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    struct DatabaseFault: Error, CustomStringConvertible {
        var description: String { "SQLite error 19: UNIQUE constraint failed: secret_table.column" }
    }

    func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws
        -> Grpc_Health_V1_HealthCheckResponse
    {
        if request.service == "convertible" { throw InvalidArgument("service", "is wrong") }
        if request.service == "shredded" { throw KeyringError.shredded(customerID: "cus-erased") }
        throw DatabaseFault()
    }

    func watch(
        request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {}
}

@Suite("Request interceptor")
struct RequestInterceptorTests {
    @Test("an unexpected error reaches the client as INTERNAL with the request id and without its details")
    func masksInternalErrors() async throws {
        try await InProcessServer.withClient(serving: [FaultyService()]) { client in
            let health = Grpc_Health_V1_Health.Client(wrapping: client)
            var metadata = Metadata()
            metadata.addString("req-42", forKey: "x-request-id")
            let error = await #expect(throws: RPCError.self) {
                _ = try await health.check(.init(), metadata: metadata)
            }
            #expect(error?.code == .internalError)
            #expect(error?.message.contains("req-42") == true)
            #expect(error?.message.contains("SQLite") == false)
        }
    }

    @Test(
        "data sealed for an erased customer (a row restored from an old backup) answers NOT_FOUND saying so, not INTERNAL"
    )
    func shreddedKeyIsNotFound() async throws {
        try await InProcessServer.withClient(serving: [FaultyService()]) { client in
            let health = Grpc_Health_V1_Health.Client(wrapping: client)
            let error = await #expect(throws: RPCError.self) {
                _ = try await health.check(.with { $0.service = "shredded" })
            }
            #expect(error?.code == .notFound)
            #expect(error?.message == "customer cus-erased was erased: their data can no longer be read")
        }
    }

    @Test("a domain error keeps its own status and message")
    func keepsDomainErrors() async throws {
        try await InProcessServer.withClient(serving: [FaultyService()]) { client in
            let health = Grpc_Health_V1_Health.Client(wrapping: client)
            let error = await #expect(throws: RPCError.self) {
                _ = try await health.check(.with { $0.service = "convertible" })
            }
            #expect(error?.code == .invalidArgument && error?.message == "service: is wrong")
        }
    }
}
