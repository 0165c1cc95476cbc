import FuzzDriver
import NIOCore
import SMTPProtocol

/// Fuzzes the command parser (and its encode → parse round trip) and the whole server session
/// with arbitrary client bytes. The session answers every check "yes" and every store
/// "stored"; any crash, hang or trap is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCommandParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    do throws(SMTPCommandError) {
        let command = try SMTPCommandParser.parse(bytes)
        // Whatever parses encodes to a line that parses back to the same command.
        var encoded = ByteBuffer()
        command.encode(into: &encoded)
        let line = Array(encoded.readableBytesView.dropLast(2))
        precondition((try? SMTPCommandParser.parse(line)) == command, "encode → parse changed \(command)")
    } catch {
        precondition(error.reply.code >= 500, "a parse error must map to a 5xx reply")
    }

    let configuration = SMTPServerSessionConfiguration(
        hostname: "fuzz.test", kind: .submission, startTLSAvailable: true, maximumMessageSize: 4096, maximumRecipients: 5,
        authMechanisms: ["PLAIN", "LOGIN"], authRequiresTLS: false)
    var session = SMTPServerSession(configuration: configuration, now: .uptimeNanoseconds(0))
    var buffer = ByteBuffer(bytes: bytes)
    var actions = session.receive(&buffer, now: .uptimeNanoseconds(0))
    var rounds = 0
    while !actions.isEmpty {
        rounds += 1
        precondition(rounds < 100_000, "session does not make progress")
        var next: [SMTPServerSession.Action] = []
        for action in actions {
            switch action {
            case .send(let reply):
                precondition((200...599).contains(reply.code))
            case .checkSender: next += session.senderChecked(nil)
            case .checkRecipient: next += session.recipientChecked(nil)
            case .store(_, let content, _):
                precondition(content.readableBytes <= 4096, "stored more than the size limit")
                next += session.stored(.success("F"))
            case .authenticate, .authenticationResponse:
                next += size % 2 == 0 ? session.authChallenge([1, 2, 3]) : session.authSucceeded("fuzz")
            case .cancelAuthentication: break
            case .startTLS: session.tlsEstablished()
            case .close: break
            }
        }
        next += session.receive(&buffer, now: .uptimeNanoseconds(0))
        actions = next
    }
    return 0
}

@_cdecl("FuzzCommandParser_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzCommandParser(data, size) }
}
