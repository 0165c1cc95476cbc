import FuzzDriver

/// Fuzzes `[store.postgres] url` parsing (PostgresURL.swift, compiled here from its source by a
/// symlink, so the fuzzer need not build the PostgreSQL driver). Invariants: nothing traps; a
/// parsed URL has a host, a database and a port in range; its redacted form never shows a
/// password that appears nowhere else in the URL.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPostgresURL(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let url = try? PostgresURL(parsing: text) else { return 0 }
    precondition(!url.host.isEmpty && !url.database.isEmpty && (1...65535).contains(url.port))
    if let password = url.password, password.count >= 4, ![url.user, url.host, url.database, url.rootCertificate ?? ""].contains(where: { $0.contains(password) }),
        !"postgres://:***@[]?sslmode=disablepreferrequireverify-full".contains(password)
    {
        precondition(!url.redacted.contains(password), "the redacted URL shows the password")
    }
    return 0
}

@_cdecl("FuzzPostgresURL_main")
public func fuzzPostgresURLMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzPostgresURL)
}
