import FuzzDriver
import IMAPProtocol
import MailCore

/// Fuzzes the IMAP command framer and parser with arbitrary client bytes. Invariants: nothing
/// traps; the framer gives the same events whether the bytes come at once or one by one (it
/// keeps no state that depends on how input is split); every command it delivers ends in CRLF;
/// the parser answers every delivered command (a command or a BAD); modified UTF-7 that decodes
/// encodes back to itself; sequence sets print as they parse. Each parsed FETCH, STORE, SEARCH
/// and EXPUNGE is then run as a session would, on a fixed selected-mailbox view: sequence sets
/// resolve to messages inside it, FETCH answers are written, SEARCH keys are evaluated, and the
/// view's announcements stay consistent with its count.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIMAPCommand(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = IMAPCommandFramer.Limits(maximumLineLength: 512, maximumLiteral: 1024, maximumCommand: 2048)
    var whole = IMAPCommandFramer(limits: limits)
    let all = whole.append(bytes)
    var drip = IMAPCommandFramer(limits: limits)
    var dripped: [IMAPCommandFramer.Event] = []
    for byte in bytes { dripped += drip.append([byte]) }
    precondition(all == dripped, "splitting the input changed the events")
    for event in all {
        guard case .command(let command) = event else { continue }
        precondition(command.suffix(2) == [0x0D, 0x0A], "a command ends in CRLF")
        if case .success(let parsed) = IMAPCommandParser.parse(command) { runAsSession(parsed.kind) }
    }
    let text = String(decoding: bytes, as: UTF8.self)
    if let name = ModifiedUTF7.decode(text) { precondition(ModifiedUTF7.encode(name) == text, "modified UTF-7 round-trips") }
    if let set = SequenceSet(parsing: Substring(text)), !set.isSavedResult { precondition(set.description == text, "sequence sets print as parsed") }
    return 0
}

let sample = Array("From: a@x.test\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\n--b--\r\n".utf8)
let sampleStructure = MIMEPart(message: sample)

func runAsSession(_ kind: IMAPCommand.Kind) {
    var view = MailboxView(uidValidity: 1, messages: [2, 4, 6, 8, 10].map { MailboxView.Message(uid: $0, flags: [], modSeq: 1) }, highestModSeq: 1)
    switch kind {
    case .fetch(let set, let attributes, _, _, let uid):
        guard let indices = view.indices(set, uid: uid) else { return }
        for index in indices {
            precondition(index >= 0 && index < view.count, "a resolved index is in the mailbox")
            var out = IMAPResponseBuffer()
            let message = FetchedMessage(sequence: index + 1, uid: view.messages[index].uid, flags: [], modSeq: 1, internalDate: 0, size: sample.count, content: sample, structure: sampleStructure)
            try? FetchResponse.write(message, attributes: attributes, includeUID: uid, out: &out)
        }
    case .search(let command, _):
        let evaluator = SearchEvaluator(largestSequence: 5, largestUID: 10)
        for (index, message) in view.messages.enumerated() {
            _ = evaluator.matches(command.key, SearchEvaluator.Message(sequence: index + 1, uid: message.uid, flags: message.flags, modSeq: 1, internalDate: 0, size: 10, content: sample, structure: sampleStructure))
        }
    case .store(let set, let flags, _, let uid):
        guard let indices = view.indices(set, uid: uid) else { return }
        for index in indices { view.setFlags(at: index, flags.flags, modSeq: 2) }
        view.apply(changes: [MailboxView.Change(uid: 12, flags: flags.flags, modSeq: 3)], expunged: indices.map { view.messages[$0].uid }, highestModSeq: 3)
        var out = IMAPResponseBuffer()
        view.announce(allowExpunge: true, condstore: true, qresync: uid, rev1: !uid, out: &out)
        precondition(view.messages.allSatisfy { !$0.expunged }, "announcing removes expunged messages")
    case .uidExpunge(let set):
        guard let indices = view.indices(set, uid: true) else { return }
        let before = view.count
        let (numbers, removed) = view.remove(uids: Set(indices.map { view.messages[$0].uid }))
        precondition(view.count == before - removed.count && numbers.allSatisfy { $0 >= 1 && $0 <= before }, "expunge numbers are valid")
    default:
        break
    }
}

@_cdecl("FuzzIMAPCommand_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzIMAPCommand(data, size) }
}
