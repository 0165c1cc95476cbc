/// `[store.postgres] url`: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE&sslrootcert=FILE]`
/// (`postgresql://` too), in the form libpq reads. User and password may be percent-encoded;
/// an IPv6 host is written in brackets. `sslmode`: `disable`, `prefer` (the default, as libpq's),
/// `require` (encrypted, certificate not checked, as libpq's), `verify-full` (encrypted, the
/// certificate checked against the host name and `sslrootcert` or the system's roots).
public struct PostgresURL: Hashable, Sendable {
    public enum TLSMode: String, Hashable, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var tlsMode: TLSMode
    public var rootCertificate: String?

    public enum Problem: Error, Hashable, Sendable, CustomStringConvertible {
        case notPostgres
        case missing(String)
        case badPort
        case badEscape
        case unknownParameter(String)
        case badTLSMode(String)

        public var description: String {
            switch self {
            case .notPostgres: "a PostgreSQL URL starts with postgres:// or postgresql://"
            case .missing(let part): "the URL has no \(part)"
            case .badPort: "the port must be a number from 1 to 65535"
            case .badEscape: "a %-escape in the URL is not valid"
            case .unknownParameter(let name): "unknown URL parameter \(name) (known: sslmode, sslrootcert)"
            case .badTLSMode(let mode): "sslmode \(mode) is not one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))"
            }
        }
    }

    /// Parses `text`; at most 4 KB, one pass over it.
    public init(parsing text: String) throws(Problem) {
        guard text.utf8.count <= 4096 else { throw .notPostgres }
        var rest: Substring
        if text.hasPrefix("postgres://") {
            rest = text.dropFirst("postgres://".count)
        } else if text.hasPrefix("postgresql://") {
            rest = text.dropFirst("postgresql://".count)
        } else {
            throw .notPostgres
        }
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let slash = rest.firstIndex(of: "/") else { throw .missing("database (…/DATABASE)") }
        let database = try Self.decode(rest[rest.index(after: slash)...])
        guard !database.isEmpty else { throw .missing("database (…/DATABASE)") }
        var authority = rest[..<slash]
        var user = ""
        var password: String? = nil
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = try Self.decode(credentials[..<colon])
                password = try Self.decode(credentials[credentials.index(after: colon)...])
            } else {
                user = try Self.decode(credentials)
            }
        }
        guard !user.isEmpty else { throw .missing("user (USER@HOST)") }
        var host: Substring
        var portText: Substring? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .missing("closing ] of the IPv6 host") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw .badPort }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw .missing("host") }
        var port = 5432
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else { throw .badPort }
            port = value
        }
        var tlsMode = TLSMode.prefer
        var rootCertificate: String? = nil
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            let value = parts.count > 1 ? try Self.decode(parts[1]) : ""
            switch name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else { throw .badTLSMode(value) }
                tlsMode = mode
            case "sslrootcert":
                rootCertificate = value
            default:
                throw .unknownParameter(name)
            }
        }
        self.user = user
        self.password = password
        self.host = String(host)
        self.port = port
        self.database = database
        self.tlsMode = tlsMode
        self.rootCertificate = rootCertificate
    }

    /// The URL without its password, for logs and error messages.
    public var redacted: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "postgres://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)?sslmode=\(tlsMode.rawValue)"
    }

    static func decode(_ text: Substring) throws(Problem) -> String {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.first {
            bytes = bytes.dropFirst()
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                continue
            }
            guard bytes.count >= 2, let high = hex(bytes[bytes.startIndex]), let low = hex(bytes[bytes.startIndex + 1]) else { throw .badEscape }
            out.append(high << 4 | low)
            bytes = bytes.dropFirst(2)
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
