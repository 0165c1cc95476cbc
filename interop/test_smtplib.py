"""Python smtplib against Tern: plain, STARTTLS, implicit TLS, SMTPUTF8, pipelining, BDAT."""
import smtplib
import ssl

import pytest
from conftest import DOMAIN, USER, RawSMTP, settled_queue

TLS = ssl._create_unverified_context()
MESSAGE = "From: sender@remote.test\r\nTo: alice@example.test\r\nSubject: interop\r\nMessage-ID: <{id}@remote.test>\r\n\r\nHello.\r\n.leading dot line\r\n"


def test_plain_delivery_to_hosted_user(tern):
    with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
        code, _ = s.ehlo("client.remote.test")
        assert code == 250
        assert s.has_extn("pipelining") and s.has_extn("chunking") and s.has_extn("starttls")
        assert s.has_extn("enhancedstatuscodes") and s.has_extn("smtputf8") and s.has_extn("8bitmime")
        assert s.has_extn("dsn")
        assert s.sendmail("sender@remote.test", [USER], MESSAGE.format(id="plain")) == {}
    queue = settled_queue(tern)
    assert len(queue) == 1
    assert queue[0]["message_id"] == "<plain@remote.test>"
    assert queue[0]["from"] == "sender@remote.test"
    assert queue[0]["recipients"][0]["address"] == USER
    assert queue[0]["recipients"][0]["state"] == "delivered"  # into alice's INBOX
    content = tern.content(queue[0]["id"])
    assert "Received: from client.remote.test ([127.0.0.1])" in content
    assert f"with ESMTP id {queue[0]['id']}" in content
    assert "\n.leading dot line" in content  # dot-unstuffed once


def test_unknown_user_and_relay_refused(tern):
    with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
        s.ehlo()
        s.mail("sender@remote.test")
        assert s.rcpt(f"nobody@{DOMAIN}") == (550, b"5.1.1 No such user here")
        assert s.rcpt("someone@elsewhere.test") == (550, b"5.7.1 Relay access denied")
        code, _ = s.rcpt(f"postmaster@{DOMAIN}")
        assert code == 250
    assert tern.queue() == []


def test_starttls_then_delivery(tern):
    with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
        s.ehlo()
        s.starttls(context=TLS)
        s.ehlo()
        assert not s.has_extn("starttls")
        assert s.sock.version() in ("TLSv1.2", "TLSv1.3")
        assert s.sendmail("sender@remote.test", [USER], MESSAGE.format(id="tls")) == {}
    content = tern.content(tern.queue()[0]["id"])
    assert "with ESMTPS id" in content


def test_second_starttls_refused(tern):
    with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
        s.ehlo()
        s.starttls(context=TLS)
        s.ehlo()
        code, text = s.docmd("STARTTLS")
        assert code == 503 and text.startswith(b"5.5.1")


def test_implicit_tls_submission_requires_auth(tern):
    with smtplib.SMTP_SSL("127.0.0.1", tern.submissions_port, context=TLS) as s:
        s.ehlo()
        code, text = s.mail("sender@remote.test")
        assert code == 530 and text.startswith(b"5.7.0")


def test_starttls_submission_requires_auth(tern):
    with smtplib.SMTP("127.0.0.1", tern.submission_port) as s:
        s.ehlo()
        s.starttls(context=TLS)
        s.ehlo()
        code, _ = s.mail("sender@remote.test")
        assert code == 530


def test_smtputf8(tern):
    tern.cli("user", "add", f"josé@{DOMAIN}", "--password-stdin", input="pw-for-jose\n")
    with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
        s.ehlo()
        msg = "From: zoë@remote.test\r\nSubject: héllo\r\n\r\nÜnïcode body\r\n".encode()
        assert s.sendmail("zoë@remote.test", [f"josé@{DOMAIN}"], msg, mail_options=["SMTPUTF8", "BODY=8BITMIME"]) == {}
        # Without SMTPUTF8 the same address is refused with 553 5.6.7 (RFC 6531 §3.4).
        s.mail("plain@remote.test")
        code, text = s.rcpt(f"josé@{DOMAIN}")
        assert code == 553 and text.startswith(b"5.6.7")
    queue = tern.queue()
    assert queue[0]["from"] == "zoë@remote.test"
    assert queue[0]["recipients"][0]["address"] == f"josé@{DOMAIN}"
    assert "with UTF8SMTP id" in tern.content(queue[0]["id"])


def test_pipelined_group(tern):
    c = RawSMTP(tern.smtp_port)
    assert c.reply()[0] == 220
    assert c.command("EHLO raw.test")[0] == 250
    c.send(
        f"MAIL FROM:<a@remote.test>\r\nRCPT TO:<{USER}>\r\nRCPT TO:<nobody@{DOMAIN}>\r\nRCPT TO:<bob@{DOMAIN}>\r\nDATA\r\n"
    )
    assert [c.reply()[0] for _ in range(5)] == [250, 250, 550, 250, 354]
    c.send("Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    code, text = c.reply()
    assert code == 250 and "queued as" in text
    assert c.reply()[0] == 221
    assert [r["address"] for r in tern.queue()[0]["recipients"]] == [USER, f"bob@{DOMAIN}"]


def test_bdat_chunks(tern):
    c = RawSMTP(tern.smtp_port)
    c.reply()
    c.command("EHLO raw.test")
    c.command("MAIL FROM:<a@remote.test> BODY=8BITMIME")
    c.command(f"RCPT TO:<{USER}>")
    first = b"Subject: bdat\r\n\r\n"
    second = b"line one\r\n.line with dot, not stuffed\r\n"
    c.send(b"BDAT %d\r\n" % len(first) + first)
    assert c.reply()[0] == 250
    c.send(b"BDAT %d LAST\r\n" % len(second) + second)
    code, text = c.reply()
    assert code == 250 and "queued as" in text
    content = tern.content(tern.queue()[0]["id"])
    assert ".line with dot, not stuffed" in content
    # DATA after BDAT in a transaction is a sequence error; BDAT without RCPT reads then refuses.
    c.command("MAIL FROM:<a@remote.test>")
    c.send(b"BDAT 5 LAST\r\nhello")
    assert c.reply()[0] == 503
    c.command("RSET")
    c.close()


def test_message_size_limit(tern_factory):
    tern = tern_factory('[limits]\nmax_message_size = 2048')
    with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
        s.ehlo()
        assert s.esmtp_features["size"] == "2048"
        code, text = s.mail("a@remote.test", ["SIZE=4096"])
        assert (code, text[:5]) == (552, b"5.3.4")
        # smtplib declares SIZE, which is refused at MAIL; without it the body is read through.
        with pytest.raises(smtplib.SMTPSenderRefused):
            s.sendmail("a@remote.test", [USER], "Subject: big\r\n\r\n" + ("x" * 70 + "\r\n") * 100)
        assert s.mail("a@remote.test")[0] == 250
        assert s.rcpt(USER)[0] == 250
        code, text = s.data("Subject: big\r\n\r\n" + ("x" * 70 + "\r\n") * 100)
        assert (code, text[:5]) == (552, b"5.3.4")
        # The session goes on after the refusal, and nothing was kept.
        assert s.noop()[0] == 250
    assert tern.queue() == []


@pytest.mark.parametrize(
    "sequence", [b"\n.\n", b"\n.\r\n", b"\r.\r\n", b"\r\n.\r", b"\r.\r", b"\n.\r", b"\r.\n", b"\r\n.\n"]
)
def test_smuggling_sequences_refused(tern, sequence):
    c = RawSMTP(tern.smtp_port)
    c.reply()
    c.command("EHLO raw.test")
    c.send(f"MAIL FROM:<a@remote.test>\r\nRCPT TO:<{USER}>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    smuggled = (
        b"Subject: first\r\n\r\nbody" + sequence + b"MAIL FROM:<admin@" + DOMAIN.encode() + b">\r\n"
        b"RCPT TO:<bob@" + DOMAIN.encode() + b">\r\nDATA\r\nSubject: smuggled\r\n\r\nforged\r\n.\r\n"
    )
    c.send(smuggled)
    code, text = c.reply()
    assert code == 550 and text.startswith("5.5.2")
    assert c.command("NOOP")[0] == 250
    assert tern.queue() == []


def test_address_with_control_characters_refused(tern):
    c = RawSMTP(tern.smtp_port)
    c.reply()
    c.command("EHLO raw.test")
    c.send(b"MAIL FROM:<a\x00b@remote.test>\r\n")
    assert c.reply()[0] == 501
    c.send(b"MAIL FROM:<a@remote.test>\rRCPT TO:<x@y>\r\n")
    assert c.reply()[0] == 501


def test_long_command_line(tern):
    c = RawSMTP(tern.smtp_port)
    c.reply()
    code, _ = c.command("NOOP " + "x" * 600)
    assert code == 500
    code, _ = c.command("NOOP " + "x" * 10000)
    assert code == 500
    assert c.command("NOOP")[0] == 250


def test_plaintext_pipelined_after_starttls_is_discarded(tern):
    """CVE-2011-0411: commands sent in plaintext behind STARTTLS must not run inside TLS."""
    c = RawSMTP(tern.smtp_port)
    c.reply()
    c.command("EHLO injector.test")
    c.send(f"STARTTLS\r\nMAIL FROM:<evil@remote.test>\r\nRCPT TO:<{USER}>\r\n")
    code, _ = c.reply()
    assert code == 220
    assert c.buffer == b""
    tls = TLS.wrap_socket(c.sock, server_hostname="mx.example.test")
    c.sock = tls
    code, _ = c.command("EHLO injector.test")
    assert code == 250
    # Had the injected MAIL run, this RCPT would be accepted; it must be out of sequence.
    code, text = c.command(f"RCPT TO:<{USER}>")
    assert code == 503 and text.startswith("5.5.1")
