"""Sandbox keys and accounts: SendGrid's own library sends with a sandbox key, Tern answers 202
and keeps the message, DKIM-signed, in the account's sandbox inbox (HTTP and CLI); nothing
reaches the MX, and the events say sandbox. A sandbox account keeps its SMTP mail too.
"""
import json
import smtplib
import time
import urllib.request

from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Mail

from conftest import DEST, PASSWORD, USER
from test_http_api import request, verify_dkim




def raw(api, path, key):
    req = urllib.request.Request(api.http_url + path, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, resp.headers["Content-Type"], resp.read()


def test_sandbox_key_and_account_keep_mail_and_send_nothing(api, sink):
    sandbox_key = api.cli("key", "create", USER, "--sandbox", "--name", "tests").stdout.strip()
    keys = {k["name"]: k for k in json.loads(api.cli("key", "list", USER, "--json").stdout)}
    assert keys["tests"]["sandbox"] is True and keys[""]["sandbox"] is False
    client = SendGridAPIClient(api_key=sandbox_key, host=api.http_url)
    response = client.send(Mail(from_email=USER, to_emails=f"someone@{DEST}", subject="Sandboxed", plain_text_content="kept"))
    assert response.status_code == 202
    message_id = response.headers["X-Message-Id"]
    # A normal key still sends.
    SendGridAPIClient(api_key=api.key, host=api.http_url).send(
        Mail(from_email=USER, to_emails=f"real@{DEST}", subject="Real", plain_text_content="sent"))
    deadline = time.time() + 20
    while not sink.messages and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(1)
    assert [rcpts for _, rcpts, _ in sink.messages] == [[f"real@{DEST}"]]

    status, _, inbox = request(api, "GET", "/v3/sandbox/messages", key=sandbox_key)
    assert status == 200 and [m["subject"] for m in inbox["messages"]] == ["Sandboxed"], inbox
    entry = inbox["messages"][0]
    assert entry["to"] == [f"someone@{DEST}"] and entry["from_email"] == USER
    status, content_type, source = raw(api, entry["raw"], sandbox_key)
    assert status == 200 and content_type == "message/rfc822"
    assert b"Subject: Sandboxed" in source and verify_dkim(api, source)
    status, _, detail = request(api, "GET", f"/v3/messages/{message_id}.0")
    assert [e["event_name"] for e in detail["events"]] == ["processed", "delivered"]
    assert all(e["payload"]["sandbox"] is True for e in detail["events"])
    status, _, _ = request(api, "GET", "/v3/sandbox/messages/nope/raw")
    assert status == 404

    # The CLI sees the same inbox; a sandbox account keeps SMTP mail too.
    listed = json.loads(api.cli("sandbox", "list", USER, "--json").stdout)
    assert [m["subject"] for m in listed] == ["Sandboxed"]
    assert "Subject: Sandboxed" in api.cli("sandbox", "show", USER, listed[0]["id"]).stdout
    api.cli("sandbox", "enable", USER)
    with smtplib.SMTP("127.0.0.1", api.submission_port) as s:
        s.starttls()
        s.login(USER, PASSWORD)
        s.sendmail(USER, [f"smtp@{DEST}"], f"From: {USER}\r\nSubject: Over SMTP\r\n\r\nkept too\r\n")
    time.sleep(1.5)
    assert [rcpts for _, rcpts, _ in sink.messages] == [[f"real@{DEST}"]]
    assert [m["subject"] for m in json.loads(api.cli("sandbox", "list", USER, "--json").stdout)] == ["Over SMTP", "Sandboxed"]
    api.cli("sandbox", "disable", USER)
