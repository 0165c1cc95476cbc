"""Issue 12, hardening, against the real binary over loopback: each test is an attack that
worked before its fix (or a rule the issue sets), driven with smtplib, poplib and raw sockets."""
import json
import os
import re
import smtplib
import socket
import stat
import subprocess
import time

import pytest
from conftest import DOMAIN, PASSWORD, USER, RawSMTP, free_port
from peers import DNSServer, ScriptedMX, free_port_on
from test_pop3 import login, make_pop, wait_mailbox

MX_PORT = free_port_on("127.0.0.9", "127.0.0.10")


def with_config(tern_factory, extra, dns=None):
    """A server whose [dns] points at `dns` (or the dead default) with `extra` appended."""
    server = tern_factory(start=False)
    text = open(server.config).read()
    if dns:
        text = text.replace('[dns]\nnameservers = ["127.0.0.1:1"]\n', f'[dns]\nnameservers = ["{dns.address}"]\n')
    with open(server.config, "w") as f:
        f.write(text + extra)
    server.start()
    return server


def wait_state(tern, queue_id, states, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        message = next(m for m in tern.queue() if m["id"] == queue_id)
        if all(r["state"] in states for r in message["recipients"]):
            return message
        time.sleep(0.1)
    raise AssertionError(f"{queue_id} never reached {states}: {message}")


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    server = DNSServer(
        tmp_path_factory.mktemp("dns"),
        mx=[("inside.test", "mx.inside.test", 10), ("notls.test", "mx.notls.test", 10)],
        hosts=[("mx.inside.test", "127.0.0.9"), ("mx.notls.test", "127.0.0.10")],
    )
    yield server
    server.stop()


def test_no_public_suffix_list_refuses_to_start(tern_factory):
    """Item 6: DMARC fails closed; the old fallback guessed organizational domains."""
    server = tern_factory(start=False)
    with open(server.config, "a") as f:
        f.write('[mail_auth]\npublic_suffix_list = "/nonexistent/public_suffix_list.dat"\n')
    result = subprocess.run([os.environ.get("TERN_BIN"), "serve", "--config", server.config], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result
    assert "/nonexistent/public_suffix_list.dat" in result.stderr and "publicsuffix" in result.stderr, result.stderr
    # With inbound checks off the list is not needed.
    with open(server.config, "a") as f:
        f.write("check_inbound = false\n")
    server.start()


def test_mx_on_a_private_address_is_never_dialled(tern_factory, dns):
    """Item 4: an MX that points at 127.0.0.9 was dialled; now the mail bounces with 5.4.4."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.9", MX_PORT))
    listener.listen(5)
    listener.settimeout(0.2)
    try:
        tern = with_config(tern_factory, f'[relay]\ntrusted_networks = ["127.0.0.1/32"]\n[delivery]\nsmtp_port = {MX_PORT}\n', dns=dns)
        with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
            s.sendmail(USER, ["victim@inside.test"], f"From: {USER}\r\nSubject: ssrf\r\n\r\nhi\r\n")
        queued = [m for m in tern.queue() if m["recipients"][0]["address"] == "victim@inside.test"][0]
        message = wait_state(tern, queued["id"], {"bounced"})
        assert "5.4.4" in message["recipients"][0]["last_reply"], message
        with pytest.raises(socket.timeout):
            listener.accept()
    finally:
        listener.close()


def test_postmaster_is_delivered_and_never_bounced(tern_factory):
    """Item 3: <Postmaster> was accepted and then bounced to whatever sender the client named."""
    tern = make_pop(tern_factory)
    with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
        s.sendmail("victim@elsewhere.test", ["Postmaster"], "From: x@elsewhere.test\r\nSubject: to the postmaster\r\n\r\nhi\r\n")
        s.sendmail("victim@elsewhere.test", [f"POSTMASTER@{DOMAIN}"], "From: x@elsewhere.test\r\nSubject: again\r\n\r\nhi\r\n")
    # The first user added (alice) is the postmaster by default.
    messages = wait_mailbox(tern, USER, 2)
    assert {m["subject"] for m in messages} == {"to the postmaster", "again"}
    time.sleep(0.5)
    assert not [m for m in tern.queue() if m["from"] == ""], "a bounce was queued"


def test_pop3_dele_removes_the_bytes_from_the_database(tern_factory):
    """Item 7: after DELE and QUIT the message stayed in the database file."""
    tern = make_pop(tern_factory)
    marker = "SECRET-MARKER-0c1d2e3f"
    with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
        # 24 KB: SQLite keeps it in overflow pages, which a delete without secure_delete leaves
        # readable on the free list.
        body = f"{marker} a line of the secret text\r\n" * 600
        s.sendmail("someone@elsewhere.test", [USER], f"From: someone@elsewhere.test\r\nSubject: secret\r\n\r\n{body}")
    wait_mailbox(tern, USER, 1)
    database = os.path.join(tern.directory, "data", "tern.sqlite")

    def on_disk():
        data = b""
        for path in (database, database + "-wal"):
            if os.path.exists(path):
                data += open(path, "rb").read()
        return marker.encode() in data

    client = login(tern)
    client.dele(1)
    client.quit()
    # The checkpointer truncates the WAL once the server has been idle for an interval.
    deadline = time.time() + 10
    while on_disk() and time.time() < deadline:
        time.sleep(0.2)
    assert not on_disk(), "deleted content still readable in the database files"
    queue_id = tern.queue()[0]["id"]
    assert "content: deleted" in tern.cli("queue", "show", queue_id).stdout


def test_data_directory_and_files_are_private(tern_factory):
    """Item 7: data_dir 0700, every database and key file 0600; a looser one is tightened."""
    tern = tern_factory()
    data = os.path.join(tern.directory, "data")
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    for root, dirs, files in os.walk(data):
        for name in dirs:
            assert stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode) & 0o077 == 0, name
        for name in files:
            assert stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode) & 0o077 == 0, name
    tern.stop()
    os.chmod(data, 0o755)
    os.chmod(os.path.join(data, "tern.sqlite"), 0o644)
    tern.start()
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(data, "tern.sqlite")).st_mode) == 0o600
    log = open(tern.log_path).read()
    assert "was open to others; it is now 0700" in log and "it is now 0600" in log, log


def test_a_mail_loop_is_refused(tern):
    """Item 4: more than 50 Received fields is a loop: 554 5.4.6."""
    hops = "".join(f"Received: from h{i}.test by h{i + 1}.test; Sun, 22 Nov 2026 10:00:00 +0000\r\n" for i in range(51))
    with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            s.sendmail("a@elsewhere.test", [USER], hops + "From: a@elsewhere.test\r\n\r\nloop\r\n")
    assert refused.value.smtp_code == 554 and b"5.4.6" in refused.value.smtp_error
    with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
        s.sendmail("a@elsewhere.test", [USER], hops.split("\r\n", 1)[1] + "From: a@elsewhere.test\r\n\r\nfifty\r\n")


def test_queue_show_escapes_terminal_controls(tern):
    """Item 8: a message could drive the terminal that `tern queue show` printed it on."""
    with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
        s.sendmail("a@elsewhere.test", [USER], "From: a@elsewhere.test\r\nSubject: \x1b]0;pwned\x07\x1b[2J\r\n\r\nbody\r\n")
    queue_id = tern.queue()[0]["id"]
    shown = tern.cli("queue", "show", queue_id).stdout
    assert "\x1b" not in shown and "\x07" not in shown
    assert "Subject: \\x1b]0;pwned\\x07\\x1b[2J" in shown, shown
    raw = subprocess.run([os.environ["TERN_BIN"], "queue", "show", queue_id, "--raw", "--config", tern.config], capture_output=True, timeout=60)
    assert b"\x1b]0;pwned\x07" in raw.stdout
    log = open(tern.log_path, "rb").read()
    assert b"\x1b" not in log


def test_forged_authentication_results_removed_on_submission(tern):
    """Item 9: a submitted message could carry an Authentication-Results naming this server."""
    import ssl
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP("127.0.0.1", tern.submission_port) as s:
        s.starttls(context=context)
        s.login(USER, PASSWORD)
        s.sendmail(USER, [f"bob@{DOMAIN}"], f"Authentication-Results: mx.example.test; dkim=pass header.d=bank.test\r\n"
                                             f"From : {USER}\r\nSubject: forged\r\n\r\nhi\r\n")
        # "From :" with a space is a From field: another domain's address is refused there.
        with pytest.raises(smtplib.SMTPDataError) as refused:
            s.sendmail(USER, [f"bob@{DOMAIN}"], "From : ceo@bank.test\r\nSubject: spoof\r\n\r\nhi\r\n")
        assert refused.value.smtp_code == 550 and b"5.7.1" in refused.value.smtp_error
    content = tern.content(tern.queue()[0]["id"])
    assert "dkim=pass header.d=bank.test" not in content, content


def test_mail_rset_flood_keeps_descriptors_flat_and_is_cut_off(tern_factory):
    """Item 2: thousands of pipelined MAIL/RSET pairs, each with a new sender domain (each
    starting SPF work against a nameserver that never answers), kept tasks and sockets growing;
    now one check per connection at a time, and 1,000 MAIL commands per connection."""
    black_hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    black_hole.bind(("127.0.0.1", 0))

    class Hole:
        address = f"127.0.0.1:{black_hole.getsockname()[1]}"

    tern = with_config(tern_factory, "", dns=Hole())
    pid = tern.process.pid

    def descriptors():
        return len(os.listdir(f"/proc/{pid}/fd"))

    before = descriptors()
    client = RawSMTP(tern.smtp_port)
    client.reply()
    client.command("EHLO flood.test")
    peak = before
    replies = []
    closed = False
    for batch in range(12):
        client.send("".join(f"MAIL FROM:<x@s{batch}-{i}.flood.test>\r\nRSET\r\n" for i in range(100)).encode())
        for _ in range(200):
            try:
                code, text = client.reply()
            except ConnectionError:
                closed = True
                break
            replies.append((code, text))
            if code == 421:
                closed = True
                break
        # Cancelled checks close their sockets within moments; without cancellation each would
        # hold one for the resolver's whole timeout (2 s, twice), hundreds at a time.
        time.sleep(0.3)
        peak = max(peak, descriptors())
        if closed:
            break
    assert replies[-1][0] == 421 and replies[-1][1].startswith("4.7.0"), replies[-3:]
    assert sum(1 for code, text in replies if code == 250 and text.startswith("2.1.0")) == 1000
    assert peak - before <= 10, f"descriptors grew from {before} to {peak}"
    client.close()
    black_hole.close()


def test_verify_certificates_never_sends_in_plaintext(tern_factory, dns):
    """Item 5: with verify_certificates an MX without STARTTLS got the message in plaintext."""
    mx = ScriptedMX("127.0.0.10", MX_PORT)
    try:
        tern = with_config(
            tern_factory,
            f'[relay]\ntrusted_networks = ["127.0.0.1/32"]\n[delivery]\nsmtp_port = {MX_PORT}\nverify_certificates = true\n'
            'allow_private_destinations = true\nretry_schedule = ["1h"]\n', dns=dns)
        with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
            s.sendmail(USER, ["bob@notls.test"], f"From: {USER}\r\nSubject: secret\r\n\r\nconfidential\r\n")
        queued = [m for m in tern.queue() if m["recipients"][0]["address"] == "bob@notls.test"][0]
        message = wait_state(tern, queued["id"], {"deferred"})
        assert "4.7.10" in message["recipients"][0]["last_reply"], message
        assert mx.messages == []
    finally:
        mx.stop()
