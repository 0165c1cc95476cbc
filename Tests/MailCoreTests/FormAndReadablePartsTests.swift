import MailCore
import Testing

/// The urlencoded form parser the dashboard and the unsubscribe endpoint use.
@Suite struct FormBodyTests {
    @Test func formBodies() {
        let form = FormBody(Array("email=alice%40example.test&password=a+b%2Bc%&csrf=x&csrf=y&empty=&flag".utf8))
        #expect(form["email"] == "alice@example.test")
        #expect(form["password"] == "a b+c%")
        #expect(form.getAll("csrf") == ["x", "y"])
        #expect(form["empty"] == "" && form["flag"] == "" && form["missing"] == nil)
    }
}

@Suite struct ReadablePartsTests {
    @Test func htmlAndTextOfAnAlternativeWithAnAttachment() {
        let message = """
            From: a@example.test\r
            Content-Type: multipart/mixed; boundary="outer"\r
            \r
            --outer\r
            Content-Type: multipart/alternative; boundary="inner"\r
            \r
            --inner\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            Caf=C3=A9 text\r
            --inner\r
            Content-Type: text/html; charset=iso-8859-1\r
            Content-Transfer-Encoding: base64\r
            \r
            PHA+Q2Fm6TwvcD4=\r
            --inner--\r
            --outer\r
            Content-Type: text/html\r
            Content-Disposition: attachment; filename="x.html"\r
            \r
            <p>attached</p>\r
            --outer--\r
            """
        let parts = ReadableParts(message: Array(message.utf8))
        #expect(parts.text == "Café text")
        #expect(parts.html == "<p>Café</p>")
    }

    @Test func aPlainMessageHasOnlyText() {
        let parts = ReadableParts(message: Array("Subject: x\r\n\r\nhello\r\n".utf8))
        #expect(parts == ReadableParts(message: Array("Subject: y\r\n\r\nhello\r\n".utf8)))
        #expect(parts.html == nil && parts.text == "hello\r\n")
    }
}
