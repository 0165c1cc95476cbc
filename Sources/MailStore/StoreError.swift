/// Why a store operation failed.
public enum StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    case alreadyExists(String)
    case notFound(String)
    case invalid(String)
    /// The disk or database is full (SQLITE_FULL, ENOSPC).
    case full
    /// Accepting the message would pass this limit (checked where it is counted).
    case limitReached(UsageLimit)
    /// Anything else the database reported.
    case failure(String)

    public var description: String {
        switch self {
        case .alreadyExists(let what): "\(what) already exists"
        case .notFound(let what): "\(what) not found"
        case .invalid(let what): what
        case .full: "storage is full"
        case .limitReached(let limit): "\(limit.name) limit of \(limit.limit) reached"
        case .failure(let what): "storage failure: \(what)"
        }
    }
}
