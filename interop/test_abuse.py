"""What one attacker can do to the shared application core and protocol edge (issue 11):
failed logins over one protocol count against every other, a failed SASL exchange lends its
looked-up user to nothing, and a client that pipelines without reading cannot grow the server.
"""
import base64
import poplib
import smtplib
import socket
import ssl
import time

import pytest

from conftest import PASSWORD, USER, RawSMTP
from test_auth import scram_sha256, submit
from test_pop3 import insecure, make_pop

TLS = ssl._create_unverified_context()


def smtp_from(tern, source):
    s = smtplib.SMTP("127.0.0.1", tern.submission_port, source_address=(source, 0), timeout=30)
    s.ehlo()
    s.starttls(context=TLS)
    s.ehlo()
    return s


def test_pop3_failures_block_smtp_auth_from_the_same_address(tern_factory):
    pop = make_pop(tern_factory, "[limits]\nauth_failures_before_delay = 100\nauth_failures_before_block = 3\n")
    for _ in range(3):
        client = poplib.POP3("127.0.0.1", pop.pop3_port, timeout=30)
        client.stls(context=insecure())
        client.user(USER)
        with pytest.raises(poplib.error_proto):
            client.pass_("wrong")
        client.close()
    # SMTP AUTH from the same address: blocked, even with the right password.
    s = smtp_from(pop, "127.0.0.1")
    code, text = s.docmd("AUTH", "PLAIN " + base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode())
    assert code == 535
    code, text = s.getreply()
    assert code == 421 and text.startswith(b"4.7.0")
    s.close()
    # Another address is not affected, over SMTP or POP3.
    s = smtp_from(pop, "127.0.0.2")
    assert s.login(USER, PASSWORD)[0] == 235
    s.quit()
    client = poplib.POP3("127.0.0.1", pop.pop3_port, timeout=30)
    client.stls(context=insecure())
    client.user(USER)
    with pytest.raises(poplib.error_proto, match=r"Too many failed"):
        client.pass_(PASSWORD)


def test_smtp_failures_block_pop3_from_the_same_address(tern_factory):
    pop = make_pop(tern_factory, "[limits]\nauth_failures_before_delay = 100\nauth_failures_before_block = 2\n")
    s = smtp_from(pop, "127.0.0.1")
    for attempt in range(2):
        code, _ = s.docmd("AUTH", "PLAIN " + base64.b64encode(f"\0{USER}\0wrong-{attempt}".encode()).decode())
        assert code == 535
    assert s.getreply()[0] == 421  # blocked: the session ends
    s.close()
    client = poplib.POP3("127.0.0.1", pop.pop3_port, timeout=30)
    client.stls(context=insecure())
    client.user(USER)
    with pytest.raises(poplib.error_proto, match=r"Too many failed"):
        client.pass_(PASSWORD)


def test_failed_cram_md5_then_scram_cannot_act_as_the_cram_user(tern_factory):
    tern = tern_factory("[auth]\ncram_md5 = true")
    tern.cli("domain", "add", "other.test")
    tern.cli("user", "add", "bob@other.test", "--password-stdin", input="bobs-password\n")
    with submit(tern) as s:
        code, challenge = s.docmd("AUTH", "CRAM-MD5")
        assert code == 334
        wrong = base64.b64encode(b"bob@other.test " + b"0" * 32).decode()
        code, _ = s.docmd(wrong)
        assert code == 535
        # A good login of one's own, by another mechanism...
        assert scram_sha256(s, USER, PASSWORD) == 235
        # ...is one's own account, not bob's.
        code, text = s.mail("bob@other.test")
        assert code == 553 and text.startswith(b"5.7.1"), (code, text)
        s.rset()
        assert s.mail(USER)[0] == 250


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def flood_without_reading(sock, chunk, limit=40_000_000):
    """Sends `chunk` over and over, never reading, until `limit` bytes went out or the peer has
    taken nothing for two seconds (its window is shut); at most 20 s. Returns the bytes sent."""
    sent, deadline, last_progress = 0, time.time() + 20, time.time()
    while sent < limit and time.time() < deadline and time.time() - last_progress < 2:
        try:
            sent += sock.send(chunk)
            last_progress = time.time()
        except BlockingIOError:
            time.sleep(0.01)
    return sent


def test_pipelined_noops_without_reading_do_not_grow_the_server(tern):
    """Issue 11: 40 MB of NOOP from a client that never reads grew the server by 115 MB. Now
    replies stop being produced once the peer has 64 KiB unread, and reads pause."""
    warm = RawSMTP(tern.smtp_port)
    warm.reply()
    for _ in range(50):
        warm.command("NOOP")
    warm.close()
    time.sleep(0.5)
    before = rss_kib(tern.process.pid)

    flood = socket.create_connection(("127.0.0.1", tern.smtp_port), timeout=30)
    flood.setblocking(False)
    chunk = b"NOOP\r\n" * 10922  # 64 KiB
    sent = flood_without_reading(flood, chunk)
    # The server stopped reading: far less than 40 MB went in before the window closed.
    assert sent < 40_000_000, "the server kept reading everything a non-reading client sent"

    # Another client is served meanwhile.
    other = RawSMTP(tern.smtp_port)
    start = time.time()
    assert other.reply()[0] == 220
    assert other.command("EHLO other.test")[0] == 250
    assert other.command("NOOP")[0] == 250
    assert time.time() - start < 5
    other.command("QUIT")
    other.close()

    grown = rss_kib(tern.process.pid) - before
    print(f"sent {sent} bytes without reading; server RSS grew {grown} KiB")
    assert grown < 8 * 1024, f"server grew by {grown} KiB"

    # The flooding client still gets its replies, in order, once it reads.
    flood.setblocking(True)
    received = flood.recv(4096)
    assert received.startswith(b"220 ")
    flood.close()


def test_pop3_pipelining_without_reading_does_not_grow_the_server(tern_factory):
    pop = make_pop(tern_factory, "[pop3]\nallow_plaintext = true\n")
    time.sleep(0.5)
    before = rss_kib(pop.process.pid)
    flood = socket.create_connection(("127.0.0.1", pop.pop3_port), timeout=30)
    flood.setblocking(False)
    chunk = b"CAPA\r\n" * 10922
    sent = flood_without_reading(flood, chunk)
    assert sent < 40_000_000
    grown = rss_kib(pop.process.pid) - before
    print(f"sent {sent} bytes of CAPA without reading; server RSS grew {grown} KiB")
    assert grown < 8 * 1024, f"server grew by {grown} KiB"
    flood.close()
