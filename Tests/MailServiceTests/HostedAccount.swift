import Foundation
import MailService
import MailStoreSQLite

/// A fresh store in its own temporary directory with example.test (an Ed25519 DKIM key) and
/// the user alice@example.test: what the intake, sandbox, suppression and webhook tests start from.
struct HostedAccount {
    let store: SQLiteStore
    let admin: Administration

    init(prefix: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("tern.sqlite").path)
        admin = Administration(store: store, hostname: "mx.example.test", planNames: ["free"], keepsCRAMSecrets: false)
        _ = try await admin.addDomain("example.test", dkim: .ed25519)
        _ = try await admin.addUser("alice@example.test", password: "pw-123456")
    }
}
