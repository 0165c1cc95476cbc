import SASL

/// One login by SASL (SMTP AUTH, POP3 AUTH, IMAP AUTHENTICATE) or by a plain password (POP3
/// USER/PASS, IMAP LOGIN), as a pure state machine over `SASLServerExchange`.
///
/// The account a login ends as comes only from the lookup answered in this exchange, and only
/// when it succeeds: a failed step forgets every identity it had looked up, and each login is a
/// new value, so a failed CRAM-MD5 exchange naming another user can never lend that user to the
/// next mechanism.
public struct AuthenticationExchange: Sendable {
    /// What the front end does next.
    public enum Step: Sendable, Equatable {
        /// Send this challenge (the protocol base64-encodes it).
        case challenge([UInt8])
        /// Run this lookup (`AccountAuthenticator.answer`), then call `answer(_:)`.
        case lookUp(CredentialLookup)
        /// Logged in as this account.
        case authenticated(account: String)
        case failed(SASLError)
    }

    private var sasl: SASLServerExchange?
    /// The account the pending lookup's answer named; cleared by every failure.
    private var candidate: String?
    private var finished = false

    /// A SASL login with `mechanism`.
    /// - Parameter nonce: makes the server's random part (injectable for test vectors).
    public init(mechanism: SASLMechanism, hostname: String, nonce: @escaping @Sendable () -> String = SASLServerExchange.randomNonce) {
        sasl = SASLServerExchange(mechanism: mechanism, hostname: hostname, nonce: nonce)
    }

    private init() { sasl = nil }

    /// A USER/PASS or IMAP LOGIN check: the exchange and its first step, the password lookup.
    public static func password(username: String, password: String) -> (AuthenticationExchange, Step) {
        var exchange = AuthenticationExchange()
        let step = exchange.map(.verifyPassword(username: username, password: password))
        return (exchange, step)
    }

    /// The first step, with the optional initial response (RFC 4954 §4).
    public mutating func start(initialResponse: [UInt8]?) -> Step {
        guard var sasl else { return fail(.malformed) }
        let step = sasl.start(initialResponse: initialResponse)
        self.sasl = sasl
        return map(step)
    }

    /// The client's next response.
    public mutating func respond(_ data: [UInt8]) -> Step {
        guard var sasl, !finished else { return fail(.malformed) }
        let step = sasl.respond(data)
        self.sasl = sasl
        return map(step)
    }

    /// The answer to the last `.lookUp`.
    public mutating func answer(_ answer: CredentialAnswer) -> Step {
        guard !finished else { return fail(.malformed) }
        switch answer {
        case .password(let account):
            candidate = account
            guard var sasl else {
                // USER/PASS: the lookup is the whole login.
                return map(account == nil ? .failure(.invalidCredentials) : .success(username: account!))
            }
            let step = sasl.passwordChecked(account != nil)
            self.sasl = sasl
            return map(step)
        case .scram(let credentials, let account):
            candidate = account
            guard var sasl else { return fail(.malformed) }
            // An unknown user's answer is a decoy (stable salt, random keys): the exchange goes on
            // exactly as for a real user and fails at the proof.
            let step = sasl.scramCredentials(account == nil ? nil : credentials, decoy: credentials ?? .decoy())
            self.sasl = sasl
            return map(step)
        case .cram(let secret, let account):
            candidate = account
            guard var sasl else { return fail(.malformed) }
            let step = sasl.cramSecret(secret)
            self.sasl = sasl
            return map(step)
        }
    }

    private mutating func map(_ step: SASLServerExchange.Step) -> Step {
        switch step {
        case .challenge(let bytes):
            return .challenge(bytes)
        case .verifyPassword(let username, let password):
            candidate = nil
            return .lookUp(.password(username: username, password: password))
        case .needSCRAMCredentials(let username):
            candidate = nil
            return .lookUp(.scram(username: username))
        case .needCRAMSecret(let username):
            candidate = nil
            return .lookUp(.cram(username: username))
        case .success:
            // Only an account a lookup of this exchange named; never the typed user name.
            guard let account = candidate else { return fail(.invalidCredentials) }
            finished = true
            candidate = nil
            return .authenticated(account: account)
        case .failure(let error):
            return fail(error)
        }
    }

    private mutating func fail(_ error: SASLError) -> Step {
        finished = true
        candidate = nil
        return .failed(error)
    }
}
