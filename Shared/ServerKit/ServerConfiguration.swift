public import C360Clients
public import C360StoreKit
public import Logging

/// Everything the shared kit needs to run one service, read once at start-up.
///
/// Each key comes from a command-line flag first, then the environment variable `C360_<SERVICE>_<KEY>`, then the
/// default:
///
/// | flag | environment | default |
/// |---|---|---|
/// | `--host` | `C360_<SERVICE>_HOST` | `127.0.0.1` |
/// | `--port` | `C360_<SERVICE>_PORT` | the service's default port; `0` picks a free one |
/// | `--port-file` | `C360_<SERVICE>_PORT_FILE` | none: the bound port is written there when given |
/// | `--data-dir` | `C360_<SERVICE>_DATA_DIR` | `./data/<service>` |
/// | `--metrics-port` | `C360_<SERVICE>_METRICS_PORT` | none: no metrics endpoint |
/// | `--log-level` | `C360_<SERVICE>_LOG_LEVEL` | `info` |
/// | `--log-format` | `C360_<SERVICE>_LOG_FORMAT` | `text` (key=value), or `json` |
/// | `--service-token-file` | `C360_<SERVICE>_SERVICE_TOKEN_FILE` or `C360_<SERVICE>_SERVICE_TOKEN` | none: no token |
/// | `--tls-cert`, `--tls-key`, `--tls-ca` | `C360_<SERVICE>_TLS_CERT`, `_TLS_KEY`, `_TLS_CA` | none: plaintext |
/// | `--shard-map`, `--shard` | `C360_<SERVICE>_SHARD_MAP`, `_SHARD` | none: nothing sharded |
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var portFile: String?
    public var dataDirectory: String
    public var metricsPort: Int?
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    /// The token services use between themselves; `nil` when none is configured (calls are not checked).
    public var serviceToken: String?
    /// This process's certificate, key and CA: with them gRPC (and the gateway's HTTP port) is served over TLS only,
    /// services require their callers' certificates, and peers are called with mutual TLS. `nil`: plaintext.
    public var tls: TLSIdentity?
    /// The shard map peers are called by, and this process's own shard; `nil`: nothing is sharded.
    public var shards: ShardSettings?

    public init(
        host: String = "127.0.0.1", port: Int = 0, portFile: String? = nil, dataDirectory: String,
        metricsPort: Int? = nil, logLevel: Logger.Level = .info, logFormat: LogFormat = .text,
        serviceToken: String? = nil, tls: TLSIdentity? = nil, shards: ShardSettings? = nil
    ) {
        self.host = host
        self.port = port
        self.portFile = portFile
        self.dataDirectory = dataDirectory
        self.metricsPort = metricsPort
        self.logLevel = logLevel
        self.logFormat = logFormat
        self.serviceToken = serviceToken
        self.tls = tls
        self.shards = shards
    }

    /// How this process proves who it is to its peers: its certificate when it has one, else the service token.
    public var peerCredentials: PeerCredentials {
        PeerCredentials(tls: tls, serviceToken: serviceToken)
    }
}

/// The shard map a process reads, and which shard of its service it is.
public struct ShardSettings: Sendable {
    public var source: ShardMapSource
    /// This process's name in the map; `nil` for a process that only calls sharded peers (the gateway, tools).
    public var shard: String?

    public init(source: ShardMapSource, shard: String? = nil) {
        self.source = source
        self.shard = shard
    }
}

/// Which customers a process's own background work is for (re-scores, batches, sends): every customer, unless the
/// process runs as a shard, and then those its shard owns in the map in force. The calls it answers are checked by
/// `ShardOwnershipInterceptor`; this is for work no call names, such as a change feed naming other shards' customers.
public struct CustomerOwnership: Sendable {
    private let shards: ShardSettings?
    private let service: String

    /// Every customer: a process that is not a shard.
    public static let everyone = CustomerOwnership(shards: nil, service: "")

    public init(shards: ShardSettings?, service: String) {
        self.shards = shards
        self.service = service
    }

    /// Whether `customerID` is this process's (a service the map does not name owns every customer).
    public func owns(_ customerID: String) -> Bool {
        guard let shards, let shard = shards.shard,
            let owner = shards.source.current.owner(of: customerID, in: service)
        else { return true }
        return owner.shard == shard
    }

    /// The slots this process owns, for its reads across customers (`OwnedSlots`): every slot unless it is a shard of
    /// a service the map names, read again at each read (the map is reloaded while the process runs).
    public var slots: OwnedSlots {
        guard shards?.shard != nil else { return .everyone }
        return OwnedSlots { [self] in ownedRanges }
    }

    /// The slot ranges this process owns in the map in force; nil when it owns every slot (not a shard, or a shard of
    /// a service the map does not name).
    public var ownedRanges: [ClosedRange<Int>]? {
        guard let shards, let shard = shards.shard else { return nil }
        let map = shards.source.current
        guard map.owner(ofSlot: 0, in: service) != nil else { return nil }
        return map.ranges(of: shard, in: service)
    }
}

/// Names one service: how it appears in logs, in environment variables and on disk.
public struct ServiceIdentity: Sendable {
    /// The executable's name, e.g. `profile-service`.
    public var name: String
    /// The middle of its environment variables, e.g. `PROFILE` for `C360_PROFILE_PORT`.
    public var environmentKey: String
    /// The port it listens on when none is configured.
    public var defaultPort: Int
    /// The SQLite file it owns inside its data directory.
    public var databaseFileName: String

    public init(name: String, environmentKey: String, defaultPort: Int, databaseFileName: String) {
        self.name = name
        self.environmentKey = environmentKey
        self.defaultPort = defaultPort
        self.databaseFileName = databaseFileName
    }

    /// `C360_<SERVICE>_<key>`.
    public func environmentVariable(_ key: String) -> String {
        "C360_\(environmentKey)_\(key)"
    }
}

/// A configuration a process cannot start with, found while assembling it; the message says what to give instead.
public struct ServerConfigurationError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
