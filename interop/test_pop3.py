"""Local delivery and POP3 against real clients: Python poplib, curl, fetchmail.

A message sent to the MX with swaks is delivered into the mailbox and downloaded byte-identical
apart from the trace fields Tern adds (Return-Path, Delivered-To, Received,
Authentication-Results).
"""
import json
import os
import poplib
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

from conftest import DOMAIN, PASSWORD, USER, free_port

BOB = f"bob@{DOMAIN}"
BOB_PASSWORD = "another-pass"
TRACE = re.compile(rb"^(Return-Path|Delivered-To|Received|Authentication-Results):.*?\r\n(?=\S)", re.S | re.I)


def insecure():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@pytest.fixture
def pop(tern_factory):
    return make_pop(tern_factory)


def make_pop(tern_factory, extra=""):
    server = tern_factory(start=False)
    server.pop3_port, server.pop3s_port = free_port(), free_port()
    text = open(server.config).read()
    text = text.replace("pop3 = []", f'pop3 = ["127.0.0.1:{server.pop3_port}"]\npop3s = ["127.0.0.1:{server.pop3s_port}"]')
    with open(server.config, "w") as f:
        f.write(text + extra)
    server.start()
    return server


def mailbox(tern, user, folder="INBOX"):
    out = tern.cli("mailbox", "list", user, "--folder", folder, "--json").stdout
    return json.loads(out)


def wait_mailbox(tern, user, count, folder="INBOX", timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        messages = mailbox(tern, user, folder)
        if len(messages) >= count:
            return messages
        time.sleep(0.1)
    raise AssertionError(f"{user} {folder} has {len(mailbox(tern, user, folder))} messages, expected {count}")


def swaks_send(tern, to, data):
    path = tempfile.mktemp(suffix=".eml")
    with open(path, "wb") as f:
        # swaks ends the data with CRLF "." CRLF itself: a file that already ends in CRLF would
        # gain an empty last line.
        f.write(data[:-2] if data.endswith(b"\r\n") else data)
    try:
        result = subprocess.run(["swaks", "--server", f"127.0.0.1:{tern.smtp_port}", "--from", "sender@remote.test", "--to", to,
                                 "--data", f"@{path}"], capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(path)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def message(subject, body="First line.\r\n.A line that starts with a dot\r\n\r\nLast line.\r\n"):
    return (f"From: Sender <sender@remote.test>\r\nTo: <{USER}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@remote.test>\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\n{body}").encode()


def without_trace(content):
    while True:
        stripped = TRACE.sub(b"", content, count=1)
        if stripped == content or not TRACE.match(content):
            return content
        content = stripped


def login(tern, user=USER, password=PASSWORD):
    client = poplib.POP3("127.0.0.1", tern.pop3_port, timeout=30)
    client.stls(context=insecure())
    client.user(user)
    client.pass_(password)
    return client


def test_swaks_to_mx_then_poplib_curl_and_fetchmail_get_the_same_bytes(pop):
    sent = message("pop interop")
    swaks_send(pop, USER, sent)
    wait_mailbox(pop, USER, 1)

    client = login(pop)
    count, size = client.stat()
    assert count == 1
    response, lines, octets = client.retr(1)
    retrieved = b"\r\n".join(lines) + b"\r\n"
    assert octets >= len(retrieved)
    assert without_trace(retrieved) == sent
    assert retrieved.startswith(b"Return-Path: <sender@remote.test>\r\nDelivered-To: " + USER.encode())
    # TOP: the header and one body line.
    _, top, _ = client.top(1, 1)
    assert top[-1] == b"First line." and b"" in top
    # UIDL is stable across sessions.
    uidl = client.uidl()[1]
    client.quit()
    again = login(pop)
    assert again.uidl()[1] == uidl
    again.quit()

    # curl over implicit TLS (pop3s), logging in with SASL (RFC 5034 AUTH) PLAIN, then LOGIN.
    for mechanism in ("PLAIN", "LOGIN"):
        curl = subprocess.run(["curl", "-sv", "--insecure", "--max-time", "30", "-u", f"{USER}:{PASSWORD}",
                               "--login-options", f"AUTH={mechanism}", f"pop3s://127.0.0.1:{pop.pop3s_port}/1"],
                              capture_output=True, timeout=60)
        assert curl.returncode == 0, curl.stderr
        assert f"> AUTH {mechanism}".encode() in curl.stderr
        assert without_trace(curl.stdout) == sent

    # fetchmail with STLS, keeping the message, handing it to an MDA that writes a file.
    work = tempfile.mkdtemp(prefix="tern-fetchmail-")
    out_path = os.path.join(work, "fetched.eml")
    rc = os.path.join(work, "fetchmailrc")
    with open(rc, "w") as f:
        f.write(f'poll 127.0.0.1 service {pop.pop3_port} protocol pop3 auth password\n'
                f'  user "{USER}" password "{PASSWORD}" sslproto tls1.2+ no sslcertck\n'
                f'  keep mda "cat > {out_path}"\n')
    os.chmod(rc, 0o600)
    result = subprocess.run(["fetchmail", "-f", rc, "--invisible", "--nosyslog", "-v", "--pidfile", os.path.join(work, "pid")],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": work})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "STLS" in result.stdout or "TLS" in result.stdout
    fetched = open(out_path, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert without_trace(fetched) == sent


def test_dele_needs_quit_and_a_second_session_is_refused(pop):
    for i in range(2):
        swaks_send(pop, USER, message(f"dele {i}"))
    wait_mailbox(pop, USER, 2)
    first = login(pop)
    # A second client while the maildrop is locked.
    second = poplib.POP3("127.0.0.1", pop.pop3_port, timeout=30)
    second.stls(context=insecure())
    second.user(USER)
    with pytest.raises(poplib.error_proto, match=r"\[IN-USE\]"):
        second.pass_(PASSWORD)
    second.quit()
    # DELE, then the connection drops: nothing is deleted.
    first.dele(1)
    first.sock.shutdown(socket.SHUT_RDWR)  # the connection drops without QUIT
    first.sock.close()
    time.sleep(0.5)
    assert len(mailbox(pop, USER)) == 2
    # DELE, then QUIT: deleted.
    client = login(pop)
    client.dele(1)
    assert client.stat()[0] == 1
    client.quit()
    remaining = mailbox(pop, USER)
    assert len(remaining) == 1
    final = login(pop)
    _, lines, _ = final.retr(1)
    assert b"Subject: dele 1" in lines
    final.quit()


def test_plaintext_login_is_refused_and_stls_injection_is_discarded(pop):
    with socket.create_connection(("127.0.0.1", pop.pop3_port), timeout=30) as raw:
        reader = raw.makefile("rb")
        assert reader.readline().startswith(b"+OK")
        raw.sendall(f"USER {USER}\r\n".encode())
        assert reader.readline().startswith(b"-ERR [AUTH]")
        # STLS with a command pipelined behind it in the same packet (CVE-2011-0411 style).
        raw.sendall(b"STLS\r\nCAPA\r\n")
        assert reader.readline() == b"+OK Begin TLS negotiation\r\n"
        tls = insecure().wrap_socket(raw, server_hostname="mx.example.test")
        tls_reader = tls.makefile("rb")
        tls.sendall(b"NOOP\r\n")
        # The injected CAPA was dropped: the first answer inside TLS is our own.
        assert tls_reader.readline() == b"-ERR Unknown command or not allowed before login\r\n"
        tls.sendall(b"CAPA\r\n")
        capa = []
        while True:
            line = tls_reader.readline()
            capa.append(line)
            if line == b".\r\n":
                break
        assert b"USER\r\n" in capa and b"STLS\r\n" not in capa
        tls.sendall(b"QUIT\r\n")
        assert tls_reader.readline().startswith(b"+OK")


def test_wrong_passwords_then_block(tern_factory):
    pop = make_pop(tern_factory, "[limits]\nauth_failures_before_delay = 100\nauth_failures_before_block = 3\n")
    for _ in range(2):
        client = poplib.POP3("127.0.0.1", pop.pop3_port, timeout=30)
        client.stls(context=insecure())
        client.user(USER)
        with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
            client.pass_("wrong")
        client.quit()
    client = poplib.POP3("127.0.0.1", pop.pop3_port, timeout=30)
    client.stls(context=insecure())
    client.user(USER)
    with pytest.raises(poplib.error_proto):
        client.pass_("wrong")
    # Blocked now: even the right password is refused.
    client = poplib.POP3("127.0.0.1", pop.pop3_port, timeout=30)
    client.stls(context=insecure())
    client.user(USER)
    with pytest.raises(poplib.error_proto, match=r"Too many failed"):
        client.pass_(PASSWORD)


def test_alias_catch_all_subaddress_and_quota(pop):
    pop.cli("alias", "add", f"team@{DOMAIN}", USER, BOB)
    pop.cli("domain", "catch-all", DOMAIN, BOB)
    swaks_send(pop, f"team@{DOMAIN}", message("to the team"))
    swaks_send(pop, f"nobody-here@{DOMAIN}", message("to anyone"))
    swaks_send(pop, f"alice+lists@{DOMAIN}", message("tagged"))
    wait_mailbox(pop, USER, 2)
    wait_mailbox(pop, BOB, 2)
    alice = login(pop)
    subjects = sorted(re.search(rb"Subject: ([^\r]*)", b"\r\n".join(alice.retr(i + 1)[1])).group(1) for i in range(alice.stat()[0]))
    alice.quit()
    assert subjects == [b"tagged", b"to the team"]
    bob = login(pop, BOB, BOB_PASSWORD)
    bob_subjects = sorted(re.search(rb"Subject: ([^\r]*)", b"\r\n".join(bob.retr(i + 1)[1])).group(1) for i in range(bob.stat()[0]))
    bob.quit()
    assert bob_subjects == [b"to anyone", b"to the team"]
    # Quota: alice holds more than 100 bytes already, so RCPT is refused with 552 5.2.2.
    pop.cli("user", "set-quota", USER, "100")
    time.sleep(2.1)  # the receiver's positive-answer cache lives 2 s
    with smtplib.SMTP("127.0.0.1", pop.smtp_port) as s:
        s.ehlo()
        s.mail("sender@remote.test")
        code, reply = s.rcpt(USER)
    assert code == 552 and b"5.2.2" in reply
    # Room for a little more, not for this message: refused at the end of DATA.
    used = json.loads(pop.cli("mailbox", "list", USER, "--json").stdout)["bytes"]
    pop.cli("user", "set-quota", USER, str(used + 100))
    time.sleep(2.1)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        with smtplib.SMTP("127.0.0.1", pop.smtp_port) as s:
            s.sendmail("sender@remote.test", [USER], message("too big", body=("x" * 70 + "\r\n") * 30))
    assert refused.value.smtp_code == 552 and b"5.2.2" in refused.value.smtp_error


def test_kill9_during_local_delivery_of_500_messages(pop):
    """kill -9 while 500 messages are being accepted and delivered locally; after a restart every
    accepted message is in the mailbox exactly once."""
    source = subprocess.Popen(["smtp-source", "-s", "10", "-m", "500", "-l", "2048", "-f", "load@remote.test",
                               "-t", USER, "-d", f"127.0.0.1:{pop.smtp_port}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    delivered = 0
    while time.time() < deadline:
        delivered = len(mailbox(pop, USER))
        if delivered >= 50:
            break
        time.sleep(0.02)
    pop.kill9()  # local deliveries are being written as this happens
    source.wait(timeout=60)
    accepted = len(pop.queue())
    in_mailbox_before = len(mailbox(pop, USER))
    assert delivered >= 50 and accepted >= in_mailbox_before
    pop.start()
    # The rest of the 500 after the restart.
    rest = subprocess.run(["smtp-source", "-s", "10", "-m", str(500 - accepted), "-l", "2048", "-f", "load@remote.test",
                           "-t", USER, "-d", f"127.0.0.1:{pop.smtp_port}"], capture_output=True, text=True, timeout=300)
    assert rest.returncode == 0, rest.stderr
    deadline = time.time() + 120
    while time.time() < deadline:
        queue = pop.queue()
        if all(r["state"] == "delivered" for m in queue for r in m["recipients"]):
            break
        time.sleep(0.2)
    queue = pop.queue()
    assert len(queue) == 500
    assert all(r["state"] == "delivered" for m in queue for r in m["recipients"])
    messages = mailbox(pop, USER)
    assert len(messages) == 500
    assert {m["queue_id"] for m in messages} == {m["id"] for m in queue}
    print(f"killed with {accepted} accepted and {in_mailbox_before} in the mailbox; 500 of 500 once each after the restart")
