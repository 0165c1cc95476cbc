import Logging
import MailStore
import PostgresNIO

/// Filling an empty database from another store (`tern store copy`): every table in an order
/// where each comes after the tables it refers to, in one transaction, so the copy is all
/// there or not at all.
extension PostgresStore {
    /// The tables copied, in order. A table of the source missing here stops the copy (a new
    /// table must be placed in this list, not silently left behind).
    public static let copyOrder = [
        "domains", "users", "api_keys", "sending_domains", "usage", "signing_keys", "server_secrets", "messages", "recipients", "events",
        "mailboxes", "mailbox_messages", "mailbox_subscriptions", "mailbox_expunged", "aliases", "catch_alls", "webhooks", "webhook_attempts",
        "suppression_groups", "suppressions", "templates", "template_versions", "web_sessions",
    ]

    /// Whether the database holds nothing a copy could collide with.
    public func holdsNoData() async throws(StoreError) -> Bool {
        try await decoded(
            "SELECT (SELECT COUNT(*) FROM domains) + (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM messages) + (SELECT COUNT(*) FROM server_secrets)",
            { try $0.decode(Int64.self) }
        ).first == 0
    }

    /// Rows in `table` (one of `copyOrder`).
    public func rowCount(_ table: String) async throws(StoreError) -> Int {
        guard Self.copyOrder.contains(table) else { throw .notFound("table \(table)") }
        return try await decoded(PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \(table)"), { Int(try $0.decode(Int64.self)) }).first ?? 0
    }

    /// Runs `body` with an importer in one transaction, committed when it returns; then moves
    /// each identity sequence past the ids copied, and reloads the directory.
    public func importing(_ body: (PostgresImporter) async throws -> Void) async throws(StoreError) {
        try await transaction { connection in
            var types: [String: [String: String]] = [:]
            var identities: [String: String] = [:]
            for try await (table, column, type, identity) in try await connection.query(
                """
                SELECT table_name::text, column_name::text, data_type::text, is_identity::text FROM information_schema.columns
                WHERE table_schema = current_schema()
                """, logger: self.logger
            ).decode((String, String, String, String).self) {
                types[table, default: [:]][column] = type
                if identity == "YES" { identities[table] = column }
            }
            try await body(PostgresImporter(connection: connection, types: types, identities: identities, logger: self.logger))
            for (table, column) in identities.sorted(by: { $0.key < $1.key }) where Self.copyOrder.contains(table) {
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL: "SELECT setval(pg_get_serial_sequence('\(table)', '\(column)'), GREATEST((SELECT MAX(\(column)) FROM \(table)), 1))"),
                    logger: self.logger)
            }
        }
        if followsDirectory { try await refreshDirectory() }
    }
}

/// Inserts chunks of another store's rows, each value converted to its column's type here
/// (SQLite keeps booleans as integers); SQLite's `user` column is `account` here.
public struct PostgresImporter: Sendable {
    let connection: PostgresConnection
    let types: [String: [String: String]]
    let identities: [String: String]
    let logger: Logger

    public func insert(_ chunk: TableChunk) async throws {
        guard PostgresStore.copyOrder.contains(chunk.table), let columnTypes = types[chunk.table] else {
            throw StoreError.invalid("table \(chunk.table) has no place in the copy")
        }
        let columns = chunk.columns.map { $0 == "user" && columnTypes["user"] == nil ? "account" : $0 }
        let targetTypes = try columns.map { column in
            guard let type = columnTypes[column] else { throw StoreError.invalid("column \(chunk.table).\(column) has no place in the copy") }
            return type
        }
        let overriding = identities[chunk.table].map { columns.contains($0) } == true ? " OVERRIDING SYSTEM VALUE" : ""
        let sql =
            "INSERT INTO \(chunk.table)(\(columns.joined(separator: ", ")))\(overriding) VALUES (\((1...columns.count).map { "$\($0)" }.joined(separator: ", ")))"
        for row in chunk.rows {
            var bindings = PostgresBindings(capacity: row.count)
            for (value, type) in zip(row, targetTypes) { try Self.bind(value, as: type, into: &bindings) }
            try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        }
    }

    static func bind(_ value: TableChunk.Value, as type: String, into bindings: inout PostgresBindings) throws {
        switch (value, type) {
        case (.null, _): bindings.appendNull()
        case (.integer(let n), "boolean"): try bindings.append(n != 0)
        case (.integer(let n), "bigint"): try bindings.append(n)
        case (.integer(let n), "integer"): try bindings.append(Int32(clamping: n))
        case (.integer(let n), "double precision"): try bindings.append(Double(n))
        case (.integer(let n), "text"): try bindings.append(String(n))
        case (.real(let x), "double precision"): try bindings.append(x)
        case (.real(let x), "bigint"): try bindings.append(Int64(x))
        case (.text(let s), "text"): try bindings.append(s)
        case (.text(let s), "bytea"): try bindings.append(ByteBuffer(string: s))
        case (.blob(let b), "bytea"): try bindings.append(ByteBuffer(bytes: b))
        case (.blob(let b), "text"): try bindings.append(String(decoding: b, as: UTF8.self))
        default: throw StoreError.invalid("cannot copy \(value) into a \(type) column")
        }
    }
}
