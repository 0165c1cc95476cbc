import IMAPProtocol
import MailCore
import MailService
import SASL

/// LOGIN and AUTHENTICATE (RFC 9051 §6.2.2–6.2.3, SASL-IR of RFC 4959): the same
/// `AuthenticationExchange` and `AbuseLimits` as SMTP AUTH and POP3.
extension IMAPSession {
    func login(_ tag: String, username: [UInt8], password: [UInt8]) async {
        guard mayLogIn else {
            out.raw("\(tag) NO [PRIVACYREQUIRED] Use STARTTLS first\r\n")
            return
        }
        guard !limits.loginBlocked(from: client) else { return await refuseBlocked(tag) }
        let (exchange, step) = AuthenticationExchange.password(
            username: String(decoding: username, as: UTF8.self), password: String(decoding: password, as: UTF8.self))
        var current = exchange
        var next = step
        while true {
            switch next {
            case .lookUp(let lookup):
                next = current.answer(await authenticator.answer(lookup))
            case .authenticated(let account):
                return await loggedIn(tag, account)
            case .challenge, .failed:
                return await loginFailed(tag)
            }
        }
    }

    func authenticate(_ tag: String, mechanism: String, initialResponse: [UInt8]?, _ events: inout AsyncStream<IMAPSessionInput>.Iterator) async {
        guard mayLogIn else {
            out.raw("\(tag) NO [PRIVACYREQUIRED] Use STARTTLS first\r\n")
            return
        }
        guard settings.mechanisms.contains(mechanism), let parsed = SASLMechanism(rawValue: mechanism) else {
            out.raw("\(tag) NO [CANNOT] Unsupported mechanism\r\n")
            return
        }
        guard !limits.loginBlocked(from: client) else { return await refuseBlocked(tag) }
        // SASL-IR (RFC 4959 §3): the parser hands over the base64 text ("=" read as empty).
        var initial: [UInt8]?
        if let initialResponse {
            guard let decoded = initialResponse.isEmpty ? [] : Base64Text.decode(initialResponse) else {
                out.raw("\(tag) BAD Invalid base64 in the initial response\r\n")
                return
            }
            initial = decoded
        }
        var exchange = AuthenticationExchange(mechanism: parsed, hostname: settings.hostname)
        var next = exchange.start(initialResponse: initial)
        while true {
            switch next {
            case .lookUp(let lookup):
                next = exchange.answer(await authenticator.answer(lookup))
            case .authenticated(let account):
                return await loggedIn(tag, account)
            case .failed:
                return await loginFailed(tag)
            case .challenge(let challenge):
                out.raw("+ \(Base64Text.encode(challenge))\r\n")
                await flush()
                // The response is one line (RFC 9051 §6.2.2); "*" cancels.
                guard var line = await continuationLine(&events) else {
                    state = .logout
                    return
                }
                if line.suffix(2) == [0x0D, 0x0A] { line.removeLast(2) }
                if line == [UInt8(ascii: "*")] {
                    _ = limits.loginFailed(from: client, protocol: "imap")
                    out.raw("\(tag) BAD Authentication cancelled\r\n")
                    return
                }
                guard let decoded = Base64Text.decode(line) else {
                    _ = limits.loginFailed(from: client, protocol: "imap")
                    out.raw("\(tag) BAD Invalid base64 in the response\r\n")
                    return
                }
                next = exchange.respond(decoded)
            }
        }
    }

    /// The next line the client sends inside a command (a SASL response, IDLE's DONE); timer
    /// ticks and wake-ups in between are set aside. Each line read frees the handler's queue.
    func continuationLine(_ events: inout AsyncStream<IMAPSessionInput>.Iterator) async -> [UInt8]? {
        while let event = await events.next() {
            switch event {
            case .command(let line):
                transport.commandFinished()
                return line
            case .mailboxChanged(let mailboxID, let modSeq):
                noteChange(mailboxID: mailboxID, modSeq: modSeq)
            case .tick:
                continue
            case .lineTooLong, .literalTooLarge:
                transport.commandFinished()
                return []
            case .closed:
                return nil
            }
        }
        return nil
    }

    func loggedIn(_ tag: String, _ account: String) async {
        limits.loginSucceeded(from: client)
        user = account
        state = .authenticated
        watchMailboxes(account)
        transport.authenticated()
        out.raw("\(tag) OK [CAPABILITY \(capabilities)] Logged in\r\n")
    }

    /// A failed login is answered after the shared throttle's delay (RFC 9051 §6.2.3 leaves
    /// it to the server); past its limit the client is cut off.
    func loginFailed(_ tag: String) async {
        let penalty = limits.loginFailed(from: client, protocol: "imap")
        if penalty.delay > .zero { try? await Task.sleep(for: penalty.delay) }
        if penalty.blocked { return await refuseBlocked(tag) }
        out.raw("\(tag) NO [AUTHENTICATIONFAILED] Authentication failed\r\n")
    }

    func refuseBlocked(_ tag: String) async {
        out.raw("\(tag) NO [UNAVAILABLE] Too many failed logins from your address; try again later\r\n")
        out.raw("* BYE Too many failed logins\r\n")
        await flush()
        state = .logout
    }
}
