/// Why a store operation failed.
public enum StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    case alreadyExists(String)
    case notFound(String)
    case invalid(String)
    /// The disk or database is full (SQLITE_FULL, ENOSPC).
    case full
    /// Anything else the database reported.
    case failure(String)

    public var description: String {
        switch self {
        case .alreadyExists(let what): "\(what) already exists"
        case .notFound(let what): "\(what) not found"
        case .invalid(let what): what
        case .full: "storage is full"
        case .failure(let what): "storage failure: \(what)"
        }
    }
}
