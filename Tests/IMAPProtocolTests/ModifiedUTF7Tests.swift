import Testing

@testable import IMAPProtocol

/// RFC 3501 §5.1.3's examples and the edge cases around them.
@Suite struct ModifiedUTF7Tests {
    @Test(arguments: [
        ("INBOX", "INBOX"),
        ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),  // RFC 3501 §5.1.3
        ("Entwürfe", "Entw&APw-rfe"),
        ("A & B", "A &- B"),
        ("&", "&-"),
        ("Отправленные", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"),
        ("😀", "&2D3eAA-"),  // a surrogate pair
        ("x\ty", "x&AAk-y"),  // a control character is encoded
    ])
    func encodesAndDecodes(name: String, encoded: String) {
        #expect(ModifiedUTF7.encode(name) == encoded)
        #expect(ModifiedUTF7.decode(encoded) == name)
    }

    @Test(arguments: [
        "&",  // no closing "-"
        "&U,BTFw",  // unterminated run
        "&AGE-",  // encodes "a", printable ASCII, which must stand for itself
        "&Jjo!-",  // a character outside the alphabet
        "&2D0-",  // a lone high surrogate (D83D)
        "&2D3-",  // leftover bits that are not zero
        "&AB-",  // leftover bits that are not zero / an odd byte
        "caf\u{e9}",  // raw 8-bit
        "&ZeVnLIqe=-",  // padding is not used
        "&AOQ-&APY-",  // two runs back to back: "&AOQA9g-" is the one spelling
    ])
    func rejectsWhatIsNotModifiedUTF7(text: String) {
        #expect(ModifiedUTF7.decode(text) == nil)
    }

    @Test func roundTripsEveryPlane() {
        let names = ["Drafts", "Gesendete Objekte", "送信済みメール", "Spam & Junk", "a&b&c", "🎉 party/🎈", "\u{7F}"]
        for name in names {
            #expect(ModifiedUTF7.decode(ModifiedUTF7.encode(name)) == name, "\(name)")
            #expect(ModifiedUTF7.encode(name).utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E })
        }
    }
}

@Suite struct SequenceSetTests {
    @Test func parsesNumbersRangesAndStar() throws {
        let set = try #require(SequenceSet(parsing: "1,3:5,7:*,10"))
        #expect(set.description == "1,3:5,7:*,10")
        #expect(set.contains(4, largest: 20) && set.contains(15, largest: 20) && !set.contains(2, largest: 20) && !set.contains(6, largest: 20))
        #expect(set.ranges(largest: 20) == [1...1, 3...5, 7...20])
        // "*" is the largest number in use; a range may be written backwards (RFC 9051 §9).
        #expect(try #require(SequenceSet(parsing: "*:4")).ranges(largest: 6) == [4...6])
        #expect(try #require(SequenceSet(parsing: "*")).contains(9, largest: 9))
        #expect(try #require(SequenceSet(parsing: "5:3,4:9,10")).ranges(largest: 100) == [3...10])
        #expect(try #require(SequenceSet(parsing: "4294967295,1:4294967295")).ranges(largest: 1) == [1...4_294_967_295])
        #expect(SequenceSet(parsing: "$") == .savedResult)
    }

    @Test(arguments: ["", "0", "1,", ",1", "1:2:3", "01", "a", "1:", "4294967296", "1 2", "-1", "*:*:1"])
    func rejectsWhatIsNotASequenceSet(text: String) {
        #expect(SequenceSet(parsing: Substring(text)) == nil)
    }

    @Test func staysBounded() {
        let many = (1...SequenceSet.maximumElements).map(String.init).joined(separator: ",")
        #expect(SequenceSet(parsing: Substring(many)) != nil)
        #expect(SequenceSet(parsing: Substring(many + ",1")) == nil)
    }
}
