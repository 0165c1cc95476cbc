import FuzzDriver
import MailCore

/// Fuzzes the mail-core text parsers with arbitrary bytes: header fields, address lists,
/// addresses and paths, xtext, network ranges, urlencoded forms, the readable parts of a
/// message, terminal escaping. Invariants: nothing traps;
/// xtext round-trips; escaped text has no control characters left.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMailCore(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    _ = HeaderFields.firstValue(named: "From", in: bytes)
    _ = HeaderFields.count(named: "Received", in: bytes)
    precondition(HeaderFields.fieldCount(in: bytes, limit: 50) <= 51)
    _ = AddressList.addrSpecs(in: text)
    _ = try? MailboxAddress(parsing: text, allowUTF8: true)
    _ = try? ReversePath(parsing: text, allowUTF8: true)
    _ = try? ForwardPath(parsing: text, allowUTF8: true)
    if let decoded = XText.decode(text) {
        precondition(XText.decode(XText.encode(decoded)) == decoded, "xtext round-trips")
    }
    _ = NetworkRange(text)
    let form = FormBody(bytes)
    precondition(form.pairs.count <= bytes.filter { $0 == UInt8(ascii: "&") }.count + 1)
    let readable = ReadableParts(message: bytes)
    precondition((readable.html?.utf8.count ?? 0) <= bytes.count * 4 && (readable.text?.utf8.count ?? 0) <= bytes.count * 4)
    _ = DestinationAddress.isPublic(text)
    let shown = TerminalText.escaped(bytes, lineBreaks: .keep)
    precondition(!shown.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || $0.value == 0x7F || (0x80...0x9F).contains($0.value) })
    return 0
}

@_cdecl("FuzzMailCore_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzMailCore(data, size) }
}
