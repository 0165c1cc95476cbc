import FuzzDriver
import IMAPProtocol

/// Fuzzes the IMAP command framer and parser with arbitrary client bytes. Invariants: nothing
/// traps; the framer gives the same events whether the bytes come at once or one by one (it
/// keeps no state that depends on how input is split); every command it delivers ends in CRLF;
/// the parser answers every delivered command (a command or a BAD); modified UTF-7 that decodes
/// encodes back to itself; sequence sets print as they parse.
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
        _ = IMAPCommandParser.parse(command)
    }
    let text = String(decoding: bytes, as: UTF8.self)
    if let name = ModifiedUTF7.decode(text) { precondition(ModifiedUTF7.encode(name) == text, "modified UTF-7 round-trips") }
    if let set = SequenceSet(parsing: Substring(text)), !set.isSavedResult { precondition(set.description == text, "sequence sets print as parsed") }
    return 0
}

@_cdecl("FuzzIMAPCommand_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzIMAPCommand(data, size) }
}
