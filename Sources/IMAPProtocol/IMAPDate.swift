import MailCore

/// IMAP's dates (RFC 9051 §9): `date` (`1-Feb-2024`, for SEARCH) and `date-time`
/// (`"01-Feb-2024 13:05:00 +0100"`, INTERNALDATE and APPEND). Days count from 1970-01-01.
public enum IMAPDate {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func days(year: Int, month: Int, day: Int) -> Int { MessageDate.days(year: year, month: month, day: day) }

    static func month(_ text: Substring) -> Int? {
        months.firstIndex { $0.lowercased() == text.lowercased() }.map { $0 + 1 }
    }

    /// `date-day "-" date-month "-" date-year` → days since 1970-01-01.
    public static func parseDate(_ text: String) -> Int? {
        let pieces = text.split(separator: "-", omittingEmptySubsequences: false)
        guard pieces.count == 3, (1...2).contains(pieces[0].count), pieces[2].count == 4, let day = Int(pieces[0]), let month = month(pieces[1]),
            let year = Int(pieces[2]), (1...31).contains(day)
        else { return nil }
        return days(year: year, month: month, day: day)
    }

    /// `date-time` (without its quotes) → Unix seconds.
    public static func parseDateTime(_ text: String) -> Int? {
        let pieces = text.split(separator: " ", omittingEmptySubsequences: true)
        guard pieces.count == 3, let days = parseDate(String(pieces[0])) else { return nil }
        let clock = pieces[1].split(separator: ":")
        guard clock.count == 3, let hour = Int(clock[0]), let minute = Int(clock[1]), let second = Int(clock[2]), hour < 24, minute < 60, second < 61
        else { return nil }
        let zone = pieces[2]
        guard zone.count == 5, let sign = zone.first, sign == "+" || sign == "-", let value = Int(zone.dropFirst()) else { return nil }
        let magnitude: Int = value / 100 * 3600 + value % 100 * 60
        let offset: Int = sign == "-" ? -magnitude : magnitude
        let clockSeconds: Int = hour * 3600 + minute * 60 + second
        return days * 86400 + clockSeconds - offset
    }

    /// INTERNALDATE as sent: `"17-Jul-1996 02:44:25 +0000"` (UTC).
    public static func dateTime(_ seconds: Int) -> String {
        let days: Int = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let rest: Int = seconds - days * 86400
        let (year, month, day) = MessageDate.civil(days)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(day))-\(months[month - 1])-\(year) \(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60)) +0000"
    }
}
