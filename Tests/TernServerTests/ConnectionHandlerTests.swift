import Foundation
import Logging
import MailCore
import MailService
import MailStore
import MailStoreSQLite
import NIOCore
import NIOEmbedded
import POP3Protocol
import SMTPProtocol
import Testing

@testable import POP3Server
@testable import SMTPServer

/// The NIO connection handlers on an `EmbeddedChannel`: what they write for what they read,
/// backpressure, and a clean end (no bytes left unread or unwritten).
@Suite struct ConnectionHandlerTests {
    static let logger = Logger(label: "test")

    func smtpChannel(_ store: FakeStore) throws -> EmbeddedChannel {
        let policy = ReceivingPolicy(hostname: "mx.test", directory: store, queue: store, plans: ["free": PlanLimits()], hasFreeSpace: { true })
        let handler = SMTPConnectionHandler(
            configuration: SMTPServerSessionConfiguration(hostname: "mx.test", kind: .mx), policy: policy,
            authenticator: AccountAuthenticator(directory: store),
            connection: ConnectionInfo(clientAddress: "192.0.2.7", listener: .mx, clientIsTrusted: false), tlsContext: nil,
            registry: ConnectionRegistry(), limits: AbuseLimits(), logger: Self.logger)
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.7", port: 40000)).wait()
        return channel
    }

    /// Everything written so far, as text.
    func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) { text += buffer.readString(length: buffer.readableBytes) ?? "" }
        return text
    }

    func send(_ channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
        channel.pipeline.fireChannelReadComplete()
    }

    @Test func smtpTransactionThenQuit() throws {
        let store = FakeStore()
        store.statuses = ["alice@h.test": .exists]
        let channel = try smtpChannel(store)
        #expect(try written(channel).hasPrefix("220 mx.test"))
        try send(channel, "EHLO c.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<alice@h.test>\r\nDATA\r\n")
        let replies = try written(channel)
        #expect(replies.contains("250 2.1.0") && replies.contains("250 2.1.5") && replies.hasSuffix("354 End data with <CR><LF>.<CR><LF>\r\n"))
        try send(channel, "Subject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n")
        let end = try written(channel)
        #expect(end.hasPrefix("250 2.0.0 OK queued as "))
        #expect(end.hasSuffix("221 2.0.0 Bye\r\n") || end.contains("\r\n221 "))
        #expect(store.enqueued.count == 1)
        #expect(try channel.finish(acceptAlreadyClosed: true).isClean)
    }

    /// A peer that does not read: while the channel is unwritable no command is processed and
    /// no reply is produced; once writable again, every pipelined command is answered in order.
    @Test func noInputIsProcessedWhileThePeerDoesNotRead() throws {
        let channel = try smtpChannel(FakeStore())
        _ = try written(channel)
        channel.isWritable = false
        try send(channel, String(repeating: "NOOP\r\n", count: 1000))
        #expect(try written(channel).isEmpty)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        let replies = try written(channel)
        #expect(replies.components(separatedBy: "250 2.0.0 OK\r\n").count - 1 == 1000)
        try send(channel, "QUIT\r\n")
        _ = try written(channel)
        #expect(try channel.finish(acceptAlreadyClosed: true).isClean)
    }

    /// Issue 12 item 10: a cancelled AUTH ("*") counted as nothing, so a client could probe
    /// SCRAM salts or time logins forever; each one now counts as a failed login.
    @Test func cancelledAuthenticationCountsAsAFailure() throws {
        let store = FakeStore()
        let limits = AbuseLimits()
        let policy = ReceivingPolicy(hostname: "mx.test", directory: store, queue: store, plans: ["free": PlanLimits()], hasFreeSpace: { true })
        let handler = SMTPConnectionHandler(
            configuration: SMTPServerSessionConfiguration(hostname: "mx.test", kind: .submission, authMechanisms: ["PLAIN", "LOGIN"], authRequiresTLS: false),
            policy: policy, authenticator: AccountAuthenticator(directory: store),
            connection: ConnectionInfo(clientAddress: "192.0.2.9", listener: .submission, clientIsTrusted: false), tlsContext: nil,
            registry: ConnectionRegistry(), limits: limits, logger: Self.logger)
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.9", port: 40000)).wait()
        try send(channel, "EHLO c.test\r\n")
        _ = try written(channel)
        #expect(!limits.loginBlocked(from: "192.0.2.9"))
        for _ in 0..<AbuseLimits.Settings().authFailuresBeforeBlock {
            try send(channel, "AUTH LOGIN\r\n")
            #expect(try written(channel).hasPrefix("334 "))
            try send(channel, "*\r\n")
            #expect(try written(channel).hasPrefix("501 5.0.0"))
        }
        #expect(limits.loginBlocked(from: "192.0.2.9"))
        try send(channel, "AUTH LOGIN\r\n")
        #expect(try written(channel).contains("421 4.7.0"))
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }

    @Test func pop3CapaThenQuit() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-pop3-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("tern.sqlite").path)
        let handler = POP3ConnectionHandler(
            session: POP3Session(configuration: .init(hostname: "mx.test", tlsActive: false, tlsAvailable: false, mechanisms: ["PLAIN"])),
            client: "192.0.2.7", authenticator: AccountAuthenticator(directory: store), mailboxes: store, tlsContext: nil,
            limits: AbuseLimits(), locks: MaildropLocks(), idleTimeout: .minutes(10), logger: Self.logger)
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.7", port: 40000)).wait()
        #expect(try written(channel).hasPrefix("+OK"))
        try send(channel, "CAPA\r\nNOOP\r\n")
        let replies = try written(channel)
        #expect(replies.hasPrefix("+OK") && replies.contains("\r\n.\r\n"))
        try send(channel, "QUIT\r\n")
        #expect(try written(channel).hasPrefix("+OK"))
        #expect(try channel.finish(acceptAlreadyClosed: true).isClean)
    }
}
