"""The command-line surface of DESIGN.md."""
import json
import subprocess

from conftest import DOMAIN, PASSWORD, TERN, USER, settled_queue


def test_version_and_help():
    out = subprocess.run([TERN, "version"], capture_output=True, text=True).stdout
    assert out.startswith("tern ")
    for command in (["serve"], ["domain", "check"], ["key", "create"], ["key", "list"], ["key", "revoke"], ["domain", "add"], ["domain", "list"], ["user", "add"], ["user", "list"],
                    ["user", "remove"], ["user", "passwd"], ["alias", "add"], ["queue", "list"], ["queue", "show"], ["queue", "remove"], ["version"]):
        result = subprocess.run([TERN, *command, "--help"], capture_output=True, text=True)
        assert result.returncode == 0 and "USAGE" in result.stdout.upper(), command


def test_domain_and_user_management(tern_factory):
    tern = tern_factory(start=False)
    out = tern.cli("domain", "add", "second.test").stdout
    assert "second.test. 3600 IN MX 10 mx.example.test." in out
    assert "v=spf1" in out and "_dmarc.second.test." in out
    assert tern.cli("domain", "add", "second.test", check=False).returncode == 1
    domains = json.loads(tern.cli("domain", "list", "--json").stdout)
    assert {d["name"] for d in domains} == {DOMAIN, "second.test"}
    users = json.loads(tern.cli("user", "list", "--json").stdout)
    assert {u["address"] for u in users} == {USER, f"bob@{DOMAIN}"}
    assert all(u["plan"] == "free" for u in users)
    generated = tern.cli("user", "add", "carol@second.test").stdout
    assert "Password (shown once):" in generated
    assert tern.cli("user", "add", "dave@unhosted.test", input="x\n", check=False).returncode == 1
    assert tern.cli("user", "add", "eve@second.test", "--plan", "gold", check=False).returncode == 2
    tern.cli("user", "remove", "carol@second.test")
    assert tern.cli("user", "remove", "carol@second.test", check=False).returncode == 1
    table = tern.cli("user", "list").stdout.splitlines()
    assert table[0].split() == ["ADDRESS", "PLAN", "ADMIN", "CREATED"]
    # Operators: added as one, or made and unmade one later.
    tern.cli("user", "add", "root@second.test", "--admin", "--password-stdin", input="operator-pass\n")
    admins = {u["address"]: u["admin"] for u in json.loads(tern.cli("user", "list", "--json").stdout)}
    assert admins == {USER: False, f"bob@{DOMAIN}": False, "root@second.test": True}
    tern.cli("user", "set-admin", USER)
    tern.cli("user", "set-admin", "root@second.test", "--off")
    assert json.loads(tern.cli("user", "show", USER, "--json").stdout)["admin"] is True
    assert json.loads(tern.cli("user", "show", "root@second.test", "--json").stdout)["admin"] is False
    assert tern.cli("user", "set-admin", "nobody@second.test", check=False).returncode == 1


def test_queue_show_and_remove(tern):
    import smtplib

    with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
        s.sendmail("x@remote.test", [USER], "Subject: show me\r\n\r\nbody\r\n")
    queue_id = tern.queue()[0]["id"]
    shown = tern.cli("queue", "show", queue_id).stdout
    assert f"id: {queue_id}" in shown and "Subject: show me" in shown
    settled_queue(tern)
    human = tern.cli("queue", "list").stdout
    assert queue_id in human and "delivered" in human
    tern.cli("queue", "remove", queue_id)
    assert tern.queue() == []
    assert tern.cli("queue", "remove", queue_id, check=False).returncode == 1
    assert tern.cli("queue", "show", queue_id, check=False).returncode == 1


def test_admin_commands_work_while_serving(tern):
    # The server holds the database open; admin commands share it, as postqueue does.
    tern.cli("user", "add", f"live@{DOMAIN}", "--password-stdin", input="pw\n")
    import smtplib

    with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
        assert s.sendmail("x@remote.test", [f"live@{DOMAIN}"], "Subject: live\r\n\r\n.\r\n") == {}


def test_first_start_creates_data_dir_and_certificate(tern):
    import os

    data = os.path.join(tern.directory, "data")
    assert os.path.exists(os.path.join(data, "tern.sqlite"))
    assert os.path.exists(os.path.join(data, "tls", "certificate.pem"))
    assert oct(os.stat(os.path.join(data, "tls", "private_key.pem")).st_mode & 0o777) == "0o600"


def test_json_surface_and_passwd(tern):
    """Issue 11's command-line surface: records and every list/show as JSON, `user passwd`."""
    import smtplib
    import ssl
    import time

    records = json.loads(tern.cli("domain", "records", DOMAIN, "--json").stdout)
    assert [r["type"] for r in records][:2] == ["MX", "TXT"]
    assert {"name", "type", "value"} <= set(records[0])
    assert records[0] == {"name": DOMAIN, "type": "MX", "value": "10 mx.example.test.", "ttl": 3600}
    dkim = [r for r in records if "._domainkey." in r["name"]]
    assert len(dkim) == 1 and dkim[0]["value"].startswith("v=DKIM1; k=rsa; p=")
    assert '" "' not in dkim[0]["value"]  # one value, not zone-file strings
    keys = json.loads(tern.cli("domain", "dkim", "list", DOMAIN, "--json").stdout)
    assert [k["state"] for k in keys] == ["active"] and dkim[0]["name"].startswith(keys[0]["selector"] + ".")
    assert tern.cli("domain", "records", "nothere.test", "--json", check=False).returncode == 1

    with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
        s.sendmail("x@remote.test", [USER], "Message-ID: <m1@remote.test>\r\nSubject: json me\r\n\r\nbody\r\n")
    deadline = time.time() + 30
    while time.time() < deadline:
        listed = json.loads(tern.cli("mailbox", "list", USER, "--folder", "INBOX", "--json").stdout)
        if listed:
            break
        time.sleep(0.2)
    assert len(listed) == 1
    entry = listed[0]
    assert entry["folder"] == "INBOX" and entry["message_id"] == "<m1@remote.test>" and entry["subject"] == "json me"
    assert entry["uid"] == 1 and entry["size"] > 0 and entry["flags"] == []
    shown = json.loads(tern.cli("mailbox", "show", USER, "1", "--json").stdout)
    assert shown["folder"] == "INBOX" and "Subject: json me" in shown["content"]
    queue_id = tern.queue()[0]["id"]
    queued = json.loads(tern.cli("queue", "show", queue_id, "--json").stdout)
    assert queued["id"] == queue_id and queued["recipients"][0]["address"] == USER
    assert any(e["type"] == "delivered" for e in queued["events"]) and "Subject: json me" in queued["content"]

    context = ssl._create_unverified_context()

    def login(password):
        with smtplib.SMTP("127.0.0.1", tern.submission_port) as s:
            s.starttls(context=context)
            try:
                return s.login(USER, password)[0]
            except smtplib.SMTPAuthenticationError as error:
                return error.smtp_code

    tern.cli("user", "passwd", USER, "--password-stdin", input="a-brand-new-pass\n")
    assert login("a-brand-new-pass") == 235
    assert login(PASSWORD) == 535
    assert tern.cli("user", "passwd", f"nobody@{DOMAIN}", "--password-stdin", input="x\n", check=False).returncode == 1
    assert tern.cli("user", "passwd", USER, "--password-stdin", input="\n", check=False).returncode == 2
