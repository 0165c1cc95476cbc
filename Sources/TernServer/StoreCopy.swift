import Logging
import MailStore
import MailStorePostgres
import MailStoreSQLite

/// `tern store copy --to postgres://…`: moves an install from its embedded SQLite store into
/// an empty PostgreSQL database (migrated first), every table in one transaction, then checks
/// that each table holds as many rows there as here.
public enum StoreCopy {
    public struct Copied: Sendable, Equatable {
        public var table: String
        public var rows: Int
    }

    public enum Failure: Error, CustomStringConvertible {
        /// Counted rows differ after the copy (committed: the database must be emptied).
        case countsDiffer([(table: String, source: Int, copied: Int)])

        public var description: String {
            switch self {
            case .countsDiffer(let tables):
                "the copy's row counts differ: " + tables.map { "\($0.table) \($0.source) here, \($0.copied) there" }.joined(separator: "; ")
            }
        }
    }

    public static func run(from source: SQLiteStore, to url: PostgresURL, logger: Logger = PostgresStore.quietLogger) async throws -> [Copied] {
        let tables: [String]
        do {
            tables = try source.tableNames()
        } catch {
            throw ConfigurationError(key: "data_dir", "cannot read the SQLite store: \(error)")
        }
        let unplaced = tables.filter { !PostgresStore.copyOrder.contains($0) }
        guard unplaced.isEmpty else {
            throw ConfigurationError(key: "store", "this version cannot copy the tables \(unplaced.joined(separator: ", ")); nothing was copied")
        }
        let target = try PostgresConnectionCheck.connectedTool(url: url, key: "--to", logger: logger)
        try await PostgresConnectionCheck.check(target, key: "--to")
        return try await target.running {
            do {
                try await target.migrate()
            } catch {
                throw ConfigurationError(key: "--to", "cannot use \(url.redacted): \(PostgresConnectionCheck.reason(error))")
            }
            guard try await target.holdsNoData() else {
                throw ConfigurationError(key: "--to", "\(url.redacted) already holds data; copy into an empty database")
            }
            let order = PostgresStore.copyOrder.filter(tables.contains)
            try await target.importing { importer in
                for table in order {
                    try await source.exportTable(table) { chunk in try await importer.insert(chunk) }
                }
            }
            var copied: [Copied] = []
            var differ: [(table: String, source: Int, copied: Int)] = []
            for table in order {
                let here = try source.rowCount(table)
                let there = try await target.rowCount(table)
                copied.append(Copied(table: table, rows: there))
                if here != there { differ.append((table, here, there)) }
            }
            guard differ.isEmpty else { throw Failure.countsDiffer(differ) }
            return copied
        }
    }
}
