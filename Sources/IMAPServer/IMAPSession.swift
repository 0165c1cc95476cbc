import IMAPProtocol
import MailCore
import MailService
import MailStore
import SASL

/// Settings of IMAP sessions (`[imap]`).
public struct IMAPSessionSettings: Sendable {
    public var hostname: String
    /// LOGIN and AUTHENTICATE without TLS (`[imap] allow_plaintext`); off by default.
    public var allowPlaintext: Bool
    public var mechanisms: [String]
    /// The largest message APPEND takes (APPENDLIMIT, RFC 7889).
    public var maximumMessageSize: Int
    /// RFC 9051 §5.4: an autologout timer of at least 30 minutes.
    public var autologout: Duration
    /// How often IDLE says `* OK Still here`, so NAT boxes keep the connection.
    public var idleKeepalive: Duration
    /// How often a selected session looks for changes made by other processes.
    public var pollInterval: Duration

    public init(
        hostname: String, allowPlaintext: Bool = false, mechanisms: [String] = ["PLAIN", "LOGIN", "SCRAM-SHA-256"],
        maximumMessageSize: Int = 26_214_400, autologout: Duration = .seconds(30 * 60), idleKeepalive: Duration = .seconds(120),
        pollInterval: Duration = .seconds(5)
    ) {
        self.hostname = hostname
        self.allowPlaintext = allowPlaintext
        self.mechanisms = mechanisms
        self.maximumMessageSize = maximumMessageSize
        self.autologout = autologout
        self.idleKeepalive = idleKeepalive
        self.pollInterval = pollInterval
    }
}

/// One IMAP connection's session (RFC 9051, RFC 3501 compatible): reads commands, answers them
/// from the mailbox store. It runs in one task, command after command; the parser, the response
/// writers and the selected-mailbox view it uses are the pure `IMAPProtocol` module.
///
/// `@unchecked Sendable`: made on the event loop, handed once to the task that runs it, and
/// touched by nothing else afterwards (every other party talks to it through its input stream).
public final class IMAPSession: @unchecked Sendable {
    enum State: Equatable {
        case notAuthenticated, authenticated, selected, logout
    }

    struct Selection {
        var mailbox: Mailbox
        var view: MailboxView
        var readOnly: Bool
    }

    let settings: IMAPSessionSettings
    let transport: any IMAPTransport
    let mailboxes: any MailboxRepository
    let authenticator: AccountAuthenticator
    let limits: AbuseLimits
    let client: String
    let structures: MessageStructureCache
    /// Puts an event into the session's own input (ticks, mailbox wake-ups).
    let wakeUp: @Sendable (IMAPSessionInput) -> Void
    var tlsActive: Bool
    let tlsAvailable: Bool

    var state = State.notAuthenticated
    var user: String?
    var selection: Selection?
    /// The view of the folder last selected and closed, for a SELECT of it again.
    var retained: Selection?
    /// ENABLEd extensions (RFC 5161): IMAP4REV2, CONDSTORE, QRESYNC, UTF8=ACCEPT.
    var enabled: Set<String> = []
    /// CONDSTORE is on once enabled or once a command used it (RFC 7162 §3.1).
    var condstore = false
    /// SEARCHRES (RFC 5182): the last SEARCH … RETURN (SAVE) result, as UIDs.
    var savedResult: Set<UInt32> = []
    /// A process-local wake-up arrived: look for changes at the end of the next command.
    var dirty = false
    var lastCommand = ContinuousClock.now
    var lastPoll = ContinuousClock.now
    var out = IMAPResponseBuffer(capacity: 4096)
    var watchID: Int?
    var watcher: Task<Void, Never>?

    public init(
        settings: IMAPSessionSettings, transport: any IMAPTransport, mailboxes: any MailboxRepository, authenticator: AccountAuthenticator,
        limits: AbuseLimits, client: String, structures: MessageStructureCache, tlsActive: Bool, tlsAvailable: Bool,
        wakeUp: @escaping @Sendable (IMAPSessionInput) -> Void
    ) {
        self.wakeUp = wakeUp
        self.settings = settings
        self.transport = transport
        self.mailboxes = mailboxes
        self.authenticator = authenticator
        self.limits = limits
        self.client = client
        self.structures = structures
        self.tlsActive = tlsActive
        self.tlsAvailable = tlsAvailable
    }

    var rev2: Bool { enabled.contains("IMAP4REV2") }
    var utf8: Bool { enabled.contains("UTF8=ACCEPT") || rev2 }
    var qresync: Bool { enabled.contains("QRESYNC") }
    var mayLogIn: Bool { tlsActive || settings.allowPlaintext }

    /// Runs until LOGOUT, autologout or the connection's end.
    public func run(_ input: AsyncStream<IMAPSessionInput>) async {
        var events = input.makeAsyncIterator()
        let wakeUp = self.wakeUp
        let interval = min(settings.pollInterval, settings.idleKeepalive)
        let ticks = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                wakeUp(.tick)
            }
        }
        defer {
            ticks.cancel()
            watcher?.cancel()
            if let watchID { mailboxes.mailboxSignals.stop(watchID) }
        }
        out.raw("* OK [CAPABILITY \(capabilities)] \(settings.hostname) IMAP4rev2 server ready\r\n")
        await flush()
        while state != .logout, let event = await events.next() {
            switch event {
            case .command(let bytes):
                lastCommand = .now
                await handle(bytes, &events)
                transport.commandFinished()
            case .lineTooLong(let tag):
                out.raw("\(tag ?? "*") BAD Command line too long\r\n")
                await flush()
                transport.commandFinished()
            case .literalTooLarge(let tag, let mustClose):
                if mustClose {
                    out.raw("* BYE [TOOBIG] Literal too large\r\n")
                    await flush()
                    state = .logout
                } else {
                    out.raw("\(tag ?? "*") NO [TOOBIG] Literal too large\r\n")
                    await flush()
                }
                transport.commandFinished()
            case .mailboxChanged(let mailboxID, let modSeq):
                noteChange(mailboxID: mailboxID, modSeq: modSeq)
            case .tick:
                if ContinuousClock.now - lastCommand > settings.autologout {
                    out.raw("* BYE Autologout; idle for too long\r\n")
                    await flush()
                    state = .logout
                }
            case .closed:
                state = .logout
            }
        }
        await transport.close()
    }

    /// Whether a change needs a look at the store: not when it is to another folder, nor when
    /// the view is already at its MODSEQ (the session's own STORE, APPEND or EXPUNGE).
    func noteChange(mailboxID: Int?, modSeq: Int) {
        guard let selected = selection else { return }
        if let mailboxID {
            if mailboxID == selected.mailbox.id && UInt64(modSeq) > selected.view.highestModSeq { dirty = true }
        } else {
            dirty = true
        }
    }

    /// Wake-ups for changes to the user's folders made by this process (deliveries, other sessions).
    func watchMailboxes(_ user: String) {
        let (id, changes) = mailboxes.mailboxSignals.watch(user: user)
        watchID = id
        let wakeUp = self.wakeUp
        watcher = Task {
            for await change in changes { wakeUp(.mailboxChanged(mailboxID: change.mailboxID, modSeq: change.modSeq)) }
        }
    }

    func flush() async {
        guard !out.bytes.isEmpty else { return }
        let bytes = out.bytes
        out.reset()
        await transport.send(bytes)
    }

    var capabilities: String {
        var list = ["IMAP4rev1", "IMAP4rev2", "LITERAL+", "SASL-IR", "ENABLE", "ID"]
        switch state {
        case .notAuthenticated:
            if tlsAvailable && !tlsActive { list.append("STARTTLS") }
            if mayLogIn {
                list += settings.mechanisms.map { "AUTH=\($0)" }
            } else {
                list.append("LOGINDISABLED")
            }
        default:
            list += [
                "IDLE", "NAMESPACE", "UIDPLUS", "MOVE", "UNSELECT", "CHILDREN", "LIST-EXTENDED", "LIST-STATUS", "SPECIAL-USE", "CONDSTORE",
                "QRESYNC", "ESEARCH", "SEARCHRES", "UTF8=ACCEPT", "QUOTA", "QUOTA=RES-STORAGE", "STATUS=SIZE", "BINARY",
                "APPENDLIMIT=\(settings.maximumMessageSize)",
            ]
        }
        return list.joined(separator: " ")
    }

    /// One command, answered in full (untagged data, then the tagged status).
    func handle(_ bytes: [UInt8], _ events: inout AsyncStream<IMAPSessionInput>.Iterator) async {
        let command: IMAPCommand
        switch IMAPCommandParser.parse(bytes) {
        case .success(let parsed): command = parsed
        case .failure(let error):
            out.raw("\(error.tag ?? "*") BAD \(error.message)\r\n")
            return await flush()
        }
        let tag = command.tag
        if let refusal = refusal(for: command.kind) {
            out.raw("\(tag) \(refusal)\r\n")
            return await flush()
        }
        switch command.kind {
        case .capability:
            out.raw("* CAPABILITY \(capabilities)\r\n")
            ok(tag, "CAPABILITY completed")
        case .noop, .check:
            await poll(allowExpunge: true, force: true)
            ok(tag, "NOOP completed")
        case .logout:
            out.raw("* BYE Logging out\r\n")
            ok(tag, "LOGOUT completed")
            state = .logout
        case .id:
            out.raw("* ID (\"name\" \"Tern\")\r\n")
            ok(tag, "ID completed")
        case .startTLS:
            await startTLS(tag)
            return
        case .login(let username, let password):
            await login(tag, username: username, password: password)
        case .authenticate(let mechanism, let initial):
            await authenticate(tag, mechanism: mechanism, initialResponse: initial, &events)
        case .enable(let names):
            enable(tag, names)
        case .namespace:
            out.raw("* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n")
            ok(tag, "NAMESPACE completed")
        case .select(let name, let parameters), .examine(let name, let parameters):
            var examine = false
            if case .examine = command.kind { examine = true }
            await select(tag, name, parameters, readOnly: examine)
        case .create(let name): await create(tag, name)
        case .delete(let name): await delete(tag, name)
        case .rename(let from, let to): await rename(tag, from, to)
        case .subscribe(let name): await subscribe(tag, name, true)
        case .unsubscribe(let name): await subscribe(tag, name, false)
        case .list(let list): await self.list(tag, list)
        case .lsub(let reference, let pattern): await lsub(tag, reference, pattern)
        case .status(let name, let items): await status(tag, name, items)
        case .append(let name, let flags, let date, let message): await append(tag, name, flags, date, message)
        case .getQuota(let root): await getQuota(tag, root)
        case .getQuotaRoot(let name): await getQuotaRoot(tag, name)
        case .setQuota: out.raw("\(tag) NO [NOPERM] Quotas are set by the administrator\r\n")
        case .idle: await idle(tag, &events)
        case .close: await close(tag, expunge: true)
        case .unselect: await close(tag, expunge: false)
        case .expunge: await expunge(tag, only: nil)
        case .uidExpunge(let set): await expunge(tag, only: set)
        case .fetch(let set, let attributes, let changedSince, let vanished, let uid):
            await fetch(tag, set, attributes, changedSince: changedSince, vanished: vanished, uid: uid)
        case .store(let set, let flags, let unchangedSince, let uid): await store(tag, set, flags, unchangedSince: unchangedSince, uid: uid)
        case .search(let search, let uid): await self.search(tag, search, uid: uid)
        case .copy(let set, let name, let uid): await copy(tag, set, name, uid: uid, move: false)
        case .move(let set, let name, let uid): await copy(tag, set, name, uid: uid, move: true)
        }
        await flush()
    }

    /// Commands not valid in the current state (RFC 9051 §3) get `BAD`.
    func refusal(for kind: IMAPCommand.Kind) -> String? {
        switch kind {
        case .capability, .noop, .logout, .id:
            return nil
        case .startTLS, .login, .authenticate:
            return state == .notAuthenticated ? nil : "BAD Already logged in"
        case .enable, .select, .examine, .create, .delete, .rename, .subscribe, .unsubscribe, .list, .lsub, .namespace, .status, .append, .idle,
            .getQuota, .getQuotaRoot, .setQuota:
            return state == .notAuthenticated ? "BAD Log in first" : nil
        case .check, .close, .unselect, .expunge, .uidExpunge, .fetch, .store, .search, .copy, .move:
            return state == .selected ? nil : "BAD No mailbox selected"
        }
    }

    func ok(_ tag: String, _ text: String) { out.raw("\(tag) OK \(text)\r\n") }

    /// Looks for changes (other sessions, deliveries) and announces them. Without `force`,
    /// only after a wake-up or when the poll interval has passed.
    func poll(allowExpunge: Bool, force: Bool = false) async {
        guard var selected = selection else { return }
        guard force || dirty || ContinuousClock.now - lastPoll > settings.pollInterval else {
            selected.view.announce(allowExpunge: allowExpunge, condstore: condstore, qresync: qresync, rev1: !rev2, out: &out)
            selection = selected
            return
        }
        dirty = false
        lastPoll = .now
        if let changes = try? await mailboxes.changes(mailboxID: selected.mailbox.id, since: Int(selected.view.highestModSeq)) {
            selected.view.apply(
                changes: changes.messages.map(Self.viewChange),
                expunged: changes.expunged.map { UInt32($0) }, highestModSeq: UInt64(changes.highestModSeq))
        }
        selected.view.announce(allowExpunge: allowExpunge, condstore: condstore, qresync: qresync, rev1: !rev2, out: &out)
        selection = selected
    }

    func enable(_ tag: String, _ names: [String]) {
        var now: [String] = []
        for name in names.map({ $0.uppercased() }) {
            guard ["IMAP4REV2", "CONDSTORE", "QRESYNC", "UTF8=ACCEPT"].contains(name), !enabled.contains(name) else { continue }
            enabled.insert(name)
            now.append(name)
            // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
            if name == "QRESYNC" || name == "CONDSTORE" { condstore = true }
        }
        out.utf8Quoted = utf8
        out.raw("* ENABLED\(now.map { " " + $0 }.joined())\r\n")
        ok(tag, "ENABLE completed")
    }

    func startTLS(_ tag: String) async {
        guard tlsAvailable, !tlsActive else {
            out.raw("\(tag) BAD STARTTLS is not available here\r\n")
            return await flush()
        }
        await flush()
        if await transport.startTLS(after: Array("\(tag) OK Begin TLS negotiation now\r\n".utf8)) {
            tlsActive = true
        } else {
            state = .logout
        }
    }
}
