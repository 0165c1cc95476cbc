/// DKIM canonicalization algorithms (RFC 6376 §3.4).
public enum DKIMCanonicalization: String, Sendable, Equatable {
    case simple
    case relaxed

    @inline(__always) static func isWSP(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    /// One header field, ending in CRLF (§3.4.1, §3.4.2).
    public func header(_ field: RawHeaderField) -> [UInt8] {
        switch self {
        case .simple:
            var out = Array(field.raw)
            // A stored message always ends its lines in CRLF; a bare LF is made one.
            if out.last == 0x0A && (out.count < 2 || out[out.count - 2] != 0x0D) { out.insert(0x0D, at: out.count - 1) }
            if out.last != 0x0A { out += [0x0D, 0x0A] }
            return out
        case .relaxed:
            var out = Array(field.name.lowercased().utf8)
            out.append(UInt8(ascii: ":"))
            var pendingSpace = false
            var started = false
            for b in field.rawValue {
                if b == 0x0D || b == 0x0A { continue }  // unfold
                if Self.isWSP(b) {
                    pendingSpace = started
                    continue
                }
                if pendingSpace { out.append(0x20) }
                pendingSpace = false
                started = true
                out.append(b)
            }
            out += [0x0D, 0x0A]
            return out
        }
    }

    /// The body (§3.4.3, §3.4.4): for simple, trailing empty lines removed and an empty body
    /// is one CRLF; for relaxed, whitespace runs become one space, trailing whitespace on each
    /// line goes, and an empty body stays empty (RFC 6376 erratum 3192).
    public func body(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var pendingEmptyLines = 0
        var line: [UInt8] = []
        var index = bytes.startIndex
        let end = bytes.endIndex
        while index < end {
            var lineEnd = index
            while lineEnd < end && bytes[lineEnd] != 0x0A { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > index && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            line.removeAll(keepingCapacity: true)
            switch self {
            case .simple:
                line.append(contentsOf: bytes[index..<contentEnd])
            case .relaxed:
                var pendingSpace = false
                for b in bytes[index..<contentEnd] {
                    if Self.isWSP(b) {
                        pendingSpace = true
                        continue
                    }
                    if pendingSpace { line.append(0x20) }
                    pendingSpace = false
                    line.append(b)
                }
            }
            if line.isEmpty {
                pendingEmptyLines += 1
            } else {
                for _ in 0..<pendingEmptyLines { out += [0x0D, 0x0A] }
                pendingEmptyLines = 0
                out += line
                out += [0x0D, 0x0A]
            }
            index = lineEnd < end ? lineEnd + 1 : end
        }
        if out.isEmpty && self == .simple { return [0x0D, 0x0A] }
        return out
    }
}
