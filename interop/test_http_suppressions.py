"""Suppressions over HTTP and SMTP: a hard bounce lists the address, the next message to it is
dropped (a `dropped` event, nothing reaches the MX) unless `bypass_bounce_management`; global
and group unsubscribes drop mail from SMTP too; removing an entry sends again. Loopback only.
"""
import smtplib
import time
import urllib.parse

from conftest import DEST, PASSWORD, USER
from test_http_activity import rule, settled
from test_http_api import request

RCPT_RULE = rule




def send(api, to, **extra):
    body = {"personalizations": [{"to": [{"email": address} for address in to]}], "from": {"email": USER}, "subject": "s",
            "content": [{"type": "text/plain", "value": "x"}]}
    body.update(extra)
    status, headers, response = request(api, "POST", "/v3/mail/send", body)
    assert status == 202, response
    return headers["X-Message-Id"]


def arrived(sink, address):
    return sum(1 for _, rcpts, _ in sink.messages if address in rcpts)


def last_event(api, msg_id):
    status, _, body = request(api, "GET", f"/v3/messages/{msg_id}")
    assert status == 200, body
    return body["events"][-1]["payload"]


def test_bounces_are_listed_and_dropped_until_removed(api, sink):
    gone, good = f"gone@{DEST}", f"good@{DEST}"
    send(api, [gone])
    settled(api, 1)
    status, _, listed = request(api, "GET", "/v3/suppression/bounces")
    assert status == 200 and [e["email"] for e in listed] == [gone] and listed[0]["status"] == "5.1.1", listed
    assert "No such user" in listed[0]["reason"] and isinstance(listed[0]["created"], int)
    attempts_before = sink.attempts.get(gone, 0)

    request_id = send(api, [gone, good])
    settled(api, 3)
    assert arrived(sink, good) == 1 and sink.attempts.get(gone, 0) == attempts_before  # never dialled for gone
    dropped = last_event(api, f"{request_id}.0")
    assert dropped["event"] == "dropped" and dropped["reason"] == "Bounced Address"

    # bypass_bounce_management sends anyway (and the MX refuses it again).
    send(api, [gone], mail_settings={"bypass_bounce_management": {"enable": True}})
    deadline = time.time() + 20
    while sink.attempts.get(gone, 0) == attempts_before and time.time() < deadline:
        time.sleep(0.1)
    assert sink.attempts.get(gone, 0) == attempts_before + 1

    # Removed from the list: mail goes again.
    quoted = urllib.parse.quote(gone)
    status, _, _ = request(api, "DELETE", f"/v3/suppression/bounces/{quoted}")
    assert status == 204
    status, _, listed = request(api, "GET", f"/v3/suppression/bounces/{quoted}")
    assert status == 200 and listed == []
    # Stats count the drop.
    today = time.strftime("%Y-%m-%d", time.gmtime())
    _, _, stats = request(api, "GET", f"/v3/stats?start_date={today}")
    assert stats[0]["stats"][0]["metrics"]["bounce_drops"] == 1


def test_unsubscribes_global_and_group_drop_smtp_and_api_mail(api, sink):
    left, news, good = f"left@{DEST}", f"news@{DEST}", f"good@{DEST}"
    status, _, body = request(api, "POST", "/v3/asm/suppressions/global", {"recipient_emails": [left.upper()]})
    assert status == 201 and body == {"recipient_emails": [left]}
    status, _, body = request(api, "GET", f"/v3/asm/suppressions/global/{urllib.parse.quote(left)}")
    assert body == {"recipient_email": left}
    status, _, group = request(api, "POST", "/v3/asm/groups", {"name": "Newsletter", "description": "weekly", "is_default": True})
    assert status == 201 and group["name"] == "Newsletter", group
    status, _, _ = request(api, "POST", f"/v3/asm/groups/{group['id']}/suppressions", {"recipient_emails": [news]})
    assert status == 201
    status, _, groups = request(api, "GET", "/v3/asm/groups")
    assert [(g["id"], g["unsubscribes"]) for g in groups] == [(group["id"], 1)]
    status, _, body = request(api, "POST", "/v3/asm/groups", {"name": ""})
    assert status == 400 and body["errors"][0]["field"] == "name"

    # Over SMTP: the global unsubscribe drops; the group only applies with its asm_group_id.
    with smtplib.SMTP("127.0.0.1", api.submission_port) as s:
        s.starttls()
        s.login(USER, PASSWORD)
        s.sendmail(USER, [left, news, good], f"From: {USER}\r\nSubject: no group\r\n\r\nx\r\n")
        s.sendmail(USER, [news, good], f"From: {USER}\r\nSubject: grouped\r\nX-SMTPAPI: {{\"asm_group_id\": {group['id']}}}\r\n\r\nx\r\n")
    # Over HTTP with the group.
    send(api, [news, good], asm={"group_id": group["id"]})
    settled(api, 7)
    assert arrived(sink, left) == 0
    assert arrived(sink, news) == 1  # only the message without the group
    assert arrived(sink, good) == 3
    status, _, body = request(api, "GET", "/v3/messages?limit=20&query=status%3D%22not_delivered%22")
    assert sorted(m["to_email"] for m in body["messages"]) == sorted([left, news, news])

    # The CLI sees the same lists.
    out = api.cli("suppression", "list", USER, "--list", "unsubscribes").stdout
    assert left in out
    api.cli("suppression", "remove", USER, "unsubscribes", left)
    assert left not in api.cli("suppression", "list", USER, "--list", "unsubscribes").stdout
    api.cli("suppression", "add", USER, "spam_reports", f"complainer@{DEST}")
    status, _, listed = request(api, "GET", "/v3/suppression/spam_reports")
    assert [e["email"] for e in listed] == [f"complainer@{DEST}"]
    status, _, _ = request(api, "DELETE", "/v3/suppression/spam_reports", {"delete_all": True})
    assert status == 204
    status, _, listed = request(api, "GET", "/v3/suppression/spam_reports")
    assert listed == []
    status, _, _ = request(api, "GET", "/v3/suppression/nonsense")
    assert status == 404
