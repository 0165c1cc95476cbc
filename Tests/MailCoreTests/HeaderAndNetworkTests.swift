import Testing

@testable import MailCore

@Suite struct HeaderFieldTests {
    @Test func findsUnfoldedValues() {
        let message = Array("From: a@example.com\r\nSubject: hello\r\n  folded world\r\nmessage-id:\r\n <id@x>\r\n\r\nSubject: body\r\n".utf8)
        #expect(HeaderFields.firstValue(named: "Subject", in: message) == "hello  folded world")
        #expect(HeaderFields.firstValue(named: "Message-ID", in: message) == "<id@x>")
        #expect(HeaderFields.firstValue(named: "To", in: message) == nil)
        // The body is not the header.
        #expect(HeaderFields.count(named: "subject", in: message) == 1)
    }

    @Test func countsRepeatedFields() {
        let message = Array("From: a@x\nFrom: b@x\n\nFrom: c@x\n".utf8)
        #expect(HeaderFields.count(named: "From", in: message) == 2)
    }

    @Test func namesMatchWholeAndCaseInsensitively() {
        let message = Array("From-Alias: x@y\r\nFromage: cheese\r\nfROM: real@z\r\nFrom : spaced@z\r\n\r\n".utf8)
        // "From :" is a From field (RFC 5322 §4.5 obs-optional; issue 12 item 9).
        #expect(HeaderFields.count(named: "From", in: message) == 2)
        #expect(HeaderFields.firstValue(named: "from", in: message) == "real@z")
        #expect(HeaderFields.firstValue(named: "From-Alias", in: message) == "x@y")
        // "[" and "{" differ only in bit 0x20 from "{" and "[" — never letters, never equal.
        #expect(HeaderFields.count(named: "X[", in: Array("X{: 1\r\n\r\n".utf8)) == 0)
    }

    @Test func lastFieldBeforeEndOfInputAndFoldedContinuation() {
        let message = Array("A: 1\r\nSubject: one\r\n\ttwo".utf8)
        #expect(HeaderFields.firstValue(named: "Subject", in: message) == "one\ttwo")
        #expect(HeaderFields.count(named: "A", in: message) == 1)
    }

    @Test func headerWithoutBody() {
        #expect(HeaderFields.firstValue(named: "X", in: Array("X: 1".utf8)) == "1")
        #expect(HeaderFields.firstValue(named: "X", in: [UInt8]()) == nil)
    }
}

@Suite struct NetworkRangeTests {
    @Test func ipv4() throws {
        let range = try #require(NetworkRange("192.0.2.0/24"))
        #expect(range.contains("192.0.2.77"))
        #expect(!range.contains("192.0.3.1"))
        #expect(range.contains("::ffff:192.0.2.5"))
        #expect(!range.contains("not an ip"))
        #expect(try #require(NetworkRange("10.0.0.1")).contains("10.0.0.1"))
        #expect(!(try #require(NetworkRange("10.0.0.1")).contains("10.0.0.2")))
        #expect(try #require(NetworkRange("0.0.0.0/0")).contains("203.0.113.9"))
    }

    @Test func ipv6() throws {
        let range = try #require(NetworkRange("2001:db8::/32"))
        #expect(range.contains("2001:db8:1::5"))
        #expect(!range.contains("2001:db9::1"))
        #expect(!range.contains("192.0.2.1"))
    }

    @Test(arguments: ["", "192.0.2.0/33", "::/129", "192.0.2/24", "abc", "10.0.0.0/x", "10.0.0.0/8/8"])
    func invalid(text: String) {
        #expect(NetworkRange(text) == nil)
    }
}

@Suite struct MessageDateTests {
    @Test func formats() {
        #expect(MessageDate.rfc5322(unixSeconds: 0) == "Thu, 1 Jan 1970 00:00:00 +0000")
        #expect(MessageDate.rfc3339(unixSeconds: 1_795_000_000) == "2026-11-18T11:06:40Z")
    }
}

@Suite struct Base64TextTests {
    @Test func rfc4648Vectors() {
        let vectors = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")]
        for (plain, encoded) in vectors {
            #expect(Base64Text.encode(Array(plain.utf8)) == encoded)
            #expect(Base64Text.decode(Array(encoded.utf8)) == Array(plain.utf8))
        }
    }

    @Test(arguments: ["Zg=", "Zg", "Z===", "Zh==", "Zm9=", "Zg==Zg==", "Zm 9", "Zm9v\r\n", "****"])
    func refusesNonCanonical(text: String) {
        #expect(Base64Text.decode(Array(text.utf8)) == nil)
    }

    @Test func roundTripsRandomBytes() {
        var rng = SystemRandomNumberGenerator()
        for n in 0..<200 {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(Base64Text.decode(Array(Base64Text.encode(bytes).utf8)) == bytes)
        }
    }
}

@Suite struct AddressListTests {
    @Test(arguments: [
        ("alice@example.com", ["alice@example.com"]),
        ("Alice <alice@example.com>", ["alice@example.com"]),
        ("\"Doe, John\" <john@example.com>, jane@example.org (Jane, J.)", ["john@example.com", "jane@example.org"]),
        ("<a@x.test>", ["a@x.test"]),
        ("(comment <evil@x>) real@y.test", ["real@y.test"]),
        ("friends: a@x.test, b@y.test;", ["a@x.test", "b@y.test"]),
        ("\"quoted <fake@evil.test>\" <real@good.test>", ["real@good.test"]),
        ("undisclosed-recipients:;", []),
        ("", []),
    ])
    func extracts(value: String, expected: [String]) {
        #expect(AddressList.addrSpecs(in: value) == expected)
    }
}
