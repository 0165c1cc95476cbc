import FuzzDriver
import MailCore
import NIOCore
import SMTPProtocol

private func mailbox(_ text: String) -> MailboxAddress { try! MailboxAddress(parsing: text) }
private func path(_ text: String) -> ReversePath { .mailbox(mailbox(text)) }

/// Fuzzes the delivery client with arbitrary server bytes: the reply parser, then the client
/// session running a batch of three messages. Any trap is a bug, and every message of the batch
/// must be reported exactly once, with one result per recipient, however the peer behaves.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClientSession(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var buffer = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    var parser = SMTPReplyParser()
    var session = SMTPClientSession(settings: .init(heloName: "fuzz.test"))
    let batch = [
        OutboundMessage(
            reversePath: path("a@fuzz.test"), recipients: [.init(path: .mailbox(mailbox("x@peer.test"))), .init(path: .mailbox(mailbox("y@peer.test")))],
            content: Array("Subject: a\r\n\r\n.x\r\n".utf8)),
        OutboundMessage(reversePath: .null, recipients: [.init(path: .mailbox(mailbox("z@peer.test")))], content: Array("b\u{e9}\n".utf8)),
        OutboundMessage(reversePath: path("c@fuzz.test"), recipients: [.init(path: .mailbox(mailbox("w@peer.test")))], content: []),
    ]
    var begun = false
    var finished = 0
    func absorb(_ actions: [SMTPClientSession.Action]) {
        for action in actions {
            switch action {
            case .finished(let results):
                precondition(finished < batch.count, "more results than messages")
                precondition(results.count == batch[finished].recipients.count, "one result per recipient")
                finished += 1
            case .startTLS:
                absorb(session.tlsEstablished())
            case .ready:
                if !begun {
                    begun = true
                    absorb(session.begin(batch))
                }
            case .send, .failed:
                break
            }
        }
    }
    while true {
        let reply: SMTPReply?
        do {
            reply = try parser.next(from: &buffer)
        } catch {
            absorb(session.connectionClosed(reason: "malformed reply"))
            break
        }
        guard let reply else {
            absorb(session.connectionClosed())
            break
        }
        if session.phase == .closed { break }
        absorb(session.receive(reply))
    }
    precondition(!begun || finished == batch.count, "a message of the batch was never reported")
    return 0
}

@_cdecl("FuzzClientSession_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzClientSession(data, size) }
}
