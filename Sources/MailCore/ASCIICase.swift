/// ASCII case folding for protocol names (header field names, IMAP flags, charset names): they
/// compare case-insensitively in ASCII only, and comparing in place avoids the lowered copies
/// that `lowercased()` would make for every field of every message a FETCH or SEARCH reads.
public enum ASCIICase {
    @inline(__always)
    public static func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte }

    /// Whether `a` and `b` are equal ignoring ASCII case.
    public static func equal(_ a: String, _ b: String) -> Bool {
        var x = a.utf8.makeIterator()
        var y = b.utf8.makeIterator()
        while true {
            switch (x.next(), y.next()) {
            case (nil, nil): return true
            case (let p?, let q?) where lower(p) == lower(q): continue
            default: return false
            }
        }
    }
}
