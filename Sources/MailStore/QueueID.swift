import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Queue identifiers: 16 characters of Crockford base32 over 48 bits of milliseconds and 32
/// random bits, so ids sort by arrival and never need a database round trip to allocate.
public enum QueueID {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)
    /// splitmix64 state, seeded once from the system generator: ids need uniqueness, not
    /// secrecy, and this saves a getrandom(2) per message.
    private static let state = Mutex<UInt64>({
        var system = SystemRandomNumberGenerator()
        return system.next()
    }())

    private static func nextRandom() -> UInt32 {
        state.withLock { s in
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt32(truncatingIfNeeded: z ^ (z >> 31))
        }
    }

    public static func make() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let millis = UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
        let random = UInt64(nextRandom())
        // 80 bits: 48 of time, 32 of randomness → 16 base32 characters.
        let high = millis & 0xFFFF_FFFF_FFFF
        var chars = [UInt8](repeating: 0, count: 16)
        var low = random
        for i in stride(from: 15, through: 10, by: -1) {
            chars[i] = alphabet[Int(low & 31)]
            low >>= 5
        }
        // 6 characters hold 30 bits; the last 2 random bits join the time part.
        var rest = (high << 2) | (random >> 30)
        for i in stride(from: 9, through: 0, by: -1) {
            chars[i] = alphabet[Int(rest & 31)]
            rest >>= 5
        }
        return String(decoding: chars, as: UTF8.self)
    }
}
