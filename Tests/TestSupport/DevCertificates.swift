public import C360Clients
public import Foundation
public import GRPCNIOTransportHTTP2

/// A certificate authority and a certificate per Customer 360 process, made by `scripts/dev-certs.sh` in a temporary
/// directory, for tests that run the executables with TLS.
public struct DevCertificates: Sendable {
    public let directory: URL

    /// Runs scripts/dev-certs.sh into a new temporary directory; with `names`, only those (and a new CA).
    public static func make(names: [String] = []) async throws -> DevCertificates {
        let certificates = DevCertificates(
            directory: FileManager.default.temporaryDirectory.appendingPathComponent("c360-tls-\(UUID())"))
        try await certificates.issue(names)
        return certificates
    }

    /// Issues `names` anew with the same CA — new keys, new serial numbers — as a renewal does.
    public func issue(_ names: [String]) async throws {
        let run = try await ChildProcess.run(
            try ServiceBinaries.packageRoot().appendingPathComponent("scripts/dev-certs.sh"), [directory.path] + names)
        guard run.exit.isSuccess else {
            throw DevCertificatesFailed(description: "scripts/dev-certs.sh failed (\(run.exit)): \(run.output)")
        }
    }

    public var authority: String { directory.appendingPathComponent("ca.pem").path }
    public func certificate(_ name: String) -> String { directory.appendingPathComponent("\(name).pem").path }
    public func key(_ name: String) -> String { directory.appendingPathComponent("\(name).key").path }

    /// The flags that make the process named `name` serve TLS with its certificate and call its peers with it.
    public func arguments(for name: String) -> [String] {
        ["--tls-cert", certificate(name), "--tls-key", key(name), "--tls-ca", authority]
    }

    /// The identity of `name`, as a process holding its certificate has it.
    public func identity(_ name: String) throws -> TLSIdentity {
        try TLSIdentity(certificate: certificate(name), privateKey: key(name), certificateAuthority: authority)
    }

    /// A client presenting `name`'s certificate and trusting this CA (mutual TLS).
    public func clientSecurity(as name: String) throws -> HTTP2ClientTransport.Posix.TransportSecurity {
        try identity(name).clientSecurity()
    }

    /// A client with no certificate that trusts this CA: how an application reaches the gateway.
    public var serverOnlySecurity: HTTP2ClientTransport.Posix.TransportSecurity {
        .tls { $0.trustRoots = .certificates([.file(path: authority, format: .pem)]) }
    }

    /// Deletes the directory.
    public func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

/// scripts/dev-certs.sh did not make the certificates.
public struct DevCertificatesFailed: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}
