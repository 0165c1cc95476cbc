// swift-tools-version: 6.1
// GRDB 7 needs tools 6.1; Swift 6 language mode gives strict concurrency checking everywhere.
import PackageDescription

let package = Package(
    name: "tern",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tern", targets: ["tern"]),
        // For fuzz/ only: the protocol core as a library the fuzz package can depend on.
        .library(name: "SMTPProtocolForFuzzing", targets: ["SMTPProtocol", "MailCore"]),
        .library(name: "POP3ProtocolForFuzzing", targets: ["POP3Protocol"]),
        .library(name: "MailAuthForFuzzing", targets: ["MailAuth"]),
        .library(name: "DNSClientForFuzzing", targets: ["DNSClient"]),
        .library(name: "MailCoreForFuzzing", targets: ["MailCore"]),
        .library(name: "SendGridProtocolForFuzzing", targets: ["SendGridProtocol", "MailCore"]),
        .library(name: "IMAPProtocolForFuzzing", targets: ["IMAPProtocol", "MailCore"]),
        .library(name: "EngagementForFuzzing", targets: ["Engagement", "MailCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // The HTTP API (issue 13). No default traits: swift-configuration support is not used
        // (Tern reads its own TOML) and costs build minutes.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // Metrics (issue 13): the swift-metrics API in the core, Prometheus text at the edge.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // Webhook deliveries (issue 13).
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // The web dashboard's templates (issue 16).
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // The PostgreSQL store: several nodes on one database (issue 17).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Layer 0: pure protocol and mail-format code.
        .target(
            name: "MailCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "SMTPProtocol",
            dependencies: ["MailCore", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // Layer 0: the POP3 protocol core (RFC 1939, 2449, 2595, 5034).
        .target(name: "POP3Protocol", dependencies: ["MailCore"]),
        // Layer 0: the IMAP protocol core (issue 14; RFC 9051 with RFC 3501 compatibility).
        .target(name: "IMAPProtocol", dependencies: ["MailCore"]),
        // SendGrid's v3 wire format (issue 13): request and error types, validation. Pure.
        .target(name: "SendGridProtocol", dependencies: ["MailCore"]),
        // Open and click tracking rewrites of a message's HTML and text parts (issue 15). Pure.
        .target(name: "Engagement", dependencies: ["MailCore"]),
        // Layer 1: DNS wire format, resolver protocol and routing decisions.
        .target(name: "DNSClient"),
        // Layer 1: SASL server mechanisms (shared by SMTP AUTH, POP3 and IMAP).
        .target(
            name: "SASL",
            dependencies: [
                "MailCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // Layer 1: DKIM, SPF, DMARC and Authentication-Results, over a DNSResolver.
        .target(
            name: "MailAuth",
            dependencies: [
                "MailCore", "DNSClient",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // Layer 1: domain model and repository protocols.
        .target(
            name: "MailStore",
            dependencies: [
                "MailCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // Layer 1: the application core every front end calls (accounts, logins, abuse limits).
        .target(
            name: "MailService",
            dependencies: [
                "MailCore", "MailStore", "SASL", "MailAuth", "DNSClient", "SendGridProtocol", "Engagement", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // Layer 1: the delivery engine (scheduler, routing, retries, DSNs) behind protocols.
        .target(
            name: "Delivery",
            dependencies: [
                "MailCore", "MailStore", "SMTPProtocol", "DNSClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // Layer 2: adapters.
        .target(
            name: "MailStoreSQLite",
            dependencies: ["MailStore", "MailCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "MailStorePostgres",
            dependencies: [
                "MailStore", "MailCore", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "DNSClientNIO",
            dependencies: [
                "DNSClient", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Layer 2: the one listener set-up of every TCP protocol (limits, TLS, backpressure).
        .target(
            name: "ProtocolEdge",
            dependencies: [
                "MailService", .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SMTPServer",
            dependencies: [
                "SMTPProtocol", "MailCore", "MailStore", "SASL", "MailAuth", "MailService", "ProtocolEdge",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "IMAPServer",
            dependencies: [
                "IMAPProtocol", "MailCore", "MailStore", "SASL", "MailService", "ProtocolEdge",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "POP3Server",
            dependencies: [
                "POP3Protocol", "MailStore", "SASL", "MailService", "ProtocolEdge",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SMTPClient",
            dependencies: [
                "SMTPProtocol", "Delivery",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The system zlib, for gzip request bodies (no package needed for one inflate loop).
        .systemLibrary(name: "CZlib"),
        // Layer 2: the SendGrid-compatible HTTP API on Hummingbird, a thin adapter over
        // SendGridProtocol and the application core.
        .target(
            name: "WebAPI",
            dependencies: [
                "SendGridProtocol", "MailCore", "MailStore", "MailService", "Engagement", "CZlib", "DNSClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Layer 3: configuration and wiring, then the thin executable.
        .target(
            name: "TernServer",
            dependencies: [
                "MailCore", "SMTPProtocol", "MailStore", "MailStoreSQLite", "MailStorePostgres", "SMTPServer", "DNSClient", "DNSClientNIO", "Delivery", "SMTPClient",
                "MailAuth", "POP3Server", "IMAPServer", "MailService", "ProtocolEdge", "WebAPI", "Dashboard", "Engagement", "SendGridProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The web dashboard (issue 16): server-rendered pages over the same core as the API.
        .target(
            name: "Dashboard",
            dependencies: [
                "WebAPI", "MailService", "MailStore", "MailCore", "MailAuth", "SendGridProtocol", "DNSClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "tern",
            dependencies: [
                "TernServer", "MailStore", "MailCore", "SASL", "DNSClient", "MailAuth", "MailStoreSQLite", "MailStorePostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "MailCoreTests", dependencies: ["MailCore"]),
        .testTarget(name: "SMTPProtocolTests", dependencies: ["SMTPProtocol", "MailCore"]),
        .testTarget(name: "SASLTests", dependencies: ["SASL", "MailCore"]),
        .testTarget(name: "DNSClientTests", dependencies: ["DNSClient"]),
        .testTarget(name: "POP3ProtocolTests", dependencies: ["POP3Protocol", "MailCore"]),
        .testTarget(name: "SendGridProtocolTests", dependencies: ["SendGridProtocol", "MailCore"]),
        .testTarget(name: "EngagementTests", dependencies: ["Engagement", "MailCore"]),
        .testTarget(name: "IMAPProtocolTests", dependencies: ["IMAPProtocol", "MailCore"]),
        .testTarget(
            name: "IMAPServerTests",
            dependencies: ["IMAPServer", "IMAPProtocol", "MailService", "MailStore", "MailStoreSQLite", "MailCore"]
        ),
        .testTarget(
            name: "WebAPITests",
            dependencies: [
                "WebAPI", "SendGridProtocol", "MailService", "MailStore", "MailStoreSQLite", "MailCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "DashboardTests",
            dependencies: [
                "Dashboard", "WebAPI", "MailService", "MailStore", "MailStoreSQLite", "MailCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "MailAuthTests",
            dependencies: ["MailAuth", "DNSClient", "MailCore", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "DeliveryTests",
            dependencies: ["Delivery", "MailStoreSQLite", "MailStore", "MailCore", "SMTPProtocol", "DNSClient"]
        ),
        .testTarget(
            name: "MailServiceTests",
            dependencies: [
                "MailService", "MailStore", "MailCore", "SASL", "MailStoreSQLite", "MailAuth",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "MailStoreSQLiteTests", dependencies: ["MailStoreSQLite", "MailStore", "MailCore"]),
        .testTarget(name: "MailStorePostgresTests", dependencies: ["MailStorePostgres"]),
        // The same store contract, run against SQLite and (when TERN_TEST_POSTGRES_URL is set) PostgreSQL.
        .testTarget(
            name: "StoreContractTests",
            dependencies: [
                "MailStoreSQLite", "MailStorePostgres", "MailStore", "MailCore", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "TernServerTests",
            dependencies: [
                "TernServer", "SMTPServer", "SMTPProtocol", "MailStore", "MailStoreSQLite", "MailCore", "SASL", "MailAuth", "DNSClient",
                "MailService", "POP3Server", "POP3Protocol", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ]
)
