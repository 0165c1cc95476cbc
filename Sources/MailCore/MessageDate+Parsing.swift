/// Reading RFC 5322 §3.3 dates (`Date:`), for SEARCH SENTBEFORE/SENTON/SENTSINCE, and the
/// civil-calendar arithmetic both directions need.
extension MessageDate {
    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    /// RFC 5322 §4.3 obsolete zones, in minutes east of UTC; military zones count as 0.
    static let zoneNames: [String: Int] = [
        "ut": 0, "gmt": 0, "z": 0, "edt": -240, "est": -300, "cdt": -300, "cst": -360, "mdt": -360, "mst": -420, "pdt": -420, "pst": -480,
    ]

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y: Int = month <= 2 ? year - 1 : year
        let era: Int = (y >= 0 ? y : y - 399) / 400
        let yearOfEra: Int = y - era * 400
        let shifted: Int = month > 2 ? month - 3 : month + 9
        let dayOfYear: Int = (153 * shifted + 2) / 5 + day - 1
        var dayOfEra: Int = yearOfEra * 365
        dayOfEra += yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day count (the inverse of `days`).
    public static func civil(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z: Int = days + 719_468
        let era: Int = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra: Int = z - era * 146_097
        var yearOfEra: Int = dayOfEra - dayOfEra / 1460
        yearOfEra += dayOfEra / 36524
        yearOfEra -= dayOfEra / 146_096
        yearOfEra /= 365
        var yearStart: Int = 365 * yearOfEra
        yearStart += yearOfEra / 4 - yearOfEra / 100
        let dayOfYear: Int = dayOfEra - yearStart
        let mp: Int = (5 * dayOfYear + 2) / 153
        let day: Int = dayOfYear - (153 * mp + 2) / 5 + 1
        let month: Int = mp < 10 ? mp + 3 : mp - 9
        let year: Int = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// Unix seconds of an RFC 5322 date-time (`Tue, 1 Jul 2003 10:52:37 +0200`), tolerant of
    /// comments, a missing day name or seconds, two-digit years (§4.3) and named zones.
    public static func parse(_ text: String) -> Int? {
        var cleaned = ""
        var depth = 0
        for c in text {
            if c == "(" { depth += 1 } else if c == ")" { depth = max(0, depth - 1) } else if depth == 0 { cleaned.append(c == "," ? " " : c) }
        }
        var words = cleaned.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }).map(String.init)
        // The day name is optional; the day of the month always comes before the month.
        if let first = words.first, first.first?.isLetter == true { words.removeFirst() }
        guard words.count >= 4, let day = Int(words[0]), (1...31).contains(day), let monthIndex = monthNames.firstIndex(of: String(words[1].prefix(3))),
            var year = Int(words[2])
        else { return nil }
        if words[2].count <= 2 { year += year < 50 ? 2000 : 1900 } else if words[2].count == 3 { year += 1900 }
        let clock = words[3].split(separator: ":").compactMap { Int($0) }
        guard clock.count >= 2, clock.count <= 3, clock[0] < 24, clock[1] < 60 else { return nil }
        let second: Int = clock.count == 3 ? clock[2] : 0
        var offsetMinutes = 0
        if words.count >= 5 {
            let zone = words[4]
            if let sign = zone.first, sign == "+" || sign == "-", zone.count == 5, let value = Int(zone.dropFirst()) {
                let minutes: Int = value / 100 * 60 + value % 100
                offsetMinutes = sign == "-" ? -minutes : minutes
            } else {
                offsetMinutes = zoneNames[zone] ?? 0
            }
        }
        let dayCount: Int = days(year: year, month: monthIndex + 1, day: day)
        let clockSeconds: Int = clock[0] * 3600 + clock[1] * 60 + second
        return dayCount * 86400 + clockSeconds - offsetMinutes * 60
    }
}
