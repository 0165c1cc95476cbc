import Testing

@testable import IMAPServer

/// Timers (RFC 9051 §5.4): autologout after inactivity, IDLE's keep-alive, and IDLE restarting
/// the autologout clock.
@Suite struct IMAPTimerTests {
    @Test func inactivityEndsTheSession() async throws {
        let h = try await IMAPHarness.make(autologout: .milliseconds(50), idleKeepalive: .milliseconds(20))
        let said = await h.waitFor("* BYE Autologout")
        #expect(said.contains("* BYE Autologout; idle for too long"))
        #expect(await h.waitFor("never", timeout: .milliseconds(200)) == "")
        let closed = h.transport.closed.load(ordering: .relaxed)
        #expect(closed)
    }

    @Test func idleSaysStillHereAndIsEndedByDone() async throws {
        let h = try await IMAPHarness.make(idleKeepalive: .milliseconds(30)).loggedIn()
        _ = await h.send("s SELECT INBOX")
        h.input.yield(.command(Array("i IDLE\r\n".utf8)))
        let said = await h.waitFor("* OK Still here")
        #expect(said.hasPrefix("+ idling\r\n") && said.contains("* OK Still here\r\n"))
        await h.line("DONE")
        #expect(await h.finishCommand().hasSuffix("i OK IDLE terminated\r\n"))
        h.stop()
    }

    @Test func anythingButDoneEndsIdleWithBad() async throws {
        let h = try await IMAPHarness.make().loggedIn()
        h.input.yield(.command(Array("i IDLE\r\n".utf8)))
        _ = await h.waitFor("+ idling")
        await h.line("x NOOP")
        #expect(await h.finishCommand() == "i BAD Expected DONE\r\n")
        h.stop()
    }
}
