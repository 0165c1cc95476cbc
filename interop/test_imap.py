"""IMAP (RFC 9051 / RFC 3501) against real clients: Python's imaplib and IMAPClient, curl.

Mail arrives over SMTP from swaks (or APPEND), is read and changed over IMAP, and POP3 and
`tern mailbox` see the same store.
"""
import imaplib
import re
import socket
import ssl
import threading
import time

import pytest
from imapclient import IMAPClient

from conftest import DOMAIN, PASSWORD, USER, free_port
from test_pop3 import insecure, mailbox, message, swaks_send, wait_mailbox, without_trace


@pytest.fixture
def imap(tern_factory):
    return make_imap(tern_factory)


def make_imap(tern_factory, extra=""):
    server = tern_factory(start=False)
    server.imap_port, server.imaps_port, server.pop3_port = free_port(), free_port(), free_port()
    text = open(server.config).read()
    text = text.replace("imap = []", f'imap = ["127.0.0.1:{server.imap_port}"]\nimaps = ["127.0.0.1:{server.imaps_port}"]')
    text = text.replace("pop3 = []", f'pop3 = ["127.0.0.1:{server.pop3_port}"]')
    with open(server.config, "w") as f:
        f.write(text + extra)
    server.start()
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", server.imap_port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    return server


def imaplib_login(server, user=USER, password=PASSWORD):
    client = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=30)
    client.starttls(ssl_context=insecure())
    client.login(user, password)
    return client


def imapclient(server, user=USER, password=PASSWORD):
    client = IMAPClient("127.0.0.1", port=server.imaps_port, ssl=True, ssl_context=insecure(), timeout=30)
    client.login(user, password)
    return client


def test_login_needs_tls_and_then_works(imap):
    client = imaplib.IMAP4("127.0.0.1", imap.imap_port, timeout=30)
    assert "LOGINDISABLED" in client.capabilities and "STARTTLS" in client.capabilities
    with pytest.raises(imaplib.IMAP4.error):
        client.login(USER, PASSWORD)
    client.starttls(ssl_context=insecure())
    assert "AUTH=PLAIN" in client.capabilities
    with pytest.raises(imaplib.IMAP4.error):
        client.login(USER, "wrong")
    typ, data = client.login(USER, PASSWORD)
    assert typ == "OK"
    typ, data = client.capability()
    assert b"IDLE" in data[0] and b"CONDSTORE" in data[0] and b"UIDPLUS" in data[0]
    client.logout()


def test_swaks_message_fetched_byte_identical_and_flags_shared_with_pop3(imap):
    sent = message("imap interop")
    swaks_send(imap, USER, sent)
    wait_mailbox(imap, USER, 1)
    client = imaplib_login(imap)
    typ, data = client.select("INBOX")
    assert typ == "OK" and data == [b"1"]
    typ, data = client.uid("FETCH", "1:*", "(UID RFC822.SIZE BODY.PEEK[])")
    assert typ == "OK"
    fetched = data[0][1]
    assert without_trace(fetched) == sent
    size = int(re.search(rb"RFC822\.SIZE (\d+)", data[0][0]).group(1))
    assert size == len(fetched)
    typ, data = client.fetch("1", "(FLAGS)")
    assert b"\\Seen" not in data[0]
    typ, data = client.fetch("1", "(BODY[TEXT])")
    typ, data = client.fetch("1", "(FLAGS)")
    assert b"\\Seen" in data[0]
    typ, data = client.fetch("1", "(ENVELOPE)")
    assert b'"imap interop"' in data[0] and b'("Sender" NIL "sender" "remote.test")' in data[0]
    client.store("1", "+FLAGS", "\\Deleted")
    typ, data = client.expunge()
    assert data == [b"1"]
    client.logout()
    assert mailbox(imap, USER) == []


def test_imapclient_append_search_copy_move_and_uidplus(imap):
    client = imapclient(imap)
    assert client.has_capability("UIDPLUS") and client.has_capability("MOVE")
    client.create_folder("Projects/2026")
    folders = {name for flags, delimiter, name in client.list_folders()}
    assert {"INBOX", "Sent", "Drafts", "Junk", "Trash", "Archive", "Projects", "Projects/2026"} <= folders
    special = {name: flags for flags, delimiter, name in client.list_folders()}
    assert b"\\Sent" in special["Sent"] and b"\\Trash" in special["Trash"]
    for i in range(5):
        raw = message(f"note {i}", body=f"Body number {i}\r\n")
        result = client.append("Projects/2026", raw, flags=[b"\\Seen"] if i % 2 else [])
        assert b"APPENDUID" in result
    client.select_folder("Projects/2026")
    assert client.search(["UNSEEN"]) == [1, 3, 5]
    assert client.search(["SUBJECT", "note 3"]) == [4]
    assert client.search(["BODY", "number 2"]) == [3]
    assert client.search(["NOT", "SEEN", "SMALLER", 10_000]) == [1, 3, 5]
    envelope = client.fetch([2], ["ENVELOPE"])[2][b"ENVELOPE"]
    assert envelope.subject == b"note 1" and envelope.from_[0].mailbox == b"sender"
    client.copy([1, 2], "Archive")
    client.move([3], "Trash")
    assert client.search(["ALL"]) == [1, 2, 4, 5]
    status = client.folder_status("Trash", ["MESSAGES", "UIDNEXT", "UNSEEN"])
    assert status[b"MESSAGES"] == 1 and status[b"UIDNEXT"] == 2
    assert client.folder_status("Archive", ["MESSAGES"])[b"MESSAGES"] == 2
    client.rename_folder("Projects/2026", "Projects/Done")
    assert "Projects/Done" in {name for _, _, name in client.list_folders()}
    client.logout()


def test_two_sessions_see_each_other_and_idle_wakes_on_delivery(imap):
    watcher = imapclient(imap)
    watcher.select_folder("INBOX")
    watcher.idle()
    swaks_send(imap, USER, message("wake up"))
    responses = watcher.idle_check(timeout=15)
    watcher.idle_done()
    assert any(r[1] == b"EXISTS" for r in responses), responses
    other = imapclient(imap)
    other.select_folder("INBOX")
    other.add_flags([1], [b"\\Flagged"])
    changes = watcher.noop()[1]
    assert any(r[1] == b"FETCH" and b"\\Flagged" in r[2][1] for r in changes), changes
    other.delete_messages([1])
    other.expunge()
    changes = watcher.noop()[1]
    assert any(r[1] == b"EXPUNGE" for r in changes), changes
    other.logout()
    watcher.logout()


def test_condstore_and_qresync(imap):
    client = imapclient(imap)
    client.enable("QRESYNC")
    client.select_folder("INBOX")
    for i in range(3):
        client.append("INBOX", message(f"sync {i}"))
    info = client.select_folder("INBOX")
    modseq = info[b"HIGHESTMODSEQ"]
    client.add_flags([2], [b"$Important"])
    fetched = client.fetch([1, 2, 3], ["FLAGS"], modifiers=[f"CHANGEDSINCE {modseq}"])
    assert list(fetched) == [2] and fetched[2][b"MODSEQ"][0] > modseq
    client.logout()


def test_curl_lists_and_fetches_over_imaps(imap):
    import subprocess
    swaks_send(imap, USER, message("curl imap"))
    wait_mailbox(imap, USER, 1)
    result = subprocess.run(["curl", "-sS", "--insecure", "-u", f"{USER}:{PASSWORD}", f"imaps://127.0.0.1:{imap.imaps_port}/INBOX;UID=1"],
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert without_trace(result.stdout) == message("curl imap")
    listing = subprocess.run(["curl", "-sS", "--insecure", "--ssl-reqd", "-u", f"{USER}:{PASSWORD}", f"imap://127.0.0.1:{imap.imap_port}/"],
                             capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert "INBOX" in listing.stdout and "Sent" in listing.stdout


def read_until(sock, marker, timeout=10):
    sock.settimeout(timeout)
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_literal_and_line_limits_before_login(imap):
    sock = socket.create_connection(("127.0.0.1", imap.imap_port), timeout=10)
    read_until(sock, b"\r\n")
    # A synchronizing literal over the pre-login limit is refused before it is sent.
    sock.sendall(b"a LOGIN {100000}\r\n")
    assert read_until(sock, b"\r\n").startswith(b"a NO [TOOBIG]")
    # The connection is still usable.
    sock.sendall(b"b NOOP\r\n")
    assert read_until(sock, b"b OK") .endswith(b"b OK NOOP completed\r\n")
    # A line past the limit is answered BAD and its rest discarded.
    sock.sendall(b"c NOOP " + b"x" * 70_000 + b"\r\nd NOOP\r\n")
    answer = read_until(sock, b"d OK")
    assert b"c BAD Command line too long" in answer and b"d OK NOOP completed" in answer
    # A non-synchronizing literal over the limit is already on its way: BYE and close.
    sock.sendall(b"e LOGIN {100000+}\r\n" + b"y" * 100_000)
    answer = read_until(sock, b"BYE")
    assert b"* BYE [TOOBIG]" in answer
    sock.close()


def test_plaintext_pipelined_behind_starttls_is_discarded(imap):
    sock = socket.create_connection(("127.0.0.1", imap.imap_port), timeout=10)
    read_until(sock, b"\r\n")
    # CVE-2011-0411's shape: a command injected behind STARTTLS in the same packet.
    sock.sendall(b"a STARTTLS\r\nb LOGIN alice@example.test s3cret-pass\r\n")
    assert read_until(sock, b"a OK").endswith(b"a OK Begin TLS negotiation now\r\n")
    tls = insecure().wrap_socket(sock, server_hostname="mx.example.test")
    tls.sendall(b"c CAPABILITY\r\n")
    answer = read_until(tls, b"c OK")
    assert b"b OK" not in answer and b"b NO" not in answer and b"AUTH=PLAIN" in answer
    tls.sendall(b"d NOOP\r\n")
    assert b"b " not in read_until(tls, b"d OK")
    tls.close()


def test_pop3_dele_and_imap_expunge_agree(imap):
    import poplib
    for i in range(2):
        swaks_send(imap, USER, message(f"shared {i}"))
    wait_mailbox(imap, USER, 2)
    watcher = imapclient(imap)
    watcher.select_folder("INBOX")
    pop = poplib.POP3("127.0.0.1", imap.pop3_port, timeout=30)
    pop.stls(context=insecure())
    pop.user(USER)
    pop.pass_(PASSWORD)
    pop.dele(1)
    pop.quit()
    changes = watcher.noop()[1]
    assert any(r[1] == b"EXPUNGE" for r in changes), changes
    assert watcher.search(["ALL"]) == [2]
    watcher.delete_messages([2])
    watcher.expunge()
    watcher.logout()
    assert mailbox(imap, USER) == []
