import MailAuth

/// A stored message as a page shows it: at most `maximumBytes` of it, its header section, its
/// source with a note of what was cut, and its Authentication-Results fields. One place for
/// the message page and the sandbox inbox.
struct MessageSource {
    static let maximumBytes = 256 * 1024

    /// The bytes shown (the first `maximumBytes`).
    let shown: [UInt8]
    let header: String
    let source: String
    let authenticationResults: [String]

    init(_ bytes: [UInt8]) {
        shown = Array(bytes.prefix(Self.maximumBytes))
        let text = String(decoding: shown, as: UTF8.self)
        header = text.range(of: "\r\n\r\n").map { String(text[..<$0.lowerBound]) } ?? text
        source = text + (bytes.count > shown.count ? "\n[… \(bytes.count - shown.count) more bytes]" : "")
        authenticationResults = MessageHeader(parsing: shown).fields(named: "Authentication-Results").map { $0.unfoldedValue }
    }

    /// The values the templates read: `headers`, `source`, and `authentication` when present.
    func add(to values: inout [String: Any]) {
        values["headers"] = header
        values["source"] = source
        if !authenticationResults.isEmpty { values["authentication"] = ["results": authenticationResults] }
    }
}
