/// A few rows of one table in a form neither store owns, for `tern store copy` (SQLite to
/// PostgreSQL): the columns as the source names them, each value as the source stored it.
public struct TableChunk: Sendable {
    public enum Value: Sendable, Equatable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
        case blob([UInt8])
    }

    public var table: String
    public var columns: [String]
    public var rows: [[Value]]

    public init(table: String, columns: [String], rows: [[Value]]) {
        self.table = table
        self.columns = columns
        self.rows = rows
    }
}
