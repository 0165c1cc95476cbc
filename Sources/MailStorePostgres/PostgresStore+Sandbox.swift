import MailStore
import NIOCore
import PostgresNIO

extension PostgresStore: SandboxRepository {
    public func isSandboxed(user: String) throws(StoreError) -> Bool {
        try fromSnapshot { $0.users[user.lowercased()]?.sandbox ?? false }
    }

    public func setSandboxed(user: String, _ sandboxed: Bool) async throws(StoreError) {
        guard try await !rows("UPDATE users SET sandbox = \(sandboxed) WHERE address = \(user) RETURNING 1").isEmpty else {
            throw .notFound("user \(user)")
        }
        if followsDirectory { try await refreshDirectory() }
    }

    public func sandboxMessages(account: String, limit: Int) async throws(StoreError) -> [SandboxMessage] {
        try await decoded(
            """
            SELECT m.id, m.reverse_path, m.subject, m.created_at, m.size,
                   ARRAY(SELECT r.address FROM recipients r WHERE r.message_id = m.id ORDER BY r.position)
            FROM messages m WHERE m.sandbox AND m.auth_account = \(account)
            ORDER BY m.created_at DESC, m.id DESC LIMIT \(Int64(limit))
            """
        ) { row in
            let (id, from, subject, createdAt, size, recipients) = try row.decode((String, String, String?, Int64, Int64, [String]).self)
            return SandboxMessage(id: id, from: from, recipients: recipients, subject: subject, createdAt: Int(createdAt), size: Int(size))
        }
    }

    public func sandboxContent(account: String, id: String) async throws(StoreError) -> [UInt8]? {
        try await decoded("SELECT content FROM messages WHERE id = \(id) AND sandbox AND auth_account = \(account)") {
            Array(try $0.decode(ByteBuffer.self).readableBytesView)
        }.first
    }
}
