import MailStorePostgres
import Testing

@Suite struct PostgresURLTests {
    @Test func theFormsLibpqReads() throws {
        let full = try PostgresURL(parsing: "postgres://tern:s%40cret@db.example.test:6432/mail?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(full.user == "tern" && full.password == "s@cret" && full.host == "db.example.test" && full.port == 6432)
        #expect(full.database == "mail" && full.tlsMode == .verifyFull && full.rootCertificate == "/etc/ca.pem")
        #expect(full.redacted == "postgres://tern:***@db.example.test:6432/mail?sslmode=verify-full")

        let plain = try PostgresURL(parsing: "postgresql://tern@127.0.0.1/tern")
        #expect(plain.port == 5432 && plain.password == nil && plain.tlsMode == .prefer)
        let v6 = try PostgresURL(parsing: "postgres://u@[::1]:5433/d?sslmode=disable")
        #expect(v6.host == "::1" && v6.port == 5433 && v6.tlsMode == .disable)
        #expect(v6.redacted == "postgres://u@[::1]:5433/d?sslmode=disable")
    }

    @Test func whatIsRefusedSaysWhy() {
        let cases: [(String, PostgresURL.Problem)] = [
            ("mysql://u@h/d", .notPostgres),
            ("postgres://u@h", .missing("database (…/DATABASE)")),
            ("postgres://u@h/", .missing("database (…/DATABASE)")),
            ("postgres://h/d", .missing("user (USER@HOST)")),
            ("postgres://u@/d", .missing("host")),
            ("postgres://u@h:0/d", .badPort),
            ("postgres://u@h:99999/d", .badPort),
            ("postgres://u@h:x/d", .badPort),
            ("postgres://u@[::1/d", .missing("closing ] of the IPv6 host")),
            ("postgres://u%zz@h/d", .badEscape),
            ("postgres://u@h/d?sslmode=allow", .badTLSMode("allow")),
            ("postgres://u@h/d?connect_timeout=3", .unknownParameter("connect_timeout")),
            ("postgres://u@h/" + String(repeating: "d", count: 5000), .notPostgres),
        ]
        for (text, problem) in cases {
            #expect(throws: problem, "\(text)") { try PostgresURL(parsing: text) }
        }
    }
}
