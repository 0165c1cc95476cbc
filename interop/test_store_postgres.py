"""The PostgreSQL store (issue 17), from the command line: `tern store migrate` against a real
PostgreSQL (the private cluster scripts/test starts, or one this module starts itself), a bad
URL and an unreachable database each one clear line and exit 2, migrations applied once when
two nodes migrate at the same moment."""
import json
import os
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import TERN, postgres_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tern(config_text, *args, timeout=60, input=None):
    directory = tempfile.mkdtemp(prefix="tern-interop-store-")
    config = os.path.join(directory, "tern.toml")
    with open(config, "w") as f:
        f.write(f'data_dir = "{directory}/data"\nhostname = "mx.example.test"\n' + config_text)
    return subprocess.run([TERN, *args, "--config", config], capture_output=True, text=True, timeout=timeout, input=input)


def test_migrate_applies_the_schema_once_and_again_changes_nothing(database):
    first = tern(postgres_config(database), "store", "migrate")
    assert first.returncode == 0, first.stderr
    assert "up to date (v1-schema, v2-directory-notify)" in first.stdout
    # The password never appears in what is printed.
    assert "@127.0.0.1" in first.stdout
    tables = subprocess.run(["psql", database, "-qAtc", "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert int(tables) >= 25
    again = tern(postgres_config(database), "store", "migrate")
    assert again.returncode == 0 and "up to date (v1-schema, v2-directory-notify)" in again.stdout
    rows = subprocess.run(["psql", database, "-qAtc", "SELECT count(*) FROM tern_migrations"], capture_output=True, text=True, check=True)
    assert rows.stdout.strip() == "2"


def test_two_nodes_migrating_at_once_apply_each_migration_once(database):
    results = []
    threads = [threading.Thread(target=lambda: results.append(tern(postgres_config(database), "store", "migrate"))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 3 and all(r.returncode == 0 for r in results), [r.stderr for r in results]
    rows = subprocess.run(["psql", database, "-qAtc", "SELECT name FROM tern_migrations"], capture_output=True, text=True, check=True)
    assert sorted(rows.stdout.split()) == ["v1-schema", "v2-directory-notify"]


def test_a_bad_url_is_one_line_and_exit_2():
    for url, words in [("mysql://u@h/d", "postgres://"), ("postgres://u@h:99999/d", "port"), ("postgres://u@h/d?sslmode=allow", "sslmode")]:
        result = tern(postgres_config(url), "store", "migrate")
        assert result.returncode == 2, result
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "store.postgres.url" in lines[0] and words in lines[0], lines
    missing = tern('[store]\nbackend = "postgres"\n', "store", "migrate")
    assert missing.returncode == 2 and "store.postgres.url" in missing.stderr


def test_an_unreachable_database_is_one_line_and_exit_2():
    # A loopback port with nothing listening.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.time()
    result = tern(postgres_config(f"postgres://tern:secret@127.0.0.1:{port}/tern?sslmode=disable"), "store", "migrate", timeout=60)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "store.postgres.url" in lines[0] and f"127.0.0.1:{port}" in lines[0], lines
    assert "secret" not in result.stderr
    assert time.time() - started < 30


def test_commands_run_against_the_shared_database(database):
    """Any node's commands see the one directory: a domain and user added with one node's
    configuration are listed with another's (its own data_dir)."""
    first = tern(postgres_config(database, node="a"), "domain", "add", "example.test")
    assert first.returncode == 0, first.stderr
    added = tern(postgres_config(database, node="a"), "user", "add", "alice@example.test", "--password-stdin", input="pw-of-alice\n")
    assert added.returncode == 0, added.stderr
    alias = tern(postgres_config(database, node="b"), "alias", "add", "team@example.test", "alice@example.test")
    assert alias.returncode == 0, alias.stderr
    listed = tern(postgres_config(database, node="b"), "user", "list", "--json")
    assert listed.returncode == 0 and [u["address"] for u in json.loads(listed.stdout)] == ["alice@example.test"], listed
    folders = tern(postgres_config(database, node="b"), "mailbox", "list", "alice@example.test")
    assert folders.returncode == 0 and "INBOX" in folders.stdout, folders
    # An unreachable database is one clear line for every command, not only `store migrate`.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = tern(postgres_config(f"postgres://tern@127.0.0.1:{port}/tern?sslmode=disable"), "user", "list")
    assert down.returncode == 2 and len(down.stderr.strip().splitlines()) == 1 and "store.postgres.url" in down.stderr, down


def test_an_install_copied_from_sqlite_serves_from_postgres(tern_factory, sink, database):
    """`tern store copy`: users, keys, aliases, mailboxes with their mail, and the queue move
    into PostgreSQL; the same install then serves from it: the password and the API key still
    work, the mailbox holds its message, and queued mail is delivered."""
    import smtplib
    from conftest import DEST, DOMAIN, PASSWORD, USER, free_port
    from test_http_api import request

    closed = free_port()
    server = tern_factory(extra_config=f'[delivery]\nallow_private_destinations = true\nroutes = {{ "{DEST}" = "127.0.0.1:{closed}" }}\n'
                                          '[http]\nallow_private_webhooks = true\n')
    server.key = server.cli("key", "create", USER).stdout.strip()
    server.cli("alias", "add", f"team@{DOMAIN}", USER)
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:
        smtp.sendmail(f"someone@{DEST}", [f"team@{DOMAIN}"], b"Subject: before the copy\r\n\r\nkept\r\n")
    status, _, body = request(server, "POST", "/v3/mail/send", {
        "personalizations": [{"to": [{"email": f"far@{DEST}"}]}], "from": {"email": USER},
        "subject": "waits in the queue", "content": [{"type": "text/plain", "value": "x"}]})
    assert status == 202, body
    # Rows of the other tables too: a template with a version, a suppression, a webhook.
    status, _, template = request(server, "POST", "/v3/templates", {"name": "welcome", "generation": "dynamic"})
    assert status == 201, template
    status, _, version = request(server, "POST", f"/v3/templates/{template['id']}/versions",
                                 {"name": "v1", "subject": "Hi {{name}}", "html_content": "<p>Hi</p>", "active": 1})
    assert status == 201, version
    assert request(server, "POST", "/v3/asm/suppressions/global", {"recipient_emails": [f"gone@{DEST}"]})[0] == 201
    status, _, hook = request(server, "POST", "/v3/user/webhooks/event/settings", {"url": f"http://127.0.0.1:{closed}/hook", "processed": True})
    assert status == 201, hook
    deadline = time.time() + 20
    while time.time() < deadline and "before the copy" not in server.cli("mailbox", "show", USER, "1", check=False).stdout:
        time.sleep(0.2)
    server.stop()

    copied = server.cli("store", "copy", "--to", database)
    assert "counts match" in copied.stdout and "users: 2" in copied.stdout, copied.stdout
    assert "messages:" in copied.stdout and "mailbox_messages:" in copied.stdout
    # A second copy into the same database is refused: it is no longer empty.
    again = server.cli("store", "copy", "--to", database, check=False)
    assert again.returncode == 2 and "already holds data" in again.stderr

    # The same install on PostgreSQL, its remote mail now routed to a sink that answers.
    text = open(server.config).read().replace(f"127.0.0.1:{closed}", f"127.0.0.1:{sink.controller.port}")
    with open(server.config, "w") as f:
        f.write(text + postgres_config(database))
    server.start()
    assert "before the copy" in server.cli("mailbox", "show", USER, "1").stdout
    waiting = [r["address"] for m in server.queue() for r in m["recipients"] if r["state"] not in ("delivered", "expanded")]
    assert waiting == [f"far@{DEST}"], server.queue()
    server.cli("queue", "retry", "--all")
    deadline = time.time() + 30
    while time.time() < deadline and not sink.messages:
        time.sleep(0.2)
    assert [rcpts for _, rcpts, _ in sink.messages] == [[f"far@{DEST}"]]
    status, _, body = request(server, "POST", "/v3/mail/send", {
        "personalizations": [{"to": [{"email": f"after@{DEST}"}]}], "from": {"email": USER},
        "subject": "after the copy", "content": [{"type": "text/plain", "value": "x"}]})
    assert status == 202, body
    status, _, listed = request(server, "GET", "/v3/templates?generations=dynamic")
    assert status == 200 and [t["name"] for t in listed["result"]] == ["welcome"], listed
    assert request(server, "GET", f"/v3/asm/suppressions/global/gone@{DEST}")[2] == {"recipient_email": f"gone@{DEST}"}
    status, _, hooks = request(server, "GET", "/v3/user/webhooks/event/settings/all")
    assert [h["id"] for h in hooks["webhooks"]] == [hook["id"]]
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=30) as smtp:
        smtp.starttls(context=__import__("test_pop3").insecure())
        smtp.login(USER, PASSWORD)
