public import ArgumentParser
public import C360Clients
public import Foundation
public import Logging

/// The command-line options every service shares; `resolve` applies the environment fallbacks and defaults
/// documented on `ServerConfiguration`.
public struct ServerOptions: ParsableArguments, Sendable {
    @Option(help: "Address to listen on for gRPC. [env: C360_<SERVICE>_HOST] (default: 127.0.0.1)")
    public var host: String?

    @Option(help: "gRPC port; 0 picks a free port. [env: C360_<SERVICE>_PORT] (default: the service's port)")
    public var port: Int?

    @Option(help: "Write the bound gRPC port to this file once listening. [env: C360_<SERVICE>_PORT_FILE]")
    public var portFile: String?

    @Option(
        help:
            "Directory holding this service's SQLite database. [env: C360_<SERVICE>_DATA_DIR] (default: ./data/<service>)"
    )
    public var dataDir: String?

    @Option(
        help:
            "Serve Prometheus metrics on this port at /metrics; 0 picks a free port. [env: C360_<SERVICE>_METRICS_PORT]"
    )
    public var metricsPort: Int?

    @Option(
        help: "trace, debug, info, notice, warning, error or critical. [env: C360_<SERVICE>_LOG_LEVEL] (default: info)")
    public var logLevel: Logger.Level?

    @Option(help: "text (key=value) or json, one line per event. [env: C360_<SERVICE>_LOG_FORMAT] (default: text)")
    public var logFormat: LogFormat?

    @Option(
        help:
            "File holding the token Customer 360 services use between themselves: calls without it are refused, calls to peers carry it. [env: C360_<SERVICE>_SERVICE_TOKEN_FILE, or the token itself in C360_<SERVICE>_SERVICE_TOKEN] (default: none, no check)"
    )
    public var serviceTokenFile: String?

    @OptionGroup public var tls: TLSOptions

    @Option(
        help:
            "JSON shard map: which shard owns which customers, per service; peers it names are called shard by shard, and with --shard this process serves only its own customers. Read again when it changes. [env: C360_<SERVICE>_SHARD_MAP] (default: none, nothing sharded)"
    )
    public var shardMap: String?

    @Option(
        help:
            "This process's shard name in --shard-map (in Kubernetes, the pod's name). [env: C360_<SERVICE>_SHARD] (default: none, the service is not sharded)"
    )
    public var shard: String?

    public init() {}

    /// Flags first, then `C360_<SERVICE>_*` variables from `environment`, then defaults.
    ///
    /// - Throws: `ValidationError` naming the variable whose value cannot be used.
    public func resolve(
        for service: ServiceIdentity, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ServerConfiguration {
        let env = EnvironmentReader(service: service, environment: environment)
        var config = ServerConfiguration(
            host: try host ?? env.value("HOST") ?? "127.0.0.1",
            port: try port ?? env.value("PORT") ?? service.defaultPort,
            portFile: try portFile ?? env.value("PORT_FILE"),
            dataDirectory: try dataDir ?? env.value("DATA_DIR") ?? "./data/\(service.name)",
            metricsPort: try metricsPort ?? env.value("METRICS_PORT"),
            logLevel: try logLevel ?? env.value("LOG_LEVEL") ?? .info,
            logFormat: try logFormat ?? env.value("LOG_FORMAT") ?? .text,
            serviceToken: try Self.serviceToken(
                file: try serviceTokenFile ?? env.value("SERVICE_TOKEN_FILE"),
                value: try env.value("SERVICE_TOKEN")),
            tls: try tls.identity(environment: env)
        )
        try config.shards = Self.shards(
            for: service, mapPath: try shardMap ?? env.value("SHARD_MAP"), shard: try shard ?? env.value("SHARD"))
        guard (0...65535).contains(config.port) else {
            throw ValidationError("--port must be between 0 and 65535, not \(config.port)")
        }
        if let metricsPort = config.metricsPort, !(0...65535).contains(metricsPort) {
            throw ValidationError("--metrics-port must be between 0 and 65535, not \(metricsPort)")
        }
        return config
    }
}

extension ServerOptions {
    /// The shard map, and this process's own shard in it when it is one.
    ///
    /// - Throws: `ValidationError` when the map cannot be used, or names no such shard of this service.
    static func shards(for service: ServiceIdentity, mapPath: String?, shard: String?) throws -> ShardSettings? {
        guard let mapPath else {
            if shard != nil { throw ValidationError("--shard needs --shard-map, which says what the shard owns") }
            return nil
        }
        let source: ShardMapSource
        do {
            source = try ShardMapSource(path: mapPath, logger: Logger(label: service.name))
        } catch {
            throw ValidationError("--shard-map: \(error.description)")
        }
        if let shard {
            guard source.current.shard(named: shard, in: service.name) != nil else {
                let listed = source.current.services[service.name]?.map(\.shard).joined(separator: ", ") ?? "none"
                throw ValidationError(
                    "--shard \(shard) is not a shard of \(service.name) in \(mapPath) (its shards: \(listed))")
            }
        }
        return ShardSettings(source: source, shard: shard)
    }

    /// The service token from a file (first line, trimmed) or a value; at least 16 characters.
    static func serviceToken(file: String?, value: String?) throws -> String? {
        try token(file: file, value: value, flag: "--service-token-file", name: "the service token")
    }

    /// A shared secret from a file (first line, trimmed) or a value; at least 16 characters.
    ///
    /// - Parameters:
    ///   - flag: The option naming the file, for the message when it cannot be read.
    ///   - name: What the secret is, for the message when it is too short.
    public static func token(file: String?, value: String?, flag: String, name: String) throws -> String? {
        var token = value
        if let file {
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw ValidationError("\(flag) \(file) cannot be read")
            }
            token = String(decoding: contents, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init)
        }
        guard let token = token?.trimmingCharacters(in: .whitespaces) else { return nil }
        guard token.count >= 16 else { throw ValidationError("\(name) must be at least 16 characters long") }
        return token
    }
}

/// Reads `C360_<SERVICE>_<KEY>` variables and parses them like the flag they stand in for.
public struct EnvironmentReader: Sendable {
    public let service: ServiceIdentity
    public let environment: [String: String]

    public init(service: ServiceIdentity, environment: [String: String]) {
        self.service = service
        self.environment = environment
    }

    /// A peer's address: `flag`, else `C360_<SERVICE>_<key>`, else `fallback`.
    ///
    /// - Throws: `ValidationError` naming the flag (`PROFILE_ADDR` → `--profile-addr`) when it is not host:port.
    public func peerAddress(_ flag: String?, key: String, default fallback: String) throws -> PeerAddress {
        let text: String = try flag ?? value(key) ?? fallback
        guard let address = PeerAddress(text) else {
            throw ValidationError(
                "--\(key.lowercased().replacingOccurrences(of: "_", with: "-")) must be host:port, not '\(text)'")
        }
        return address
    }

    /// The parsed value of `C360_<SERVICE>_<key>`, `nil` when unset or empty.
    public func value<Value: ExpressibleByArgument>(_ key: String) throws -> Value? {
        let name = service.environmentVariable(key)
        guard let raw = environment[name], !raw.isEmpty else { return nil }
        guard let value = Value(argument: raw) else {
            throw ValidationError("environment variable \(name)=\(raw) is not a valid value")
        }
        return value
    }
}

// swift-format-ignore: AvoidRetroactiveConformances
// `--log-level` parses a swift-log level; neither package can declare this, and no other module of ours does.
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// `--tls-cert`, `--tls-key` and `--tls-ca`: all three or none. Services and the tools that call them (demo-data,
/// bench) share these flags.
public struct TLSOptions: ParsableArguments, Sendable {
    @Option(
        help:
            "PEM certificate of this process, named (subject CN) as the process: serve TLS only and call peers with mutual TLS. [env: C360_<SERVICE>_TLS_CERT] (default: none, plaintext)"
    )
    public var tlsCert: String?

    @Option(help: "PEM private key of --tls-cert. [env: C360_<SERVICE>_TLS_KEY]")
    public var tlsKey: String?

    @Option(
        help:
            "PEM certificate authority that signs every Customer 360 process's certificate; callers must present one it signed. [env: C360_<SERVICE>_TLS_CA]"
    )
    public var tlsCa: String?

    public init() {}

    /// The identity the flags (else `C360_<SERVICE>_TLS_CERT`, `_TLS_KEY`, `_TLS_CA`) name, read and checked; nil when none is given.
    ///
    /// - Throws: `ValidationError` naming the missing flag or the file that cannot be used.
    public func identity(environment env: EnvironmentReader?) throws -> TLSIdentity? {
        let certificate: String? = try tlsCert ?? env?.value("TLS_CERT")
        let key: String? = try tlsKey ?? env?.value("TLS_KEY")
        let authority: String? = try tlsCa ?? env?.value("TLS_CA")
        let given = [("--tls-cert", certificate), ("--tls-key", key), ("--tls-ca", authority)]
        guard given.contains(where: { $0.1 != nil }) else { return nil }
        guard let certificate, let key, let authority else {
            let missing = given.filter { $0.1 == nil }.map(\.0).joined(separator: " and ")
            throw ValidationError("TLS needs --tls-cert, --tls-key and --tls-ca together; \(missing) missing")
        }
        do {
            return try TLSIdentity(certificate: certificate, privateKey: key, certificateAuthority: authority)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
