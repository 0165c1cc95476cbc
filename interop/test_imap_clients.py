"""IMAP with real mail programs: mbsync (isync) two-way sync, fetchmail over IMAP, and neomutt
driven in tmux. Loopback only; every client trusts Tern's own certificate or runs under TLS
with verification off, never a public CA lookup."""
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import PASSWORD, USER
from test_imap import imapclient, make_imap
from test_pop3 import message, swaks_send, wait_mailbox, without_trace


@pytest.fixture
def imap(tern_factory):
    return make_imap(tern_factory)


def certificate(server):
    return os.path.join(server.directory, "data", "tls", "certificate.pem")


def maildir_files(path):
    return sorted(os.listdir(os.path.join(path, "cur")) + os.listdir(os.path.join(path, "new")))


def run_mbsync(config):
    result = subprocess.run(["mbsync", "-c", config, "-a"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.mark.skipif(shutil.which("mbsync") is None, reason="isync is installed by scripts/test")
def test_mbsync_syncs_both_ways_with_flags_and_deletions(imap):
    client = imapclient(imap)
    for i in range(3):
        client.append("INBOX", message(f"sync {i}"))
    work = tempfile.mkdtemp(prefix="mbsync-")
    local = os.path.join(work, "mail") + "/"
    os.makedirs(local)
    config = os.path.join(work, "mbsyncrc")
    with open(config, "w") as f:
        f.write(f"""IMAPAccount tern
Host 127.0.0.1
Port {imap.imaps_port}
User {USER}
Pass {PASSWORD}
SSLType IMAPS
CertificateFile {certificate(imap)}

IMAPStore remote
Account tern

MaildirStore local
Path {local}
Inbox {local}INBOX
SubFolders Verbatim

Channel inbox
Far :remote:INBOX
Near :local:INBOX
Create Both
Expunge Both
SyncState *
Sync All
""")
    run_mbsync(config)
    inbox = os.path.join(local, "INBOX")
    files = maildir_files(inbox)
    assert len(files) == 3
    contents = {}
    for name in files:
        folder = "cur" if os.path.exists(os.path.join(inbox, "cur", name)) else "new"
        with open(os.path.join(inbox, folder, name), "rb") as fh:
            contents[name] = (folder, fh.read())
    # Maildir files have LF line ends (mbsync converts).
    subjects = {name: data.split(b"Subject: ")[1].split(b"\n")[0].rstrip(b"\r") for name, (_, data) in contents.items()}
    by_subject = {v: k for k, v in subjects.items()}
    # Locally: read "sync 0", delete "sync 1" (trashed flag), add a new message.
    seen = by_subject[b"sync 0"]
    folder = contents[seen][0]
    base = seen.split(":2,")[0]
    os.rename(os.path.join(inbox, folder, seen), os.path.join(inbox, "cur", base + ":2,S"))
    gone = by_subject[b"sync 1"]
    folder = contents[gone][0]
    os.rename(os.path.join(inbox, folder, gone), os.path.join(inbox, "cur", gone.split(":2,")[0] + ":2,T"))
    with open(os.path.join(inbox, "new", f"{int(time.time())}.local.test"), "wb") as fh:
        fh.write(message("written locally"))
    # On the server: flag "sync 2".
    client.select_folder("INBOX")
    uid_of = {client.fetch([u], ["ENVELOPE"])[u][b"ENVELOPE"].subject: u for u in client.search(["ALL"])}
    client.add_flags([uid_of[b"sync 2"]], [b"\\Flagged"])
    run_mbsync(config)
    client.select_folder("INBOX")
    on_server = {}
    for uid, data in client.fetch(client.search(["ALL"]), ["ENVELOPE", "FLAGS"]).items():
        on_server[data[b"ENVELOPE"].subject] = set(data[b"FLAGS"])
    assert set(on_server) == {b"sync 0", b"sync 2", b"written locally"}
    assert b"\\Seen" in on_server[b"sync 0"]
    files = maildir_files(inbox)
    assert len(files) == 3
    flagged = [name for name in files if name.split(":2,")[-1].find("F") >= 0]
    assert len(flagged) == 1
    client.logout()
    shutil.rmtree(work, ignore_errors=True)


def test_fetchmail_over_imap_downloads_and_deletes(imap):
    sent = message("fetch me")
    swaks_send(imap, USER, sent)
    wait_mailbox(imap, USER, 1)
    work = tempfile.mkdtemp(prefix="fetchmail-imap-")
    out = os.path.join(work, "mbox")
    rc = os.path.join(work, "fetchmailrc")
    with open(rc, "w") as f:
        f.write(f'poll 127.0.0.1 service {imap.imap_port} protocol imap auth password\n'
                f'  user "{USER}" password "{PASSWORD}" sslproto tls1.2+ no sslcertck\n'
                f'  mda "cat >> {out}"\n')
    os.chmod(rc, 0o600)
    result = subprocess.run(["fetchmail", "-f", rc, "--invisible", "--nosyslog", "-v", "--pidfile", os.path.join(work, "pid")],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": work})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "STARTTLS" in result.stdout
    with open(out, "rb") as fh:
        fetched = fh.read()
    assert b"Subject: fetch me" in fetched and b"First line." in fetched
    # fetchmail marks it deleted and expunges: the mailbox is empty afterwards.
    client = imapclient(imap)
    assert client.select_folder("INBOX")[b"EXISTS"] == 0
    client.logout()
    shutil.rmtree(work, ignore_errors=True)


@pytest.mark.skipif(shutil.which("neomutt") is None or shutil.which("tmux") is None, reason="installed by scripts/test")
def test_neomutt_in_tmux_reads_a_message(imap):
    swaks_send(imap, USER, message("hello neomutt", body="The secret word is pelican.\r\n"))
    wait_mailbox(imap, USER, 1)
    work = tempfile.mkdtemp(prefix="neomutt-")
    rc = os.path.join(work, "neomuttrc")
    with open(rc, "w") as f:
        f.write(f"""set folder = "imaps://{USER.replace('@', '%40')}@127.0.0.1:{imap.imaps_port}/"
set spoolfile = "+INBOX"
set imap_pass = "{PASSWORD}"
set ssl_verify_host = no
set certificate_file = "{work}/certificates"
set header_cache = ""
set message_cachedir = ""
set imap_check_subscribed = no
set mail_check = 1
set timeout = 1
set pager_stop = yes
""")
    # The certificate is accepted once ("a"lways) when neomutt asks; tmux sends the keys.
    session = f"tern-neomutt-{os.getpid()}"
    env = {**os.environ, "HOME": work, "TERM": "xterm"}
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "50", f"neomutt -n -F {rc}"], check=True, env=env)

    def screen():
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout

    def wait(text, timeout=30, keys_if=None):
        deadline = time.time() + timeout
        while time.time() < deadline:
            current = screen()
            if text in current:
                return current
            if keys_if and keys_if[0] in current:
                subprocess.run(["tmux", "send-keys", "-t", session, keys_if[1]])
            time.sleep(0.3)
        raise AssertionError(f"{text!r} not on the screen:\n{screen()}")

    try:
        wait("hello neomutt", keys_if=("(r)eject", "a"))
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"])
        shown = wait("pelican")
        assert "The secret word is pelican." in shown
        subprocess.run(["tmux", "send-keys", "-t", session, "q"])
        time.sleep(0.5)
        subprocess.run(["tmux", "send-keys", "-t", session, "q"])
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    # Reading it set \Seen on the server.
    client = imapclient(imap)
    client.select_folder("INBOX")
    assert client.search(["SEEN"]) == [1]
    client.logout()
