import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Testing

private typealias Profiles = Customer360_V1_ProfileService.Client<HTTP2ClientTransport.Posix>

/// A 256-bit key as `openssl rand -base64 32` writes it.
private func writeKey(to file: URL) throws {
    let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max) }
    try Data((Data(bytes).base64EncodedString() + "\n").utf8).write(to: file)
}

@Suite("Key-encryption key rotation with the real profile-service")
struct KeyRotationTests {
    @Test(
        "started with a new KEK and the old one retired, profile-service re-wraps every key while serving; then the old KEK is not needed, and alone it is refused"
    )
    func rotateOnline() async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("c360-kek-\(UUID().uuidString)")
        let data = work.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let old = work.appendingPathComponent("old.kek")
        let new = work.appendingPathComponent("new.kek")
        try writeKey(to: old)
        try writeKey(to: new)

        let ids = try await withService("profile-service", arguments: ["--kek-file", old.path], dataDirectory: data) {
            _, client in
            let profiles = Profiles(wrapping: client)
            return try await (0..<20).asyncMap { index in
                try await profiles.createCustomer(
                    .with {
                        $0.givenName = "Rotated \(index)"
                        $0.identifiers = [
                            .with {
                                $0.kind = .email
                                $0.value = "rotated\(index)@example.org"
                            }
                        ]
                    }
                ).customerID
            }
        }

        let rotating = ["--kek-file", new.path, "--retired-kek-file", old.path]
        try await withService("profile-service", arguments: rotating, dataDirectory: data) { process, client in
            let profiles = Profiles(wrapping: client)
            // Readable while rotation runs, and after it.
            #expect(try await profiles.getCustomer(.with { $0.customerID = ids[7] }).givenName == "Rotated 7")
            let deadline = ContinuousClock.now + .seconds(30)
            while !process.logText().contains("key rotation done"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(process.logText().contains("key rotation done"), "\(process.logTail())")
        }

        try await withService("profile-service", arguments: ["--kek-file", new.path], dataDirectory: data) {
            _, client in
            let profiles = Profiles(wrapping: client)
            for (index, id) in ids.enumerated() {
                #expect(try await profiles.getCustomer(.with { $0.customerID = id }).givenName == "Rotated \(index)")
            }
            let found = try await profiles.lookupCustomer(
                .with {
                    $0.identifier = .with {
                        $0.kind = .email
                        $0.value = "rotated3@example.org"
                    }
                })
            #expect(found.customerID == ids[3])
        }

        let (status, output) = try await runToCompletion(
            "profile-service",
            [
                "--data-dir", data.path, "--port", "0", "--kek-file", old.path,
            ])
        #expect(status != 0 && output.contains("which this process was not given"), "\(output)")
    }
}

extension Sequence where Element: Sendable {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
