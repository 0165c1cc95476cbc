import MailCore
import Testing

@Suite struct TerminalTextTests {
    @Test func controlCharactersAreEscaped() {
        #expect(TerminalText.escaped("plain text") == "plain text")
        #expect(TerminalText.escaped("evil\u{1B}]0;pwned\u{07}title") == "evil\\x1b]0;pwned\\x07title")
        // A forged second log line stays on the first.
        #expect(TerminalText.escaped("helo\r\n2026-01-01T00:00:00Z info fake") == "helo\\x0d\\x0a2026-01-01T00:00:00Z info fake")
        #expect(TerminalText.escaped("a\\x1b") == "a\\\\x1b")
        #expect(TerminalText.escaped("del\u{7F}") == "del\\x7f")
        #expect(TerminalText.escaped("tab\there") == "tab\there")
    }

    @Test func contentKeepsItsLines() {
        let content = Array("Subject: hi\r\n\r\nbody\u{1B}[2J\rbare\nlf\r\n".utf8)
        #expect(TerminalText.escaped(content, lineBreaks: .keep) == "Subject: hi\n\nbody\\x1b[2J\\x0dbare\nlf\n")
    }

    @Test func utf8IsKeptAndInvalidBytesEscaped() {
        #expect(TerminalText.escaped("Grüße, 日本, 🐦") == "Grüße, 日本, 🐦")
        // C1 controls (CSI is U+009B) are escaped like ESC.
        #expect(TerminalText.escaped("x\u{9B}2J") == "x\\xc2\\x9b2J")
        #expect(TerminalText.escaped([0x61, 0xFF, 0xC3, 0x28, 0xED, 0xA0, 0x80]) == "a\\xff\\xc3(\\xed\\xa0\\x80")
        // A sequence cut off at the end.
        #expect(TerminalText.escaped([0x61, 0xE6, 0x97]) == "a\\xe6\\x97")
    }

    @Test func everyByteComesOutPrintable() {
        let all = (0...255).map { UInt8($0) }
        let shown = TerminalText.escaped(all)
        #expect(shown.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F && !(0x80...0x9F).contains($0.value) || $0 == "\t" })
    }
}

@Suite struct CalendarDayTests {
    @Test func daysFromTheCivilCalendar() {
        #expect(MessageDate.startOfDay(parsing: "1970-01-01") == 0)
        #expect(MessageDate.startOfDay(parsing: "2026-11-30") == 1_796_083_200 - 86400)
        #expect(MessageDate.startOfDay(parsing: "2024-02-29") == 1_709_164_800)
        #expect(MessageDate.startOfDay(parsing: "2023-02-29") == nil)
        #expect(MessageDate.startOfDay(parsing: "2026-13-01") == nil)
        #expect(MessageDate.startOfDay(parsing: "2026-1-01") == nil)
        #expect(MessageDate.startOfDay(parsing: "1969-12-31") == nil)
        #expect(MessageDate.startOfDay(parsing: "２０２６-01-01") == nil)
        // Every day of four years round-trips through its text form.
        for day in stride(from: 1_700_000_000 - 1_700_000_000 % 86400, to: 1_700_000_000 + 4 * 366 * 86400, by: 86400) {
            #expect(MessageDate.startOfDay(parsing: MessageDate.day(unixSeconds: day)) == day)
        }
    }
}
