/// Multi-line response bodies (RFC 1939 §3).
public enum MultilineBody {
    /// The header, the empty line, and the first `lines` lines of the body (RFC 1939 TOP).
    public static func top(_ content: [UInt8], lines: Int) -> [UInt8] {
        var index = 0
        var lineStart = 0
        // The header ends at the first empty line.
        while index < content.count {
            if content[index] == 0x0A {
                let line = content[lineStart..<index]
                let isEmpty = line.isEmpty || line == [0x0D]
                index += 1
                lineStart = index
                if isEmpty { break }
                continue
            }
            index += 1
        }
        var remaining = lines
        while index < content.count && remaining > 0 {
            if content[index] == 0x0A { remaining -= 1 }
            index += 1
        }
        return Array(content[..<index])
    }
}
