import Foundation
import GRDB
import MailStore

/// Reading the whole store out, table by table in bounded chunks, for `tern store copy`.
extension SQLiteStore {
    /// The tables that hold data (not GRDB's bookkeeping), by name.
    public func tableNames() throws(StoreError) -> [String] {
        try readSync { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'grdb%' AND name NOT LIKE 'sqlite%' ORDER BY name")
        }
    }

    public func rowCount(_ table: String) throws(StoreError) -> Int {
        let table = try knownTable(table)
        return try readSync { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table.quotedDatabaseIdentifier)") ?? 0 }
    }

    /// Every row of `table` in primary-key order, `chunkRows` at a time (a chunk stops early
    /// past `chunkBytes` of values, so large messages are not all held at once). Each chunk is
    /// read on its own: the store must not be written meanwhile (`tern serve` stopped).
    public func exportTable(
        _ table: String, chunkRows: Int = 500, chunkBytes: Int = 32 << 20, _ body: (TableChunk) async throws -> Void
    ) async throws {
        let table = try knownTable(table)
        let quoted = table.quotedDatabaseIdentifier
        let (columns, key): ([String], [String]) = try readSync { db in
            let info = try Row.fetchAll(db, sql: "PRAGMA table_info(\(quoted))")
            let columns: [String] = info.map { $0["name"] }
            let key = info.filter { ($0["pk"] as Int) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }.map { $0["name"] as String }
            return (columns, key.isEmpty ? ["rowid"] : key)
        }
        let keyList = key.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
        let selected = (columns + key).map(\.quotedDatabaseIdentifier).joined(separator: ", ")
        var last: [DatabaseValue]? = nil
        while true {
            let page: (rows: [[TableChunk.Value]], last: [DatabaseValue]?) = try readSync { db in
                var sql = "SELECT \(selected) FROM \(quoted)"
                var arguments = StatementArguments()
                if let last {
                    // Keyset paging with a row value: linear however large the table.
                    sql += " WHERE (\(keyList)) > (\(last.map { _ in "?" }.joined(separator: ", ")))"
                    arguments = StatementArguments(last)
                }
                sql += " ORDER BY \(keyList) LIMIT \(chunkRows)"
                var rows: [[TableChunk.Value]] = []
                var bytes = 0
                var lastKey: [DatabaseValue]? = nil
                let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
                while let row = try cursor.next() {
                    let values = Array(row.databaseValues)
                    rows.append(values.prefix(columns.count).map(Self.chunkValue))
                    lastKey = Array(values.suffix(key.count))
                    bytes += values.reduce(0) { total, value in
                        if case .blob(let data) = value.storage { return total + data.count }
                        if case .string(let text) = value.storage { return total + text.utf8.count }
                        return total + 8
                    }
                    if bytes >= chunkBytes { break }
                }
                return (rows, lastKey)
            }
            guard !page.rows.isEmpty else { return }
            try await body(TableChunk(table: table, columns: columns, rows: page.rows))
            last = page.last
        }
    }

    static func chunkValue(_ value: DatabaseValue) -> TableChunk.Value {
        switch value.storage {
        case .null: .null
        case .int64(let number): .integer(number)
        case .double(let number): .real(number)
        case .string(let text): .text(text)
        case .blob(let data): .blob(Array(data))
        }
    }

    /// A table name from the schema (never interpolated from outside input).
    private func knownTable(_ name: String) throws(StoreError) -> String {
        guard try tableNames().contains(name) else { throw .notFound("table \(name)") }
        return name
    }

    private func readSync<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.read(body)
        } catch {
            throw Self.storeError(error)
        }
    }
}
