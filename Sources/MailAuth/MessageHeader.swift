/// One header field as it appears in the message: its name and its raw bytes, from the first
/// byte of the name through the line ending of its last continuation line.
public struct RawHeaderField: Sendable, Equatable {
    public var name: String
    public var raw: ArraySlice<UInt8>

    /// The bytes after the colon, line endings and folding included.
    public var rawValue: ArraySlice<UInt8> {
        guard let colon = raw.firstIndex(of: UInt8(ascii: ":")) else { return raw[raw.endIndex...] }
        return raw[(colon + 1)...]
    }

    /// The value unfolded (RFC 5322 §2.2.3) and trimmed, as text.
    public var unfoldedValue: String {
        let bytes = rawValue.filter { $0 != 0x0D && $0 != 0x0A }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: [" ", "\t"])
    }
}

/// A message split at the end of its header section (RFC 5322 §2.1): the fields in order and
/// where the body starts. Lines may end in CRLF or, leniently, in a bare LF.
public struct MessageHeader: Sendable {
    public var fields: [RawHeaderField]
    /// Index of the body's first byte (past the empty line), or the message's end.
    public var bodyStart: Int

    public init(parsing message: [UInt8]) {
        var fields: [RawHeaderField] = []
        var i = 0
        let n = message.count
        var fieldStart: Int? = nil
        bodyStart = n
        func lineEnd(from start: Int) -> Int {
            var j = start
            while j < n && message[j] != 0x0A { j += 1 }
            return j < n ? j + 1 : n
        }
        func close(_ end: Int) {
            guard let start = fieldStart else { return }
            let raw = message[start..<end]
            if let colon = raw.firstIndex(of: UInt8(ascii: ":")) {
                var name = String(decoding: message[start..<colon], as: UTF8.self)
                while name.last == " " || name.last == "\t" { name.removeLast() }
                fields.append(RawHeaderField(name: name, raw: raw))
            }
            fieldStart = nil
        }
        while i < n {
            let first = message[i]
            if first == 0x0A || (first == 0x0D && i + 1 < n && message[i + 1] == 0x0A) {
                close(i)
                bodyStart = first == 0x0A ? i + 1 : i + 2
                self.fields = fields
                return
            }
            if first == 0x20 || first == 0x09 {
                // A continuation line belongs to the open field (a stray one is dropped).
                i = lineEnd(from: i)
                continue
            }
            close(i)
            fieldStart = i
            i = lineEnd(from: i)
        }
        close(n)
        self.fields = fields
    }

    /// The fields called `name` (case-insensitive), in message order.
    public func fields(named name: String) -> [RawHeaderField] {
        let lower = name.lowercased()
        return fields.filter { $0.name.lowercased() == lower }
    }
}

import Foundation
