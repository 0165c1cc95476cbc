// swift-tools-version: 6.1
// libFuzzer targets for the protocol cores (SMTP, POP3) and the mail-authentication parsers. Built only by fuzz/run, with
// -sanitize=fuzzer,address; not part of the main build.
import PackageDescription

let package = Package(
    name: "tern-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "tern", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(
            name: "FuzzCommandParser",
            dependencies: ["FuzzDriver", .product(name: "SMTPProtocolForFuzzing", package: "tern"), .product(name: "NIOCore", package: "swift-nio")]
        ),
        .executableTarget(
            name: "FuzzClientSession",
            dependencies: ["FuzzDriver", .product(name: "SMTPProtocolForFuzzing", package: "tern"), .product(name: "NIOCore", package: "swift-nio")]
        ),
        .executableTarget(name: "FuzzPOP3Session", dependencies: ["FuzzDriver", .product(name: "POP3ProtocolForFuzzing", package: "tern")]),
        .executableTarget(name: "FuzzMailAuth", dependencies: ["FuzzDriver", .product(name: "MailAuthForFuzzing", package: "tern")]),
        .executableTarget(name: "FuzzDNSMessage", dependencies: ["FuzzDriver", .product(name: "DNSClientForFuzzing", package: "tern")]),
        .executableTarget(name: "FuzzMailCore", dependencies: ["FuzzDriver", .product(name: "MailCoreForFuzzing", package: "tern")]),
        .executableTarget(name: "FuzzIMAPCommand", dependencies: ["FuzzDriver", .product(name: "IMAPProtocolForFuzzing", package: "tern")]),
        .executableTarget(name: "FuzzIMAPMime", dependencies: ["FuzzDriver", .product(name: "IMAPProtocolForFuzzing", package: "tern")]),
        .executableTarget(name: "FuzzPostgresURL", dependencies: ["FuzzDriver"]),
        .executableTarget(name: "FuzzSendAPI", dependencies: ["FuzzDriver", .product(name: "SendGridProtocolForFuzzing", package: "tern")]),
        .executableTarget(
            name: "FuzzEngagement",
            dependencies: [
                "FuzzDriver", .product(name: "EngagementForFuzzing", package: "tern"), .product(name: "SendGridProtocolForFuzzing", package: "tern"),
            ]
        ),
        .executableTarget(
            name: "FuzzBodyReader",
            dependencies: ["FuzzDriver", .product(name: "SMTPProtocolForFuzzing", package: "tern"), .product(name: "NIOCore", package: "swift-nio")]
        ),
    ]
)
