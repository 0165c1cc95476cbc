/// The SASL mechanisms Tern offers (RFC 4954 for SMTP; POP3 and IMAP reuse them).
public enum SASLMechanism: String, CaseIterable, Hashable, Sendable {
    /// RFC 4616. Sends the password: offered only under TLS.
    case plain = "PLAIN"
    /// The draft LOGIN mechanism. Sends the password: offered only under TLS.
    case login = "LOGIN"
    /// RFC 2195. Needs a password-equivalent secret on the server, so off unless configured.
    case cramMD5 = "CRAM-MD5"
    /// RFC 5802 / RFC 7677. The server keeps only StoredKey and ServerKey.
    case scramSHA256 = "SCRAM-SHA-256"

    /// Whether the mechanism reveals the password to anyone who can read the connection.
    public var exposesPassword: Bool { self == .plain || self == .login }
}

/// Why an exchange failed; the session maps each to its reply (RFC 4954 §6).
public enum SASLError: Error, Hashable, Sendable {
    /// The client sent `*` (RFC 4954 §4): 501 5.0.0.
    case cancelled
    /// Not base64, or not the mechanism's syntax: 501 5.5.2.
    case malformed
    /// Wrong credentials or unknown user (never told apart): 535 5.7.8.
    case invalidCredentials
    /// An authorization identity other than the authentication identity: 535 5.7.8 too.
    case authorizationDenied
}
