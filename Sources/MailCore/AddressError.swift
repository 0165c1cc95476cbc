/// Why an address or path was refused; each case maps to one SMTP reply.
public enum AddressError: Error, Hashable, Sendable {
    case emptyDomain
    case domainTooLong
    case invalidDomain
    case emptyLocalPart
    case localPartTooLong
    case invalidLocalPart
    case pathTooLong
    case missingAngleBrackets
    case missingDomain
    case invalidRoute
    case utf8NotAllowed
    case forbiddenCharacter

    /// A short human text for the reply.
    public var reason: String {
        switch self {
        case .emptyDomain: "empty domain"
        case .domainTooLong: "domain longer than 255 octets"
        case .invalidDomain: "invalid domain"
        case .emptyLocalPart: "empty local part"
        case .localPartTooLong: "local part longer than 64 octets"
        case .invalidLocalPart: "invalid local part"
        case .pathTooLong: "path longer than 256 octets"
        case .missingAngleBrackets: "path must be enclosed in <>"
        case .missingDomain: "address has no domain"
        case .invalidRoute: "invalid source route"
        case .utf8NotAllowed: "non-ASCII address without SMTPUTF8"
        case .forbiddenCharacter: "control character in address"
        }
    }

    /// Length violations are RFC 3463 X.5.3-ish "too long"; the rest are syntax (X.1.3 / X.1.7).
    public var isLengthError: Bool {
        switch self {
        case .domainTooLong, .localPartTooLong, .pathTooLong: true
        default: false
        }
    }
}
