import MailCore

/// One server-side SASL exchange as a pure state machine.
///
/// Bytes in (already base64-decoded by the protocol layer), steps out. Steps that need the
/// credential store (`verifyPassword`, `needSCRAMCredentials`, `needCRAMSecret`) are answered
/// through the matching method, so lookups can be asynchronous and take equal time whether or
/// not the user exists.
public struct SASLServerExchange: Sendable {
    public enum Step: Equatable, Sendable {
        /// Send this challenge (the protocol base64-encodes it; empty is allowed).
        case challenge([UInt8])
        /// Check this password for this user; answer with `passwordChecked(_:)`.
        case verifyPassword(username: String, password: String)
        /// Look up SCRAM keys; answer with `scramCredentials(_:)`.
        case needSCRAMCredentials(username: String)
        /// Look up the CRAM-MD5 secret; answer with `cramSecret(_:)`.
        case needCRAMSecret(username: String)
        /// Authenticated as `username`.
        case success(username: String)
        case failure(SASLError)
    }

    enum State: Sendable {
        case start
        case loginUsername
        case loginPassword(username: String)
        case awaitingPassword(username: String)
        case cramResponse(challenge: [UInt8])
        case awaitingCRAMSecret(username: String, digest: String, challenge: [UInt8])
        case scramClientFirst
        case awaitingSCRAMCredentials(SCRAM.ClientFirst)
        case scramClientFinal(SCRAM.ServerFirst)
        case scramAcknowledge(username: String)
        case done
    }

    public let mechanism: SASLMechanism
    private var state: State = .start
    private let hostname: String
    private let nonce: @Sendable () -> String

    /// RFC 4954 §4: a response is at most 12288 octets after decoding in practice; anything longer
    /// is refused before it is parsed.
    public static let maximumResponseLength = 12288

    /// - Parameter nonce: makes the server's random part (injectable for test vectors).
    public init(mechanism: SASLMechanism, hostname: String, nonce: @escaping @Sendable () -> String = SASLServerExchange.randomNonce) {
        self.mechanism = mechanism
        self.hostname = hostname
        self.nonce = nonce
    }

    /// Starts the exchange with the optional initial response of `AUTH mech [ir]`.
    public mutating func start(initialResponse: [UInt8]?) -> Step {
        switch mechanism {
        case .plain:
            state = .start
            guard let initialResponse else { return .challenge([]) }
            return respond(initialResponse)
        case .login:
            state = .loginUsername
            guard let initialResponse else { return .challenge(Array("Username:".utf8)) }
            return respond(initialResponse)
        case .cramMD5:
            // RFC 2195 §2: a challenge in msg-id form, unique per exchange.
            let challenge = Array("<\(nonce()).\(hostname)>".utf8)
            state = .cramResponse(challenge: challenge)
            return .challenge(challenge)
        case .scramSHA256:
            state = .scramClientFirst
            guard let initialResponse else { return .challenge([]) }
            return respond(initialResponse)
        }
    }

    /// The client's next response.
    public mutating func respond(_ data: [UInt8]) -> Step {
        guard data.count <= Self.maximumResponseLength else { return fail(.malformed) }
        switch state {
        case .start:
            // RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd
            let parts = data.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let authzid = String(validating: parts[0], as: UTF8.self),
                let username = String(validating: parts[1], as: UTF8.self), let password = String(validating: parts[2], as: UTF8.self),
                !username.isEmpty, !password.isEmpty, !password.contains("\u{0}")
            else { return fail(.malformed) }
            if !authzid.isEmpty && authzid.lowercased() != username.lowercased() { return fail(.authorizationDenied) }
            state = .awaitingPassword(username: username)
            return .verifyPassword(username: username, password: password)
        case .loginUsername:
            guard let username = String(validating: data, as: UTF8.self), !username.isEmpty else { return fail(.malformed) }
            state = .loginPassword(username: username)
            return .challenge(Array("Password:".utf8))
        case .loginPassword(let username):
            guard let password = String(validating: data, as: UTF8.self), !password.isEmpty else { return fail(.malformed) }
            state = .awaitingPassword(username: username)
            return .verifyPassword(username: username, password: password)
        case .cramResponse(let challenge):
            // RFC 2195: response = user SP 32 lower-case hex digits
            guard let text = String(validating: data, as: UTF8.self), let space = text.lastIndex(of: " ") else { return fail(.malformed) }
            let username = String(text[..<space])
            let digest = String(text[text.index(after: space)...])
            guard !username.isEmpty, digest.count == 32, digest.allSatisfy({ $0.isHexDigit }) else { return fail(.malformed) }
            state = .awaitingCRAMSecret(username: username, digest: digest.lowercased(), challenge: challenge)
            return .needCRAMSecret(username: username)
        case .scramClientFirst:
            guard let first = SCRAM.ClientFirst(data) else { return fail(.malformed) }
            if let authzid = first.authorizationID, authzid.lowercased() != first.username.lowercased() {
                return fail(.authorizationDenied)
            }
            state = .awaitingSCRAMCredentials(first)
            return .needSCRAMCredentials(username: first.username)
        case .scramClientFinal(let serverFirst):
            guard let serverFinal = serverFirst.verify(clientFinal: data) else { return fail(.invalidCredentials) }
            // SMTP has no success-with-data: the server-final message goes in a 334 and the client
            // answers with an empty line (RFC 4954 §4, RFC 4422 §5).
            state = .scramAcknowledge(username: serverFirst.clientFirst.username)
            return .challenge(serverFinal)
        case .scramAcknowledge(let username):
            state = .done
            return data.isEmpty ? .success(username: username) : .failure(.malformed)
        case .awaitingPassword, .awaitingCRAMSecret, .awaitingSCRAMCredentials, .done:
            return fail(.malformed)
        }
    }

    /// The answer to `.verifyPassword`.
    public mutating func passwordChecked(_ valid: Bool) -> Step {
        guard case .awaitingPassword(let username) = state else { return fail(.malformed) }
        state = .done
        return valid ? .success(username: username) : .failure(.invalidCredentials)
    }

    /// The answer to `.needSCRAMCredentials`: nil when the user is unknown. An unknown user still
    /// gets a well-formed server-first message built from `decoy`, so the client cannot tell
    /// "no such user" from "wrong password" (RFC 5802 §5.1 allows this).
    public mutating func scramCredentials(_ credentials: SCRAMCredentials?, decoy: SCRAMCredentials) -> Step {
        guard case .awaitingSCRAMCredentials(let first) = state else { return fail(.malformed) }
        let serverFirst = SCRAM.ServerFirst(
            clientFirst: first, serverNonce: nonce(), credentials: credentials ?? decoy, userKnown: credentials != nil)
        state = .scramClientFinal(serverFirst)
        return .challenge(Array(serverFirst.message.utf8))
    }

    /// The answer to `.needCRAMSecret`: the shared secret, or nil for an unknown user.
    public mutating func cramSecret(_ secret: [UInt8]?) -> Step {
        guard case .awaitingCRAMSecret(let username, let digest, let challenge) = state else { return fail(.malformed) }
        state = .done
        guard let secret else { return .failure(.invalidCredentials) }
        let expected = HMACMD5.hex(key: secret, message: challenge)
        return ConstantTime.equal(Array(expected.utf8), Array(digest.utf8))
            ? .success(username: username) : .failure(.invalidCredentials)
    }

    private mutating func fail(_ error: SASLError) -> Step {
        state = .done
        return .failure(error)
    }

    /// 18 random bytes as base64: printable, no commas (RFC 5802 §5.1 nonce syntax).
    public static func randomNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<18).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Base64Text.encode(bytes)
    }
}
