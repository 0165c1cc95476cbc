import FuzzDriver
import MailAuth

/// Fuzzes the sender-authentication parsers with arbitrary bytes: the message header splitter,
/// DKIM canonicalization (which must be idempotent), DKIM-Signature and key records, SPF and
/// DMARC records, and the Authentication-Results scrubber. Any trap is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMailAuth(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let header = MessageHeader(parsing: bytes)
    precondition(header.bodyStart <= bytes.count)
    for field in header.fields {
        _ = DKIMCanonicalization.relaxed.header(field)
        _ = DKIMCanonicalization.simple.header(field)
        _ = try? DKIMSignature(parsing: String(decoding: field.rawValue, as: UTF8.self))
        _ = AuthenticationResults.authservID(of: field)
    }
    for canonicalization in [DKIMCanonicalization.simple, .relaxed] {
        let once = canonicalization.body(bytes[header.bodyStart...])
        precondition(canonicalization.body(once[...]) == once, "body canonicalization is idempotent")
    }
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? TagList(parsing: text)
    _ = try? DKIMKeyRecord(parsing: text)
    _ = DMARCRecord(parsing: text)
    _ = SPFVerifier.syntaxError(in: text)
    _ = SPFVerifier.syntaxError(in: "v=spf1 " + text)
    let (cleaned, removed) = AuthenticationResults.removingForged(bytes, authservID: "fuzz.test")
    precondition(removed > 0 || cleaned == bytes)
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("FuzzMailAuth_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzMailAuth(data, size) }
}
