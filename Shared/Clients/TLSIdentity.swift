import Foundation
public import GRPCNIOTransportHTTP2
public import NIOCertificateReloading
import NIOSSL
public import X509

/// This process's certificate and key and the certificate authority it trusts: what it needs to serve gRPC over TLS
/// and to call its peers with mutual TLS. The certificate's subject common name is the process's identity to the
/// services it calls (`profile-service`, `gateway`, …), which they check against each RPC's allow-list.
///
/// The certificate and key are re-read while the process runs (`TLSReloadService`: every 30 s and on SIGHUP), so a
/// renewed certificate is used for new connections without a restart; the CA is read once at start-up.
public struct TLSIdentity: Sendable {
    /// Why a TLS file cannot be used, naming the file.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public let certificatePath: String
    public let privateKeyPath: String
    public let certificateAuthorityPath: String
    /// The certificate's subject common name.
    public let name: String
    /// Keeps certificate and key current for every server and client transport of the process.
    public let reloader: TimedCertificateReloader

    /// How often the certificate and key files are re-read.
    public static let refreshInterval: Duration = .seconds(30)

    /// Reads and checks the three PEM files: the key must match the certificate, the certificate must name the
    /// process, and the CA file must hold at least one certificate.
    public init(certificate: String, privateKey: String, certificateAuthority: String) throws(Invalid) {
        for (flag, path) in [
            ("--tls-cert", certificate), ("--tls-key", privateKey), ("--tls-ca", certificateAuthority),
        ]
        where !FileManager.default.isReadableFile(atPath: path) {
            throw Invalid(description: "\(flag) \(path) cannot be read")
        }
        let reloader: TimedCertificateReloader
        do {
            reloader = try TimedCertificateReloader.makeReloaderValidatingSources(
                refreshInterval: Self.refreshInterval,
                certificateSource: .init(location: .file(path: certificate), format: .pem),
                privateKeySource: .init(location: .file(path: privateKey), format: .pem))
        } catch {
            throw Invalid(
                description: "--tls-cert \(certificate) with --tls-key \(privateKey) cannot be used: \(error)")
        }
        do {
            guard !(try NIOSSLCertificate.fromPEMFile(certificateAuthority)).isEmpty else {
                throw Invalid(description: "--tls-ca \(certificateAuthority) holds no certificate")
            }
        } catch let error as Invalid {
            throw error
        } catch {
            throw Invalid(description: "--tls-ca \(certificateAuthority) is not a PEM certificate: \(error)")
        }
        guard let leaf = try? NIOSSLCertificate.fromPEMFile(certificate).first,
            let name = try? Self.commonName(of: leaf)
        else {
            throw Invalid(
                description: "--tls-cert \(certificate) has no subject common name to identify this process by")
        }
        self.certificatePath = certificate
        self.privateKeyPath = privateKey
        self.certificateAuthorityPath = certificateAuthority
        self.name = name
        self.reloader = reloader
    }

    /// Whether a server asks its callers for certificates.
    public enum ClientCertificates: Sendable {
        /// Callers must present a certificate signed by the CA (services between themselves).
        case required
        /// Callers authenticate otherwise (the gateway's clients use API keys).
        case notAsked
    }

    /// The server side: TLS 1.2 or later only (the transport's minimum), so a plaintext connection is refused.
    public func serverSecurity(clientCertificates: ClientCertificates) throws
        -> HTTP2ServerTransport.Posix.TransportSecurity
    {
        switch clientCertificates {
        case .required:
            try .mTLS(certificateReloader: reloader) { config in
                config.trustRoots = trustRoots
                config.clientCertificateVerification = .noHostnameVerification
            }
        case .notAsked:
            try .tls(certificateReloader: reloader)
        }
    }

    /// The client side: presents this process's certificate and accepts only a peer whose certificate the CA signed
    /// for the host it was called by.
    public func clientSecurity() throws -> HTTP2ClientTransport.Posix.TransportSecurity {
        try .mTLS(certificateReloader: reloader) { config in
            config.trustRoots = trustRoots
            config.serverCertificateVerification = .fullVerification
        }
    }

    private var trustRoots: TLSConfig.TrustRootsSource {
        .certificates([.file(path: certificateAuthorityPath, format: .pem)])
    }

    /// The subject common name of a certificate, which Customer 360 uses as the name of the process holding it.
    public static func commonName(of certificate: Certificate) -> String? {
        for relativeName in certificate.subject {
            for attribute in relativeName where attribute.type == .RDNAttributeType.commonName {
                return String(describing: attribute.value)
            }
        }
        return nil
    }

    static func commonName(of certificate: NIOSSLCertificate) throws -> String? {
        commonName(of: try Certificate(derEncoded: certificate.toDERBytes()))
    }
}
