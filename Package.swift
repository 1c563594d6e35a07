// swift-tools-version: 6.2
import PackageDescription

/// Every target of ours compiles in Swift 6 mode with strict concurrency and treats warnings as errors.
let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .treatAllWarnings(as: .error),
]

let grpcCore = Target.Dependency.product(name: "GRPCCore", package: "grpc-swift-2")
let grpcHTTP2 = Target.Dependency.product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport")
let grpcProtobuf = Target.Dependency.product(name: "GRPCProtobuf", package: "grpc-swift-protobuf")
let swiftProtobuf = Target.Dependency.product(name: "SwiftProtobuf", package: "swift-protobuf")
let grdb = Target.Dependency.product(name: "GRDB", package: "GRDB.swift")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")
let asyncHTTPClient = Target.Dependency.product(name: "AsyncHTTPClient", package: "async-http-client")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let nioSSL = Target.Dependency.product(name: "NIOSSL", package: "swift-nio-ssl")
let certificateReloading = Target.Dependency.product(name: "NIOCertificateReloading", package: "swift-nio-extras")
let x509 = Target.Dependency.product(name: "X509", package: "swift-certificates")
let unixSignals = Target.Dependency.product(name: "UnixSignals", package: "swift-service-lifecycle")
let hummingbirdCore = Target.Dependency.product(name: "HummingbirdCore", package: "hummingbird")
let hummingbirdTLS = Target.Dependency.product(name: "HummingbirdTLS", package: "hummingbird")

let package = Package(
    name: "Customer360",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "profile-service", targets: ["profile-service"]),
        .executable(name: "interaction-service", targets: ["interaction-service"]),
        .executable(name: "feedback-service", targets: ["feedback-service"]),
        .executable(name: "success-service", targets: ["success-service"]),
        .executable(name: "outreach-service", targets: ["outreach-service"]),
        .executable(name: "gateway", targets: ["gateway"]),
        .executable(name: "demo-data", targets: ["demo-data"]),
    ],
    dependencies: [
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
    ],
    targets: [
        // MARK: Shared libraries

        /// Swift generated from Proto/ by scripts/generate-contracts.sh (committed, never built by a plugin).
        .target(
            name: "C360Contracts",
            dependencies: [grpcCore, grpcProtobuf, swiftProtobuf],
            path: "Shared/Contracts",
            exclude: ["Generated/PROTO_FINGERPRINT", "Generated/customer360.protoset"],
            swiftSettings: strictSettings
        ),
        /// Opening a service's SQLite database (WAL, busy timeout, migrations), ids, page tokens.
        .target(
            name: "C360StoreKit",
            dependencies: [grdb, logging, crypto],
            path: "Shared/StoreKit",
            swiftSettings: strictSettings
        ),
        /// Configuration, logging, the gRPC server with health, metrics and request logging, graceful shutdown.
        .target(
            name: "C360ServerKit",
            dependencies: [
                "C360Contracts", "C360StoreKit", "C360Clients", grpcCore, grpcHTTP2, grpcProtobuf, swiftProtobuf,
                logging, metrics,
                prometheus, lifecycle, argumentParser, hummingbird,
            ],
            path: "Shared/ServerKit",
            swiftSettings: strictSettings,
            plugins: ["BuildInfo"]
        ),
        .plugin(name: "BuildInfo", capability: .buildTool(), path: "Shared/Plugins/BuildInfo"),
        /// Compiles the files of a service's Resources/ folder into its code: the executable ships alone, with no bundle.
        .plugin(name: "EmbedResources", capability: .buildTool(), path: "Shared/Plugins/EmbedResources"),
        /// Each service's change feed (transactional outbox): events appended in the writing transaction, served by
        /// `WatchChanges`, and consumed by peers that store their position with the effect.
        .target(
            name: "C360ChangeFeed",
            dependencies: [
                "C360Contracts", "C360StoreKit", "C360ServerKit", "C360Clients", grpcCore, grpcProtobuf, grdb, logging,
                metrics, lifecycle, argumentParser,
            ],
            path: "Shared/ChangeFeed",
            swiftSettings: strictSettings
        ),

        /// Connections to peer services: one address, one long-lived client, deadlines on every call.
        .target(
            name: "C360Clients",
            dependencies: [
                "C360Contracts", "C360StoreKit", grpcCore, grpcHTTP2, logging, metrics, lifecycle, unixSignals,
                nioSSL, certificateReloading, x509, crypto, swiftProtobuf,
            ],
            path: "Shared/Clients",
            swiftSettings: strictSettings
        ),

        // MARK: Services

        .target(
            name: "C360Profile",
            dependencies: [
                "C360Contracts", "C360StoreKit", "C360ServerKit", "C360Clients", "C360ChangeFeed", grpcCore, grpcHTTP2,
                grdb,
                logging, metrics, lifecycle,
            ],
            path: "Services/profile-service/Sources",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "profile-service",
            dependencies: ["C360Profile", "C360ServerKit", "C360Clients", "C360ChangeFeed", argumentParser, lifecycle],
            path: "Services/profile-service/Main",
            swiftSettings: strictSettings
        ),

        .target(
            name: "C360Interaction",
            dependencies: [
                "C360Contracts", "C360StoreKit", "C360ServerKit", "C360Clients", "C360ChangeFeed", grpcCore, grdb,
                logging,
                lifecycle,
            ],
            path: "Services/interaction-service/Sources",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "interaction-service",
            dependencies: [
                "C360Interaction", "C360ServerKit", "C360Clients", "C360ChangeFeed", argumentParser, lifecycle,
            ],
            path: "Services/interaction-service/Main",
            swiftSettings: strictSettings
        ),

        .target(
            name: "C360Feedback",
            dependencies: [
                "C360Contracts", "C360StoreKit", "C360ServerKit", "C360Clients", "C360ChangeFeed", grpcCore, grdb,
                logging,
                lifecycle,
            ],
            path: "Services/feedback-service/Sources",
            swiftSettings: strictSettings,
            plugins: ["EmbedResources"]
        ),
        .executableTarget(
            name: "feedback-service",
            dependencies: [
                "C360Feedback", "C360ServerKit", "C360Clients", "C360ChangeFeed", argumentParser, lifecycle,
            ],
            path: "Services/feedback-service/Main",
            swiftSettings: strictSettings
        ),

        .target(
            name: "C360Success",
            dependencies: [
                "C360Contracts", "C360StoreKit", "C360ServerKit", "C360Clients", "C360ChangeFeed", grpcCore, grpcHTTP2,
                grdb,
                logging, lifecycle, swiftProtobuf,
            ],
            path: "Services/success-service/Sources",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "success-service",
            dependencies: ["C360Success", "C360ServerKit", "C360Clients", "C360ChangeFeed", argumentParser, lifecycle],
            path: "Services/success-service/Main",
            swiftSettings: strictSettings
        ),

        /// Segments over a read model kept from every feed, templates, consent-checked sends through SMTP and webhooks.
        .target(
            name: "C360Outreach",
            dependencies: [
                "C360Contracts", "C360StoreKit", "C360ServerKit", "C360Clients", "C360ChangeFeed", grpcCore, grpcHTTP2,
                grdb,
                logging, metrics, lifecycle, swiftProtobuf, nioCore, nioPosix, nioHTTP1, asyncHTTPClient, crypto,
                argumentParser,
            ],
            path: "Services/outreach-service/Sources",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "outreach-service",
            dependencies: [
                "C360Outreach", "C360ServerKit", "C360Clients", "C360ChangeFeed", argumentParser, lifecycle,
            ],
            path: "Services/outreach-service/Main",
            swiftSettings: strictSettings
        ),

        .target(
            name: "C360Gateway",
            dependencies: [
                "C360Contracts", "C360StoreKit", "C360ServerKit", "C360Clients", grpcCore, grpcHTTP2, grdb, logging,
                swiftProtobuf, hummingbird, hummingbirdCore, hummingbirdTLS, nioSSL, certificateReloading, lifecycle,
                crypto,
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
            ],
            path: "Services/gateway/Sources",
            swiftSettings: strictSettings,
            plugins: ["EmbedResources"]
        ),
        .executableTarget(
            name: "gateway",
            dependencies: ["C360Gateway", "C360ServerKit", "C360Clients", argumentParser, lifecycle],
            path: "Services/gateway/Main",
            swiftSettings: strictSettings
        ),

        // MARK: Tools

        /// Loads a reproducible demo data set into running services through their gRPC APIs.
        .executableTarget(
            name: "demo-data",
            dependencies: [
                "C360Clients", "C360Contracts", "C360ServerKit", grpcCore, grpcHTTP2, swiftProtobuf, argumentParser,
            ],
            path: "Services/demo-data",
            resources: [.copy("Resources")],
            swiftSettings: strictSettings
        ),

        /// Benchmarks, not tests: ingest throughput (gRPC stream vs. the store directly) and query latency.
        .executableTarget(
            name: "bench",
            dependencies: [
                "C360Interaction", "C360Outreach", "C360Profile", "C360Contracts", "C360Clients", "C360StoreKit",
                "C360ServerKit", "C360ChangeFeed", "C360TestSupport", grpcCore, grpcHTTP2, swiftProtobuf, grdb, logging,
                argumentParser, nioCore, nioPosix, nioHTTP1,
            ],
            path: "Services/bench",
            swiftSettings: strictSettings
        ),

        // MARK: Tests

        /// Starts built executables on port 0 with temporary data directories and hands back connected clients.
        .target(
            name: "C360TestSupport",
            dependencies: [
                "C360Clients", "C360Contracts", "C360ServerKit", "C360StoreKit", "C360ChangeFeed", grpcCore, grpcHTTP2,
                logging,
                swiftProtobuf, lifecycle, grdb,
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                // SQLite's C API, for SQLiteWork's progress handler.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: strictSettings
        ),
        /// `expectStatus`/`expectOK`: how every test states a call's gRPC outcome (imports Testing, so apart from
        /// C360TestSupport, which bench links).
        .target(
            name: "C360TestExpectations",
            dependencies: [grpcCore],
            path: "Tests/TestExpectations",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SharedTests",
            dependencies: [
                "C360ServerKit", "C360StoreKit", "C360ChangeFeed", "C360Clients", "C360Contracts", "C360TestSupport",
                grpcCore, grpcProtobuf, grpcHTTP2, grdb, argumentParser, swiftProtobuf, logging,
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            path: "Tests/SharedTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ProfileServiceTests",
            dependencies: [
                "C360Profile", "C360StoreKit", "C360ServerKit", "C360Contracts", "C360Clients", "C360TestExpectations",
                "C360TestSupport", grpcCore, grdb, logging, swiftProtobuf,
            ],
            path: "Tests/ProfileServiceTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "InteractionServiceTests",
            dependencies: [
                "C360Interaction", "C360StoreKit", "C360ServerKit", "C360ChangeFeed", "C360Contracts", "C360Clients",
                "C360TestSupport",
                grpcCore,
                grdb, swiftProtobuf, logging,
            ],
            path: "Tests/InteractionServiceTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FeedbackServiceTests",
            dependencies: [
                "C360Feedback", "C360StoreKit", "C360ServerKit", "C360Contracts", "C360Clients", "C360TestSupport",
                grpcCore,
                grdb, swiftProtobuf,
            ],
            path: "Tests/FeedbackServiceTests",
            resources: [.copy("Resources")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SuccessServiceTests",
            dependencies: [
                "C360Success", "C360StoreKit", "C360ServerKit", "C360Contracts", "C360Clients", "C360TestSupport",
                grpcCore, grdb, swiftProtobuf,
            ],
            path: "Tests/SuccessServiceTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OutreachServiceTests",
            dependencies: [
                "C360Outreach", "C360StoreKit", "C360ServerKit", "C360Contracts", "C360ChangeFeed", "C360Clients",
                "C360TestSupport",
                grpcCore, grdb, swiftProtobuf,
            ],
            path: "Tests/OutreachServiceTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "C360Gateway", "C360StoreKit", "C360ServerKit", "C360Contracts", "C360Clients", "C360TestSupport",
                grpcCore, grdb, swiftProtobuf,
            ],
            path: "Tests/GatewayTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "C360TestExpectations", "C360TestSupport", "C360Contracts", "C360Clients", "C360StoreKit", grpcCore,
                grpcHTTP2, grdb, swiftProtobuf,
            ],
            path: "Tests/IntegrationTests",
            swiftSettings: strictSettings
        ),
    ]
)
