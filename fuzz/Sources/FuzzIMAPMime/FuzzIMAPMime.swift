import FuzzDriver
import IMAPProtocol
import MailCore

/// Fuzzes the MIME parser and the IMAP answers built on it with arbitrary message bytes.
/// Invariants: nothing traps; every range the tree holds lies inside the message and bodies
/// follow their headers; ENVELOPE, BODYSTRUCTURE and BODY are balanced; every part number the
/// tree has resolves to a part, and its sections (HEADER, TEXT, MIME, the part itself) are
/// slices of the message; BINARY decoding and SEARCH text matching never trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIMAPMime(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let root = MIMEPart(message: bytes)
    var paths: [[Int]] = [[]]
    func check(_ part: MIMEPart, depth: Int) {
        precondition(part.headerRange.lowerBound >= 0 && part.bodyRange.upperBound <= bytes.count, "ranges inside the message")
        precondition(part.headerRange.upperBound <= part.bodyRange.lowerBound || part.bodyRange.isEmpty, "the body follows the header")
        precondition(depth <= MIMEPart.maximumDepth + 1, "depth is bounded")
        for child in part.children { check(child, depth: depth + 1) }
    }
    check(root, depth: 0)
    /// The part numbers of a message (the root, or one inside a message/rfc822 part), as
    /// RFC 9051 §6.4.5 numbers them: a multipart's parts; otherwise its body is part 1, and a
    /// body that is itself a message continues the numbering inside it.
    func number(_ message: MIMEPart, _ path: [Int]) {
        guard paths.count < 500 else { return }
        switch message.kind {
        case .multipart:
            for (index, child) in message.children.enumerated() {
                let childPath = path + [index + 1]
                paths.append(childPath)
                if child.kind == .message, let inner = child.children.first { number(inner, childPath) }
                if child.kind == .multipart { number(child, childPath) }
            }
        case .message:
            paths.append(path + [1])
            if let inner = message.children.first { number(inner, path + [1]) }
        case .single:
            paths.append(path + [1])
        }
    }
    number(root, [])
    for path in paths.prefix(200) {
        let part = path.isEmpty ? root : root.part(at: path)
        precondition(part != nil, "every part number of the tree resolves")
        for text in [FetchAttribute.Section.Text.none, .header, .text, .mime, .headerFields(["SUBJECT", "FROM"]), .headerFieldsNot(["RECEIVED"])] {
            if path.isEmpty && text == .mime { continue }
            _ = FetchResponse.section(FetchAttribute.Section(part: path, text: text), of: bytes, structure: root)
        }
        _ = try? FetchResponse.binary(path, of: bytes, structure: root)
    }
    for extensible in [true, false] {
        var out = IMAPResponseBuffer()
        MessageStructure.body(root, extensible: extensible, into: &out)
        precondition(IMAPResponseBuffer.isBalanced(out.bytes), "BODYSTRUCTURE is balanced")
    }
    var envelope = IMAPResponseBuffer(utf8Quoted: true)
    MessageStructure.envelope(root.header, into: &envelope)
    precondition(IMAPResponseBuffer.isBalanced(envelope.bytes), "ENVELOPE is balanced")
    let evaluator = SearchEvaluator(largestSequence: 1, largestUID: 1)
    let message = SearchEvaluator.Message(sequence: 1, uid: 1, flags: [], modSeq: 1, internalDate: 0, size: bytes.count, content: bytes, structure: root)
    _ = evaluator.matches(.or(.text(Array("zz".utf8)), .and([.from(Array("a".utf8)), .sentSince(0), .header(name: "X", value: [])])), message)
    return 0
}

@_cdecl("FuzzIMAPMime_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzIMAPMime(data, size) }
}
