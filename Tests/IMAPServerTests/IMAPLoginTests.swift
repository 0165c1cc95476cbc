import Testing

import MailService
@testable import IMAPServer

/// Not-authenticated state: CAPABILITY, LOGIN, AUTHENTICATE, STARTTLS, and what is refused.
@Suite struct IMAPLoginTests {
    @Test func plaintextLoginIsDisabledWithoutTLS() async throws {
        let h = try await IMAPHarness.make(tls: false)
        #expect(h.greeting.contains("STARTTLS") && h.greeting.contains("LOGINDISABLED") && !h.greeting.contains("AUTH=PLAIN"))
        #expect(await h.send("a LOGIN alice@example.test pw-123456").hasPrefix("a NO [PRIVACYREQUIRED]"))
        #expect(await h.send("b AUTHENTICATE PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABwdy0xMjM0NTY=").hasPrefix("b NO [PRIVACYREQUIRED]"))
        #expect(await h.send("c STARTTLS") == "c OK Begin TLS negotiation now\r\n")
        let started = h.transport.tlsStarted.load(ordering: .relaxed)
        #expect(started)
        let capability = await h.send("d CAPABILITY")
        #expect(capability.contains("AUTH=PLAIN") && !capability.contains("STARTTLS") && !capability.contains("LOGINDISABLED"))
        #expect(await h.send("e LOGIN alice@example.test pw-123456").hasPrefix("e OK [CAPABILITY"))
        h.stop()
    }

    @Test func allowPlaintextPermitsLogin() async throws {
        let h = try await IMAPHarness.make(tls: false, allowPlaintext: true)
        #expect(await h.send("a LOGIN alice@example.test pw-123456").hasPrefix("a OK"))
        h.stop()
    }

    @Test func commandsOfOtherStatesAreBad() async throws {
        let h = try await IMAPHarness.make()
        for command in ["SELECT INBOX", "LIST \"\" *", "FETCH 1 FLAGS", "EXPUNGE", "APPEND INBOX {1+}\r\nx", "IDLE", "ENABLE CONDSTORE"] {
            #expect(await h.send("t \(command)").hasPrefix("t BAD"), "\(command)")
        }
        _ = await h.loggedIn()
        #expect(await h.send("t FETCH 1 FLAGS") == "t BAD No mailbox selected\r\n")
        #expect(await h.send("t LOGIN a b") == "t BAD Already logged in\r\n")
        #expect(await h.send("t STARTTLS") == "t BAD Already logged in\r\n")
        h.stop()
    }

    @Test func wrongPasswordAndUnknownUserGetTheSameAnswer() async throws {
        let h = try await IMAPHarness.make()
        let wrong = await h.send("a LOGIN alice@example.test nope")
        let unknown = await h.send("b LOGIN nobody@example.test nope")
        #expect(wrong == "a NO [AUTHENTICATIONFAILED] Authentication failed\r\n")
        #expect(unknown == "b NO [AUTHENTICATIONFAILED] Authentication failed\r\n")
        h.stop()
    }

    @Test func authenticatePlainWithAndWithoutInitialResponse() async throws {
        let h = try await IMAPHarness.make()
        // "\0alice@example.test\0pw-123456"
        let token = "AGFsaWNlQGV4YW1wbGUudGVzdABwdy0xMjM0NTY="
        h.input.yield(.command(Array("a AUTHENTICATE PLAIN\r\n".utf8)))
        #expect(await h.waitFor("+ ").hasPrefix("+ "))
        await h.line(token)
        #expect(await h.finishCommand().hasPrefix("a OK [CAPABILITY"))
        let again = try await IMAPHarness.make(store: h.store)
        #expect(await again.send("b AUTHENTICATE PLAIN \(token)").hasPrefix("b OK"))
        #expect(await (try await IMAPHarness.make(store: h.store)).send("c AUTHENTICATE PLAIN !!!").hasPrefix("c BAD"))
        #expect(await (try await IMAPHarness.make(store: h.store)).send("d AUTHENTICATE CRAM-MD5").hasPrefix("d NO [CANNOT]"))
        h.stop()
        again.stop()
    }

    @Test func cancelledAuthenticationCountsAsAFailure() async throws {
        let limits = AbuseLimits(settings: AbuseLimits.Settings(authFailuresBeforeDelay: 100, authFailuresBeforeBlock: 2))
        let h = try await IMAPHarness.make(limits: limits)
        h.input.yield(.command(Array("a AUTHENTICATE PLAIN\r\n".utf8)))
        _ = await h.waitFor("+ ")
        await h.line("*")
        #expect(await h.finishCommand() == "a BAD Authentication cancelled\r\n")
        h.input.yield(.command(Array("b AUTHENTICATE PLAIN\r\n".utf8)))
        _ = await h.waitFor("+ ")
        await h.line("*")
        _ = await h.finishCommand()
        // Blocked now: even the right password is refused and the connection ends.
        let blocked = await h.send("c LOGIN alice@example.test pw-123456")
        #expect(blocked.contains("c NO [UNAVAILABLE]") && blocked.contains("* BYE"))
        h.stop()
    }

    @Test func logoutSaysBye() async throws {
        let h = try await IMAPHarness.make()
        #expect(await h.send("z LOGOUT") == "* BYE Logging out\r\nz OK LOGOUT completed\r\n")
    }

    @Test func malformedCommandsAreBadWithTheirTag() async throws {
        let h = try await IMAPHarness.make()
        #expect(await h.send("x FROB").hasPrefix("x BAD Expected a known command"))
        #expect(await h.send("").hasPrefix("* BAD"))
        h.stop()
    }
}
