/// A minimal, allocation-light reader of an RFC 5322 header block: finds fields by name and
/// unfolds their values. Full MIME parsing lives elsewhere; the receiver needs only a few fields.
/// It reads in place: nothing is copied but the value it returns.
public enum HeaderFields {
    /// The unfolded value of the first field named `name` (case-insensitive), or nil.
    public static func firstValue<C: RandomAccessCollection<UInt8>>(named name: String, in message: C) -> String? where C.Index == Int {
        var result: String?
        forEachField(named: name, in: message) { valueStart, end in
            result = unfold(message, from: valueStart, to: end)
            return false
        }
        return result
    }

    /// How many fields are named `name`.
    public static func count<C: RandomAccessCollection<UInt8>>(named name: String, in message: C) -> Int where C.Index == Int {
        var n = 0
        forEachField(named: name, in: message) { _, _ in
            n += 1
            return true
        }
        return n
    }

    /// How many fields the header section has (lines that do not continue a field), up to the
    /// empty line that ends it; stops counting past `limit`.
    public static func fieldCount<C: RandomAccessCollection<UInt8>>(in message: C, limit: Int = .max) -> Int where C.Index == Int {
        var count = 0
        var lineStart = message.startIndex
        while lineStart < message.endIndex, count <= limit {
            var lineEnd = lineStart
            while lineEnd < message.endIndex, message[lineEnd] != 0x0A { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > lineStart, message[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            if contentEnd == lineStart { break }  // the empty line ends the header
            if message[lineStart] != 0x20 && message[lineStart] != 0x09 { count += 1 }
            lineStart = lineEnd + 1
        }
        return count
    }

    /// Calls `body` with the value range (after the colon, through the last continuation line)
    /// of each field named `name`, until it returns false or the header ends (RFC 5322 §2.2).
    static func forEachField<C: RandomAccessCollection<UInt8>>(
        named name: String, in bytes: C, _ body: (_ valueStart: Int, _ end: Int) -> Bool
    ) where C.Index == Int {
        let wanted = Array(name.utf8)
        var lineStart = bytes.startIndex
        var match: Int? = nil  // value start of a matching field still collecting continuations
        while lineStart < bytes.endIndex {
            var lineEnd = lineStart
            while lineEnd < bytes.endIndex, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > lineStart, bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let first = contentEnd > lineStart ? bytes[lineStart] : nil
            let isContinuation = first == 0x20 || first == 0x09
            if !isContinuation, let valueStart = match {
                // The previous matching field ended before this line.
                match = nil
                if !body(valueStart, lineStart) { return }
            }
            if contentEnd == lineStart { return }  // the empty line ends the header
            if !isContinuation, contentEnd - lineStart > wanted.count {
                var equal = true
                for i in 0..<wanted.count where !sameIgnoringCase(bytes[lineStart + i], wanted[i]) {
                    equal = false
                    break
                }
                // RFC 5322 §4.5 (obs-optional): white space may come before the colon, so
                // "From :" is a From field, as DKIM and DMARC read it too.
                var colon = lineStart + wanted.count
                while equal, colon < contentEnd, bytes[colon] == 0x20 || bytes[colon] == 0x09 { colon += 1 }
                if equal, colon < contentEnd, bytes[colon] == UInt8(ascii: ":") { match = colon + 1 }
            }
            lineStart = lineEnd + 1
        }
        if let valueStart = match { _ = body(valueStart, bytes.endIndex) }
    }

    /// ASCII case-insensitive byte equality (field names are ASCII, RFC 5322 §3.6.8).
    @inline(__always)
    private static func sameIgnoringCase(_ a: UInt8, _ b: UInt8) -> Bool {
        if a == b { return true }
        let lower = a | 0x20
        return lower == (b | 0x20) && lower >= 0x61 && lower <= 0x7A
    }

    /// The value with line breaks removed (RFC 5322 §2.2.3) and outer spaces trimmed.
    static func unfold<C: RandomAccessCollection<UInt8>>(_ bytes: C, from start: Int, to end: Int) -> String where C.Index == Int {
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        for i in start..<end where bytes[i] != 0x0D && bytes[i] != 0x0A { out.append(bytes[i]) }
        return String(decoding: out, as: UTF8.self).trimmingSpaces()
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    public func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
