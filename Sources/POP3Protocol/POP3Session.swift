import MailCore

/// The POP3 server session (RFC 1939) as a pure state machine: lines in, actions out. Extensions:
/// CAPA (RFC 2449), STLS (RFC 2595), AUTH (RFC 5034), response codes (RFC 2449 §8, RFC 3206).
/// The NIO handler frames lines, performs the actions (TLS, password checks, the maildrop) and
/// feeds results back through the `…Finished` methods.
public struct POP3Session: Sendable {
    public struct Configuration: Sendable {
        public var hostname: String
        /// TLS is on already (pop3s, or after STLS).
        public var tlsActive: Bool
        /// STLS can be offered (a certificate is configured).
        public var tlsAvailable: Bool
        /// USER/PASS and AUTH without TLS (`[pop3] allow_plaintext`).
        public var allowPlaintext: Bool
        /// SASL mechanisms offered, e.g. ["PLAIN", "LOGIN", "SCRAM-SHA-256"].
        public var mechanisms: [String]

        public init(hostname: String, tlsActive: Bool, tlsAvailable: Bool, allowPlaintext: Bool = false, mechanisms: [String]) {
            self.hostname = hostname
            self.tlsActive = tlsActive
            self.tlsAvailable = tlsAvailable
            self.allowPlaintext = allowPlaintext
            self.mechanisms = mechanisms
        }
    }

    /// One message of the maildrop as the session numbers it (RFC 1939 §5: 1-based, fixed for
    /// the session).
    public struct Entry: Equatable, Sendable {
        public var uid: Int
        public var size: Int
        /// The UIDL unique-id: 1 to 70 characters 0x21–0x7E, never reused (RFC 1939 §7).
        public var uniqueID: String

        public init(uid: Int, size: Int, uniqueID: String) {
            self.uid = uid
            self.size = size
            self.uniqueID = uniqueID
        }
    }

    public enum Action: Equatable, Sendable {
        /// Bytes to write: a status line, or a whole multi-line response.
        case send([UInt8])
        /// Start TLS now; input read before this point must be discarded (RFC 2595 §4).
        case startTLS
        case checkPassword(user: String, password: String)
        /// Begin a SASL exchange; answer with `saslChallenge` or `authenticationFinished`.
        case saslStart(mechanism: String, initialResponse: [UInt8]?)
        case saslResponse([UInt8])
        /// The client cancelled its SASL exchange or sent bad base64: it counts as a failed
        /// login (else cancelling would be a free way to probe for user names).
        case authenticationAbandoned
        /// Lock and list the user's maildrop; answer with `maildropOpened`.
        case openMaildrop(user: String)
        /// Load a message's content; answer with `retrieved`.
        case retrieve(uid: Int)
        /// QUIT in TRANSACTION: remove these UIDs, unlock; answer with `updateFinished`.
        case update(deleting: [Int])
        /// Unlock the maildrop without changes (connection ends or fails).
        case release
        case close
    }

    enum State: Equatable {
        case authorization(user: String?)
        case sasl
        case waiting
        case transaction
        case closed
    }

    public private(set) var configuration: Configuration
    var state: State = .authorization(user: nil)
    var entries: [Entry] = []
    var deleted: Set<Int> = []
    /// What `retrieved` completes: RETR, or TOP with this many body lines.
    var pendingRetrieval: (number: Int, topLines: Int?)?
    var user: String?
    /// Commands longer than this are refused (RFC 2449 §4: 255 octets with CRLF).
    public static let maximumCommandLength = 255

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public var isInTransaction: Bool { state == .transaction }
    public var authenticatedUser: String? { user }

    public func greeting() -> [Action] {
        [.send(Self.ok("\(configuration.hostname) POP3 server ready"))]
    }

    static func ok(_ text: String) -> [UInt8] { Array("+OK \(text)\r\n".utf8) }
    static func err(_ text: String) -> [UInt8] { Array("-ERR \(text)\r\n".utf8) }

    var mayAuthenticate: Bool { configuration.tlsActive || configuration.allowPlaintext }

    /// One line from the client, without its CRLF.
    public mutating func receive(line: [UInt8]) -> [Action] {
        if state == .sasl {
            // RFC 5034 §4: "*" cancels; otherwise a base64 response.
            if line == [UInt8(ascii: "*")] {
                state = .authorization(user: nil)
                return [.authenticationAbandoned, .send(Self.err("[AUTH] Authentication cancelled"))]
            }
            guard let decoded = Base64Text.decode(line) else {
                state = .authorization(user: nil)
                return [.authenticationAbandoned, .send(Self.err("[AUTH] Invalid base64 in the response"))]
            }
            state = .waiting
            return [.saslResponse(decoded)]
        }
        guard line.count + 2 <= Self.maximumCommandLength else { return [.send(Self.err("Command line too long"))] }
        guard state != .waiting, state != .closed else { return [] }
        let text = String(decoding: line, as: UTF8.self)
        let space = text.firstIndex(of: " ")
        let keyword = (space.map { String(text[..<$0]) } ?? text).uppercased()
        let argument = space.map { String(text[text.index(after: $0)...]) } ?? ""
        let arguments = argument.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        switch keyword {
        case "CAPA": return [.send(capabilities())]
        case "QUIT": return quit()
        default: break
        }
        switch state {
        case .authorization(let pendingUser):
            return authorization(keyword, argument: argument, arguments: arguments, pendingUser: pendingUser)
        case .transaction:
            return transaction(keyword, arguments: arguments)
        case .sasl, .waiting, .closed:
            return []
        }
    }

    func capabilities() -> [UInt8] {
        var lines = ["+OK Capability list follows", "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "IMPLEMENTATION Tern"]
        if state == .transaction {
            lines.append("EXPIRE NEVER")
        } else {
            if !configuration.tlsActive && configuration.tlsAvailable { lines.append("STLS") }
            // RFC 2595 §4 spirit: do not advertise what would be refused before TLS.
            if mayAuthenticate {
                lines.append("USER")
                if !configuration.mechanisms.isEmpty { lines.append("SASL " + configuration.mechanisms.joined(separator: " ")) }
            }
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n.\r\n").utf8)
    }

    mutating func authorization(_ keyword: String, argument: String, arguments: [String], pendingUser: String?) -> [Action] {
        switch keyword {
        case "STLS":
            guard !configuration.tlsActive, configuration.tlsAvailable else { return [.send(Self.err("STLS not available"))] }
            guard arguments.isEmpty else { return [.send(Self.err("STLS takes no argument"))] }
            configuration.tlsActive = true
            state = .authorization(user: nil)
            return [.send(Self.ok("Begin TLS negotiation")), .startTLS]
        case "USER":
            guard mayAuthenticate else { return [.send(Self.err("[AUTH] Plaintext login is disabled; use STLS first"))] }
            guard arguments.count == 1 else { return [.send(Self.err("USER takes one argument"))] }
            state = .authorization(user: arguments[0])
            return [.send(Self.ok("Send PASS"))]
        case "PASS":
            guard mayAuthenticate else { return [.send(Self.err("[AUTH] Plaintext login is disabled; use STLS first"))] }
            guard let user = pendingUser else { return [.send(Self.err("USER first"))] }
            // RFC 1939 §7: the password is the rest of the line; it may contain spaces.
            guard !argument.isEmpty else { return [.send(Self.err("PASS needs a password"))] }
            state = .waiting
            return [.checkPassword(user: user, password: argument)]
        case "AUTH":
            guard mayAuthenticate else { return [.send(Self.err("[AUTH] Authentication is disabled without TLS; use STLS first"))] }
            guard let mechanism = arguments.first?.uppercased() else {
                // RFC 5034 §4 allows AUTH without arguments as a listing (as CAPA SASL).
                return [.send(Array((["+OK"] + configuration.mechanisms + ["."]).joined(separator: "\r\n").utf8) + [13, 10])]
            }
            guard configuration.mechanisms.contains(mechanism) else { return [.send(Self.err("Unsupported mechanism \(mechanism)"))] }
            var initial: [UInt8]?
            if arguments.count > 1 {
                if arguments[1] == "=" {
                    initial = []
                } else {
                    guard let decoded = Base64Text.decode(Array(arguments[1].utf8)) else { return [.send(Self.err("[AUTH] Invalid base64 in the initial response"))] }
                    initial = decoded
                }
            }
            state = .waiting
            return [.saslStart(mechanism: mechanism, initialResponse: initial)]
        case "APOP":
            return [.send(Self.err("APOP is not supported"))]
        default:
            return [.send(Self.err("Unknown command or not allowed before login"))]
        }
    }

    mutating func transaction(_ keyword: String, arguments: [String]) -> [Action] {
        switch keyword {
        case "STAT":
            let live = liveEntries
            return [.send(Self.ok("\(live.count) \(live.reduce(0) { $0 + $1.1.size })"))]
        case "LIST", "UIDL":
            let unique = keyword == "UIDL"
            if let first = arguments.first {
                guard arguments.count == 1 else { return [.send(Self.err("Too many arguments"))] }
                switch entry(first) {
                case .failure(let error): return [.send(error.reply)]
                case .success(let (number, entry)): return [.send(Self.ok("\(number) \(unique ? entry.uniqueID : String(entry.size))"))]
                }
            }
            var text = "+OK \(liveEntries.count) messages\r\n"
            for (number, entry) in liveEntries { text += "\(number) \(unique ? entry.uniqueID : String(entry.size))\r\n" }
            return [.send(Array((text + ".\r\n").utf8))]
        case "RETR", "TOP":
            let expected = keyword == "RETR" ? 1 : 2
            guard arguments.count == expected else { return [.send(Self.err("\(keyword) takes \(expected) argument\(expected == 1 ? "" : "s")"))] }
            var topLines: Int?
            if keyword == "TOP" {
                guard let n = Int(arguments[1]), n >= 0 else { return [.send(Self.err("Invalid line count"))] }
                topLines = n
            }
            switch entry(arguments[0]) {
            case .failure(let error): return [.send(error.reply)]
            case .success(let (number, entry)):
                pendingRetrieval = (number, topLines)
                state = .waiting
                return [.retrieve(uid: entry.uid)]
            }
        case "DELE":
            guard arguments.count == 1 else { return [.send(Self.err("DELE takes one argument"))] }
            switch entry(arguments[0]) {
            case .failure(let error): return [.send(error.reply)]
            case .success(let (number, _)):
                deleted.insert(number)
                return [.send(Self.ok("Message \(number) deleted"))]
            }
        case "RSET":
            deleted = []
            return [.send(Self.ok("Maildrop has \(entries.count) messages"))]
        case "NOOP":
            return [.send(Self.ok(""))]
        case "STLS", "USER", "PASS", "AUTH", "APOP":
            return [.send(Self.err("Already logged in"))]
        default:
            return [.send(Self.err("Unknown command"))]
        }
    }

    var liveEntries: [(Int, Entry)] {
        entries.enumerated().compactMap { deleted.contains($0.offset + 1) ? nil : ($0.offset + 1, $0.element) }
    }

    func entry(_ text: String) -> Result<(Int, Entry), MessageNumberError> {
        guard let number = Int(text), text.allSatisfy(\.isNumber), number >= 1, number <= entries.count else {
            return .failure(MessageNumberError(reply: Self.err("No such message")))
        }
        guard !deleted.contains(number) else { return .failure(MessageNumberError(reply: Self.err("Message \(number) already deleted"))) }
        return .success((number, entries[number - 1]))
    }

    struct MessageNumberError: Error {
        var reply: [UInt8]
    }

    mutating func quit() -> [Action] {
        switch state {
        case .transaction:
            state = .waiting
            let uids = deleted.sorted().map { entries[$0 - 1].uid }
            return [.update(deleting: uids)]
        default:
            state = .closed
            return [.send(Self.ok("\(configuration.hostname) signing off")), .close]
        }
    }

    // MARK: results of actions

    /// The answer to `checkPassword` or the end of a SASL exchange: the account, or nil.
    public mutating func authenticationFinished(user: String?) -> [Action] {
        guard let user else {
            state = .authorization(user: nil)
            return [.send(Self.err("[AUTH] Authentication failed"))]
        }
        self.user = user
        state = .waiting
        return [.openMaildrop(user: user)]
    }

    /// A SASL challenge to send (`+ base64`).
    public mutating func saslChallenge(_ challenge: [UInt8]) -> [Action] {
        state = .sasl
        return [.send(Array("+ \(Base64Text.encode(challenge))\r\n".utf8))]
    }

    /// The maildrop, or nil when another session holds it (RFC 2449 §8.1.1 [IN-USE]).
    public mutating func maildropOpened(_ entries: [Entry]?) -> [Action] {
        guard let entries else {
            user = nil
            state = .authorization(user: nil)
            return [.send(Self.err("[IN-USE] Maildrop is in use by another session"))]
        }
        self.entries = entries
        deleted = []
        state = .transaction
        return [.send(Self.ok("Maildrop has \(entries.count) messages (\(entries.reduce(0) { $0 + $1.size }) octets)"))]
    }

    /// The content asked for by `retrieve`, or nil if it went away.
    public mutating func retrieved(_ content: [UInt8]?) -> [Action] {
        state = .transaction
        guard let (_, topLines) = pendingRetrieval else { return [] }
        pendingRetrieval = nil
        guard let content else { return [.send(Self.err("[SYS/TEMP] Message could not be read"))] }
        let body = topLines.map { MultilineBody.top(content, lines: $0) } ?? content
        var out = Self.ok(topLines == nil ? "\(content.count) octets" : "Top of message follows")
        out += DotStuffing.stuffed(body)
        return [.send(out)]
    }

    /// After `update`: whether every deletion was made (RFC 1939 §6).
    public mutating func updateFinished(_ ok: Bool) -> [Action] {
        state = .closed
        let reply = ok ? Self.ok("\(configuration.hostname) signing off") : Self.err("[SYS/TEMP] Some deleted messages were not removed")
        return [.send(reply), .close]
    }
}
