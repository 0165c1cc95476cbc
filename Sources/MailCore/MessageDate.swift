#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Dates in the two forms mail needs: RFC 5322 §3.3 for headers, RFC 3339 for machine output.
public enum MessageDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Sun, 22 Nov 2026 10:43:43 +0000` for a Unix time in seconds (always UTC).
    public static func rfc5322(unixSeconds: Int) -> String {
        let t = brokenDown(unixSeconds)
        return "\(days[Int(t.tm_wday)]), \(t.tm_mday) \(months[Int(t.tm_mon)]) \(t.tm_year + 1900) \(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec)) +0000"
    }

    /// `2026-11-22T10:43:43Z`.
    public static func rfc3339(unixSeconds: Int) -> String {
        let t = brokenDown(unixSeconds)
        return "\(t.tm_year + 1900)-\(two(t.tm_mon + 1))-\(two(t.tm_mday))T\(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec))Z"
    }

    /// The current Unix time in seconds.
    public static func nowUnixSeconds() -> Int { Int(time(nil)) }

    private static func brokenDown(_ seconds: Int) -> tm {
        var t = tm()
        var s = time_t(seconds)
        gmtime_r(&s, &t)
        return t
    }

    private static func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
}
