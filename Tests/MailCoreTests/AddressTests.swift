import Testing

@testable import MailCore

@Suite struct MailboxAddressTests {
    @Test(arguments: [
        ("alice@example.com", "alice", "example.com"),
        ("first.last+tag@sub.example.org", "first.last+tag", "sub.example.org"),
        ("\"john doe\"@example.com", "\"john doe\"", "example.com"),
        ("\"a\\\"b\"@example.com", "\"a\\\"b\"", "example.com"),
        ("user@[192.0.2.1]", "user", "[192.0.2.1]"),
        ("user@[IPv6:2001:db8::1]", "user", "[IPv6:2001:db8::1]"),
        ("x%y@example.com", "x%y", "example.com"),
    ])
    func parsesValidAddresses(text: String, local: String, domain: String) throws {
        let address = try MailboxAddress(parsing: text)
        #expect(address.localPart == local)
        #expect(address.domain.name == domain)
    }

    @Test(arguments: [
        ("", AddressError.emptyLocalPart),
        ("alice", .missingDomain),
        ("@example.com", .emptyLocalPart),
        ("alice@", .emptyDomain),
        (".alice@example.com", .invalidLocalPart),
        ("alice.@example.com", .invalidLocalPart),
        ("al..ice@example.com", .invalidLocalPart),
        ("al ice@example.com", .invalidLocalPart),
        ("alice@exa mple.com", .invalidDomain),
        ("alice@-example.com", .invalidDomain),
        ("alice@example-.com", .invalidDomain),
        ("alice@example..com", .invalidDomain),
        ("alice@[300.1.1.1]", .invalidDomain),
        ("alice@[IPv6:zz::1]", .invalidDomain),
        ("a@b@example.com", .invalidDomain),
        ("ali\u{0}ce@example.com", .forbiddenCharacter),
        ("josé@example.com", .utf8NotAllowed),
        ("jose@exämple.com", .utf8NotAllowed),
    ])
    func refusesInvalidAddresses(text: String, expected: AddressError) {
        #expect(throws: expected) { try MailboxAddress(parsing: text) }
    }

    @Test func utf8AllowedWithSMTPUTF8() throws {
        let address = try MailboxAddress(parsing: "josé@exämple.com", allowUTF8: true)
        #expect(address.requiresSMTPUTF8)
        #expect(address.domain.normalized == "exämple.com")
    }

    // RFC 5321 §4.5.3.1.1–3: the limits are inclusive.
    @Test func lengthLimitsAreExact() throws {
        let local64 = String(repeating: "a", count: 64)
        #expect(throws: Never.self) { try MailboxAddress(parsing: "\(local64)@example.com") }
        #expect(throws: AddressError.localPartTooLong) { try MailboxAddress(parsing: "\(local64)a@example.com") }
        let label = String(repeating: "b", count: 63)
        let domain255 = [label, label, label, String(repeating: "c", count: 63)].joined(separator: ".")
        #expect(domain255.utf8.count == 255)
        #expect(throws: Never.self) { try Domain(validating: domain255) }
        #expect(throws: AddressError.domainTooLong) { try Domain(validating: domain255 + "c") }
        #expect(throws: AddressError.invalidDomain) { try Domain(validating: String(repeating: "d", count: 64) + ".com") }
        // A path of 256 octets including the brackets is the longest allowed.
        let domain = [label, label, String(repeating: "e", count: 61)].joined(separator: ".")
        let path = "<\(String(repeating: "f", count: 64))@\(domain)>"
        #expect(path.utf8.count == 256)
        #expect(throws: Never.self) { try ForwardPath(parsing: path) }
        let longer = "<\(String(repeating: "f", count: 64))@\(domain)g>"
        #expect(throws: AddressError.pathTooLong) { try ForwardPath(parsing: longer) }
    }

    @Test func normalisationLowercasesBothParts() throws {
        let address = try MailboxAddress(parsing: "Alice.Smith@Example.COM")
        #expect(address.normalized == "alice.smith@example.com")
        #expect(address.description == "Alice.Smith@Example.COM")
    }
}

@Suite struct PathTests {
    @Test func nullReversePath() throws {
        #expect(try ReversePath(parsing: "<>") == .null)
        #expect(ReversePath.null.description == "")
    }

    @Test func postmasterForwardPath() throws {
        #expect(try ForwardPath(parsing: "<Postmaster>") == .postmaster)
        #expect(try ForwardPath(parsing: "<postmaster>") == .postmaster)
        let qualified = try ForwardPath(parsing: "<postmaster@example.com>")
        #expect(qualified.mailbox?.localPart == "postmaster")
    }

    // RFC 5321 §4.1.1.3: source routes are accepted and ignored.
    @Test func sourceRouteIsIgnored() throws {
        let path = try ForwardPath(parsing: "<@relay.example,@other.example:bob@example.com>")
        #expect(path.mailbox?.description == "bob@example.com")
        #expect(throws: AddressError.invalidRoute) { try ForwardPath(parsing: "<@relay.example bob@example.com>") }
    }

    @Test(arguments: ["alice@example.com", "<alice@example.com", "alice@example.com>", "<>x"])
    func bracketsAreRequired(text: String) {
        #expect(throws: (any Error).self) { try ForwardPath(parsing: text) }
    }

    @Test(arguments: ["<a\r@example.com>", "<a@example.com\n>", "<a\u{0}@example.com>"])
    func controlCharactersAreRefused(text: String) {
        #expect(throws: AddressError.forbiddenCharacter) { try ForwardPath(parsing: text) }
    }

    /// The 16 address forms of nmap's smtp-open-relay script: whatever they parse to, the
    /// domain that decides routing is never a hosted name disguised inside the local part.
    @Test func openRelayFormsKeepTheRealDomain() {
        let forms = [
            "<relaytest@nmap.scanme.org>",
            "<\"relaytest@nmap.scanme.org\">",
            "<\"relaytest%nmap.scanme.org\">",
            "<relaytest%nmap.scanme.org@[127.0.0.1]>",
            "<\"relaytest@nmap.scanme.org\"@[127.0.0.1]>",
            "<relaytest@nmap.scanme.org@[127.0.0.1]>",
            "<@[127.0.0.1]:relaytest@nmap.scanme.org>",
            "<@[127.0.0.1]:relaytest@nmap.scanme.org>",
            "<nmap.scanme.org!relaytest>",
            "<nmap.scanme.org!relaytest@[127.0.0.1]>",
            "<relaytest%nmap.scanme.org@example.test>",
            "<\"relaytest@nmap.scanme.org\"@example.test>",
            "<relaytest@nmap.scanme.org@example.test>",
            "<@example.test:relaytest@nmap.scanme.org>",
            "<nmap.scanme.org!relaytest@example.test>",
            "<relaytest@[127.0.0.1]>",
        ]
        for form in forms {
            guard let path = try? ForwardPath(parsing: form), let mailbox = path.mailbox else { continue }
            // Either a literal, the far domain, or a hosted domain with a strange local part
            // (which no hosted user has): never a reinterpretation of % or !.
            #expect(["nmap.scanme.org", "[127.0.0.1]", "example.test"].contains(mailbox.domain.normalized), "\(form)")
            if mailbox.domain.normalized == "example.test" {
                #expect(mailbox.localPart.contains("%") || mailbox.localPart.contains("!") || mailbox.localPart.contains("\""), "\(form)")
            }
        }
    }
}

@Suite struct DSNParameterTests {
    @Test func xtextRoundTrip() {
        for text in ["plain", "a+b=c", "rfc822;bob@example.com", "spaces here", "ünï"] {
            #expect(XText.decode(XText.encode(text)) == text)
        }
        #expect(XText.decode("a+2Bb") == "a+b")
        #expect(XText.decode("a+2bb") == nil)  // RFC 3461 §4: upper-case hex only
        #expect(XText.decode("a+2") == nil)
        #expect(XText.decode("a=b") == nil)
    }

    @Test func notifyParsing() {
        #expect(DSNNotify(parameter: "NEVER") == DSNNotify(never: true))
        #expect(DSNNotify(parameter: "success,FAILURE") == DSNNotify(success: true, failure: true))
        #expect(DSNNotify(parameter: "NEVER,SUCCESS") == nil)
        #expect(DSNNotify(parameter: "SOMETIMES") == nil)
        #expect(DSNNotify(parameter: "") == nil)
        #expect(DSNNotify(parameter: "DELAY,FAILURE")?.description == "FAILURE,DELAY")
    }

    @Test func originalRecipient() {
        let orcpt = OriginalRecipient(parameter: "rfc822;bob+2Bx@example.com")
        #expect(orcpt?.addressType == "rfc822")
        #expect(orcpt?.address == "bob+x@example.com")
        #expect(OriginalRecipient(parameter: "nosemicolon") == nil)
        #expect(OriginalRecipient(parameter: ";bob@example.com") == nil)
    }
}
