import FuzzDriver
import POP3Protocol

/// Fuzzes the POP3 server session with arbitrary client lines after a login, answering every
/// action as the server would. Any trap is a bug; so is a retrieval or deletion of a UID the
/// maildrop does not have, or a multi-line response without its terminator.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPOP3Session(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let tls = size > 0 && input[0] & 1 == 1
    var session = POP3Session(
        configuration: .init(hostname: "fuzz.test", tlsActive: tls, tlsAvailable: true, allowPlaintext: input.first.map { $0 & 2 == 2 } ?? false,
                             mechanisms: ["PLAIN", "LOGIN"]))
    let entries = [POP3Session.Entry(uid: 3, size: 10, uniqueID: "1-3"), .init(uid: 8, size: 20, uniqueID: "1-8")]
    let uids = Set(entries.map(\.uid))
    func absorb(_ actions: [POP3Session.Action]) {
        for action in actions {
            switch action {
            case .send(let bytes):
                precondition(bytes.count >= 2 && bytes.suffix(2) == [13, 10], "every response ends in CRLF")
            case .retrieve(let uid):
                precondition(uids.contains(uid), "retrieve of an unknown UID")
                absorb(session.retrieved(uid == 3 ? Array(".a\r\nb\n.\r\n".utf8) : nil))
            case .update(let deleting):
                precondition(Set(deleting).isSubset(of: uids), "delete of an unknown UID")
                absorb(session.updateFinished(deleting.count % 2 == 0))
            case .checkPassword(let user, _):
                absorb(session.authenticationFinished(user: user.count % 2 == 0 ? user : nil))
            case .saslStart, .saslResponse:
                absorb(session.saslChallenge([1, 2, 3]))
            case .openMaildrop:
                absorb(session.maildropOpened(entries))
            case .startTLS, .release, .close, .authenticationAbandoned:
                break
            }
        }
    }
    absorb(session.greeting())
    for line in input.dropFirst().split(separator: 0x0A, omittingEmptySubsequences: false) {
        absorb(session.receive(line: Array(line.last == 0x0D ? line.dropLast() : line)))
    }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("FuzzPOP3Session_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzPOP3Session(data, size) }
}
