import MailCore
import Testing

@testable import SASL

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct PlainTests {
    @Test func initialResponse() {
        var x = SASLServerExchange(mechanism: .plain, hostname: "mx")
        #expect(x.start(initialResponse: bytes("\0alice@example.test\0secret")) == .verifyPassword(username: "alice@example.test", password: "secret"))
        #expect(x.passwordChecked(true) == .success(username: "alice@example.test"))
    }

    @Test func emptyChallengeThenResponse() {
        var x = SASLServerExchange(mechanism: .plain, hostname: "mx")
        #expect(x.start(initialResponse: nil) == .challenge([]))
        #expect(x.respond(bytes("alice\0alice\0pw")) == .verifyPassword(username: "alice", password: "pw"))
        #expect(x.passwordChecked(false) == .failure(.invalidCredentials))
    }

    @Test(arguments: ["alice\0secret", "\0\0secret", "\0alice\0", "no nulls", "\0a\0b\0c"])
    func malformed(message: String) {
        var x = SASLServerExchange(mechanism: .plain, hostname: "mx")
        #expect(x.start(initialResponse: bytes(message)) == .failure(.malformed))
    }

    @Test func otherAuthorizationIdentityIsDenied() {
        var x = SASLServerExchange(mechanism: .plain, hostname: "mx")
        #expect(x.start(initialResponse: bytes("boss\0alice\0pw")) == .failure(.authorizationDenied))
    }

    @Test func overlongResponse() {
        var x = SASLServerExchange(mechanism: .plain, hostname: "mx")
        _ = x.start(initialResponse: nil)
        #expect(x.respond([UInt8](repeating: 65, count: 20000)) == .failure(.malformed))
    }

    @Test func invalidUTF8() {
        var x = SASLServerExchange(mechanism: .plain, hostname: "mx")
        #expect(x.start(initialResponse: [0, 0xFF, 0xFE, 0, 65]) == .failure(.malformed))
    }
}

@Suite struct LoginTests {
    @Test func twoChallenges() {
        var x = SASLServerExchange(mechanism: .login, hostname: "mx")
        #expect(x.start(initialResponse: nil) == .challenge(bytes("Username:")))
        #expect(x.respond(bytes("alice")) == .challenge(bytes("Password:")))
        #expect(x.respond(bytes("pw")) == .verifyPassword(username: "alice", password: "pw"))
        #expect(x.passwordChecked(true) == .success(username: "alice"))
    }

    @Test func initialResponseIsTheUsername() {
        var x = SASLServerExchange(mechanism: .login, hostname: "mx")
        #expect(x.start(initialResponse: bytes("alice")) == .challenge(bytes("Password:")))
    }

    @Test func emptyPassword() {
        var x = SASLServerExchange(mechanism: .login, hostname: "mx")
        _ = x.start(initialResponse: bytes("alice"))
        #expect(x.respond([]) == .failure(.malformed))
    }
}

@Suite struct CRAMMD5Tests {
    /// RFC 2195 §2 example.
    @Test func rfc2195Example() {
        var x = SASLServerExchange(mechanism: .cramMD5, hostname: "postoffice.reston.mci.net", nonce: { "1896.697170952" })
        #expect(x.start(initialResponse: nil) == .challenge(bytes("<1896.697170952.postoffice.reston.mci.net>")))
        // The RFC's challenge has "@" where ours has "."; recompute with its exact text.
        var rfc = SASLServerExchange(mechanism: .cramMD5, hostname: "x", nonce: { "n" })
        _ = rfc.start(initialResponse: nil)
        #expect(HMACMD5.hex(key: bytes("tanstaaftanstaaf"), message: bytes("<1896.697170952@postoffice.reston.mci.net>")) == "b913a602c7eda7a495b4e6e7334d3890")
    }

    @Test func verifiesDigest() {
        var x = SASLServerExchange(mechanism: .cramMD5, hostname: "mx.test", nonce: { "123.456" })
        guard case .challenge(let challenge) = x.start(initialResponse: nil) else {
            Issue.record("no challenge")
            return
        }
        let digest = HMACMD5.hex(key: bytes("secret"), message: challenge)
        #expect(x.respond(bytes("tim \(digest)")) == .needCRAMSecret(username: "tim"))
        #expect(x.cramSecret(bytes("secret")) == .success(username: "tim"))

        var wrong = SASLServerExchange(mechanism: .cramMD5, hostname: "mx.test", nonce: { "123.456" })
        _ = wrong.start(initialResponse: nil)
        _ = wrong.respond(bytes("tim \(digest)"))
        #expect(wrong.cramSecret(bytes("other")) == .failure(.invalidCredentials))

        var unknown = SASLServerExchange(mechanism: .cramMD5, hostname: "mx.test", nonce: { "123.456" })
        _ = unknown.start(initialResponse: nil)
        _ = unknown.respond(bytes("nobody \(digest)"))
        #expect(unknown.cramSecret(nil) == .failure(.invalidCredentials))
    }

    @Test(arguments: ["tim", "tim xyz", "tim b913a602c7eda7a495b4e6e7334d389", " b913a602c7eda7a495b4e6e7334d3890"])
    func malformed(response: String) {
        var x = SASLServerExchange(mechanism: .cramMD5, hostname: "mx")
        _ = x.start(initialResponse: nil)
        #expect(x.respond(bytes(response)) == .failure(.malformed))
    }
}

@Suite struct SCRAMTests {
    /// RFC 7677 §3: the SCRAM-SHA-256 example exchange, user "user", password "pencil".
    @Test func rfc7677Vector() throws {
        let salt = try #require(Base64Text.decode("W22ZaJ0SNY7soEsUEjb6gQ=="))
        let credentials = try SCRAMCredentials.derive(password: "pencil", salt: salt, iterations: 4096)
        var x = SASLServerExchange(mechanism: .scramSHA256, hostname: "mx", nonce: { "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0" })
        #expect(x.start(initialResponse: bytes("n,,n=user,r=rOprNGfwEbeRWgbNEkqO")) == .needSCRAMCredentials(username: "user"))
        #expect(
            x.scramCredentials(credentials, decoy: .decoy())
                == .challenge(bytes("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")))
        let final = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        #expect(x.respond(bytes(final)) == .challenge(bytes("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")))
        #expect(x.respond([]) == .success(username: "user"))
    }

    func exchange(proofTweak: Bool = false, credentials: SCRAMCredentials?) throws -> SASLServerExchange.Step {
        let salt = try #require(Base64Text.decode("W22ZaJ0SNY7soEsUEjb6gQ=="))
        var x = SASLServerExchange(mechanism: .scramSHA256, hostname: "mx", nonce: { "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0" })
        _ = x.start(initialResponse: bytes("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))
        _ = x.scramCredentials(credentials, decoy: try SCRAMCredentials.derive(password: "decoy", salt: salt, iterations: 4096))
        let proof = proofTweak ? "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVA=" : "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        return x.respond(bytes("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=\(proof)"))
    }

    @Test func wrongProofAndUnknownUserFailAlike() throws {
        let salt = try #require(Base64Text.decode("W22ZaJ0SNY7soEsUEjb6gQ=="))
        let good = try SCRAMCredentials.derive(password: "pencil", salt: salt, iterations: 4096)
        #expect(try exchange(proofTweak: true, credentials: good) == .failure(.invalidCredentials))
        #expect(try exchange(credentials: nil) == .failure(.invalidCredentials))
        let other = try SCRAMCredentials.derive(password: "not pencil", salt: salt, iterations: 4096)
        #expect(try exchange(credentials: other) == .failure(.invalidCredentials))
    }

    @Test(arguments: [
        "p=tls-server-end-point,,n=user,r=abc", "n,,r=abc", "n,,n=user", "n,,n=,r=abc", "x,,n=user,r=abc", "n,,n=us=er,r=abc",
        "n,,m=ext,n=user,r=abc", "n,a=boss,n=user,r=abc",
    ])
    func badClientFirst(message: String) {
        var x = SASLServerExchange(mechanism: .scramSHA256, hostname: "mx")
        let step = x.start(initialResponse: bytes(message))
        #expect(step == .failure(.malformed) || step == .failure(.authorizationDenied))
    }

    @Test func saslnameEscapes() {
        var x = SASLServerExchange(mechanism: .scramSHA256, hostname: "mx")
        #expect(x.start(initialResponse: bytes("n,,n=a=2Cb=3Dc,r=abc")) == .needSCRAMCredentials(username: "a,b=c"))
    }

    @Test func wrongChannelBindingOrNonce() throws {
        let salt = try #require(Base64Text.decode("W22ZaJ0SNY7soEsUEjb6gQ=="))
        let good = try SCRAMCredentials.derive(password: "pencil", salt: salt, iterations: 4096)
        for final in [
            "c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=!!",
        ] {
            var x = SASLServerExchange(mechanism: .scramSHA256, hostname: "mx", nonce: { "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0" })
            _ = x.start(initialResponse: bytes("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))
            _ = x.scramCredentials(good, decoy: .decoy())
            #expect(x.respond(bytes(final)) == .failure(.invalidCredentials), "\(final)")
        }
    }

    @Test func credentialsRoundTrip() throws {
        let c = try SCRAMCredentials.derive(password: "pw", salt: [1, 2, 3, 4], iterations: 4096)
        #expect(SCRAMCredentials(encoded: c.encoded) == c)
        #expect(SCRAMCredentials(encoded: "garbage") == nil)
    }
}

@Suite struct Base64Tests {
    @Test func strict() {
        #expect(Base64Text.decode("AGFsaWNlAHB3") == bytes("\0alice\0pw"))
        #expect(Base64Text.decode("") == [])
        #expect(Base64Text.decode("abc") == nil)
        #expect(Base64Text.decode("ab!=") == nil)
        #expect(Base64Text.decode("YW Jj") == nil)
    }
}
