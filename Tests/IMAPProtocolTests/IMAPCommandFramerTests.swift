import Testing

@testable import IMAPProtocol

/// The framer with whole input, drip-fed input (one byte at a time), literals of both kinds,
/// and every limit.
@Suite struct IMAPCommandFramerTests {
    func events(_ text: String, limits: IMAPCommandFramer.Limits = .init(), drip: Bool = false) -> [IMAPCommandFramer.Event] {
        var framer = IMAPCommandFramer(limits: limits)
        if drip { return Array(text.utf8).flatMap { framer.append([$0]) } }
        return framer.append(Array(text.utf8))
    }

    func command(_ text: String) -> IMAPCommandFramer.Event { .command(Array(text.utf8)) }

    @Test(arguments: [false, true])
    func commandsAndLiterals(drip: Bool) {
        #expect(events("a1 NOOP\r\na2 CAPABILITY\r\n", drip: drip) == [command("a1 NOOP\r\n"), command("a2 CAPABILITY\r\n")])
        // A synchronizing literal: the continuation request, then one command with the data.
        let login = "a3 LOGIN {5}\r\nalice {6}\r\nsecret\r\n"
        #expect(events(login, drip: drip) == [.continuationNeeded, .continuationNeeded, command(login)])
        // LITERAL+: no continuation; the data's own CRLF and braces do not end or announce anything.
        let append = "a4 APPEND INBOX {12+}\r\nHi\r\n{99}\r\nxx\r\n"
        #expect(events(append, drip: drip) == [command(append)])
        // A literal of size 0, and a brace inside a line that is not at its end.
        #expect(events("a5 SEARCH SUBJECT {0}\r\n\r\na6 X {a}\r\n", drip: drip) == [.continuationNeeded, command("a5 SEARCH SUBJECT {0}\r\n\r\n"), command("a6 X {a}\r\n")])
        // Nothing complete yet: nothing out.
        #expect(events("a7 NOO", drip: drip) == [])
        #expect(events("a8 LOGIN {5}\r\nali", drip: drip) == [.continuationNeeded])
    }

    @Test func literalAnnouncements() {
        func announced(_ line: String) -> (Int, Bool)? {
            IMAPCommandFramer.literalAnnouncement(Array(line.utf8)[...]).map { ($0.size, $0.synchronizing) }
        }
        #expect(announced("x {5}")! == (5, true))
        #expect(announced("x {5+}")! == (5, false))
        #expect(announced("x ~{17}")! == (17, true))  // literal8 (BINARY)
        #expect(announced("x {4294967295}")! == (4_294_967_295, true))
        for line in ["x {}", "x {+}", "x 5}", "x {12345678901}", "x {4294967296}", "x {5 }", "x {-5}", "}"] {
            #expect(announced(line) == nil, "\(line)")
        }
    }

    @Test(arguments: [false, true])
    func longLinesAreCutAndTheStreamGoesOn(drip: Bool) {
        let limits = IMAPCommandFramer.Limits(maximumLineLength: 16, maximumLiteral: 8, maximumCommand: 64)
        let long = "t1 " + String(repeating: "x", count: 40) + "\r\nt2 NOOP\r\n"
        #expect(events(long, limits: limits, drip: drip) == [.lineTooLong(tag: "t1"), command("t2 NOOP\r\n")])
        // A long continuation line after a literal is cut the same way.
        let after = "t3 X {2+}\r\nab" + String(repeating: "y", count: 40) + "\r\nt4 NOOP\r\n"
        #expect(events(after, limits: limits, drip: drip) == [.lineTooLong(tag: "t3"), command("t4 NOOP\r\n")])
    }

    @Test func literalsOverTheLimit() {
        let limits = IMAPCommandFramer.Limits(maximumLineLength: 100, maximumLiteral: 8, maximumCommand: 40)
        // Synchronizing: refused, no continuation; the client sends its next command.
        #expect(events("s1 APPEND INBOX {9}\r\ns2 NOOP\r\n", limits: limits) == [.literalTooLarge(tag: "s1", mustClose: false), command("s2 NOOP\r\n")])
        // Non-synchronizing: the data is coming anyway; the session must close.
        #expect(events("s3 APPEND INBOX {9+}\r\n", limits: limits) == [.literalTooLarge(tag: "s3", mustClose: true)])
        // Literals that fit one by one but not together: the command limit.
        #expect(events("s4 X {8+}\r\n12345678 {8+}\r\n12345678 {8}\r\n", limits: limits).last == .literalTooLarge(tag: "s4", mustClose: false))
    }

    @Test func tags() {
        #expect(IMAPCommandFramer.tag(of: Array("A001 NOOP".utf8)) == "A001")
        #expect(IMAPCommandFramer.tag(of: Array("+ x".utf8)) == nil)
        #expect(IMAPCommandFramer.tag(of: Array("a*b x".utf8)) == nil)
        #expect(IMAPCommandFramer.tag(of: Array(" x".utf8)) == nil)
        #expect(IMAPCommandFramer.tag(of: Array(String(repeating: "a", count: 70).utf8)) == nil)
    }

    @Test func linearInTheInput() {
        // A million octets of literal data and a 60,000-octet line go through in one pass.
        var framer = IMAPCommandFramer()
        let data = [UInt8](repeating: 0x41, count: 1_000_000)
        let out = framer.append(Array("b1 APPEND INBOX {1000000+}\r\n".utf8) + data + Array("\r\n".utf8))
        #expect(out.count == 1)
        let line = "b2 SEARCH TEXT " + String(repeating: "z", count: 60_000) + "\r\n"
        #expect(framer.append(Array(line.utf8)) == [command(line)])
    }
}
