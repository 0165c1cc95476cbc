"""Events, message activity and stats over HTTP: messages sent by the API and by SMTP (with
SendGrid's X-SMTPAPI field) to a test MX that defers, bounces and blocks by rule; then what
`/v3/messages` and `/v3/stats` report is checked against what the MX saw. Loopback only.
"""
import json
import smtplib
import time

from conftest import DEST, PASSWORD, USER
from test_http_api import request, verify_dkim


def rule(address, attempt):
    local = address.split("@")[0]
    if local == "flaky" and attempt == 1:
        return "451 4.3.2 Try again later"
    if local == "gone":
        return "550 5.1.1 No such user here"
    if local == "blocked":
        return "554 5.7.1 Rejected by policy"
    return "250 OK"


RCPT_RULE = rule




def settled(api, count, timeout=30):
    """Every recipient delivered or bounced."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, _, body = request(api, "GET", "/v3/messages?limit=100")
        assert status == 200, body
        if len(body["messages"]) >= count and all(m["status"] != "processed" for m in body["messages"]):
            return body["messages"]
        time.sleep(0.2)
    raise AssertionError(f"not settled: {body}")


def test_events_activity_and_stats_follow_what_the_mx_did(api, sink):
    status, headers, _ = request(api, "POST", "/v3/mail/send", {
        "personalizations": [{"to": [{"email": f"good@{DEST}"}, {"email": f"flaky@{DEST}"}, {"email": f"gone@{DEST}"}],
                              "custom_args": {"campaign": "c-9"}}],
        "from": {"email": USER}, "subject": "Activity", "content": [{"type": "text/plain", "value": "hello"}],
        "categories": ["welcome", "onboarding"], "custom_args": {"user_id": "42"}})
    assert status == 202
    request_id = headers["X-Message-Id"]
    smtpapi = json.dumps({"category": "smtp-news", "unique_args": {"list": "weekly"}, "asm_group_id": 5})
    with smtplib.SMTP("127.0.0.1", api.submission_port) as s:
        s.starttls()
        s.login(USER, PASSWORD)
        s.sendmail(USER, [f"blocked@{DEST}", f"good2@{DEST}"],
                   f"From: {USER}\r\nTo: good2@{DEST}\r\nSubject: Over SMTP\r\nX-SMTPAPI: {smtpapi}\r\n\r\nbody\r\n")

    messages = settled(api, 5)
    by_to = {m["to_email"]: m for m in messages}
    assert {to: m["status"] for to, m in by_to.items()} == {
        f"good@{DEST}": "delivered", f"flaky@{DEST}": "delivered", f"gone@{DEST}": "not_delivered",
        f"blocked@{DEST}": "not_delivered", f"good2@{DEST}": "delivered"}
    # Each API recipient is <X-Message-Id>.<ordinal>.
    assert [by_to[f"{n}@{DEST}"]["msg_id"] for n in ("good", "flaky", "gone")] == [f"{request_id}.{i}" for i in range(3)]
    assert by_to[f"good@{DEST}"]["subject"] == "Activity" and by_to[f"good@{DEST}"]["from_email"] == USER

    def detail(to):
        status, _, body = request(api, "GET", f"/v3/messages/{by_to[to]['msg_id']}")
        assert status == 200, body
        return body

    flaky = detail(f"flaky@{DEST}")
    assert [e["event_name"] for e in flaky["events"]] == ["processed", "deferred", "delivered"]
    deferred, delivered = flaky["events"][1]["payload"], flaky["events"][2]["payload"]
    assert deferred["attempt"] == "1" and deferred["response"].startswith("451 4.3.2")
    assert delivered["tls"] == 0 and delivered["ip"] == "127.0.0.1" and delivered["response"].startswith("250")
    assert delivered["category"] == ["welcome", "onboarding"] and delivered["user_id"] == "42" and delivered["campaign"] == "c-9"
    assert delivered["sg_message_id"] == f"{request_id}.1" and delivered["smtp-id"].startswith(f"<{request_id}.0@")
    assert len({e["payload"]["sg_event_id"] for e in flaky["events"]}) == 3

    gone = detail(f"gone@{DEST}")["events"][-1]["payload"]
    assert (gone["event"], gone["type"], gone["status"], gone["bounce_classification"]) == ("bounce", "bounce", "5.1.1", "Invalid Address")
    blocked = detail(f"blocked@{DEST}")
    last = blocked["events"][-1]["payload"]
    assert (last["type"], last["status"], last["bounce_classification"]) == ("blocked", "5.7.1", "Reputation")
    # X-SMTPAPI's categories, args and group are the SMTP message's; the field never left.
    assert blocked["categories"] == ["smtp-news"] and blocked["unique_args"] == {"list": "weekly"} and blocked["asm_group_id"] == 5
    assert last["category"] == "smtp-news" and last["list"] == "weekly" and last["asm_group_id"] == 5
    smtp_copy = next(raw for _, rcpts, raw in sink.messages if f"good2@{DEST}" in rcpts)
    assert b"X-SMTPAPI" not in smtp_copy and verify_dkim(api, smtp_copy)

    # Filters: SendGrid's query syntax.
    status, _, body = request(api, "GET", '/v3/messages?limit=10&query=status%3D%22not_delivered%22')
    assert sorted(m["to_email"] for m in body["messages"]) == [f"blocked@{DEST}", f"gone@{DEST}"]
    status, _, body = request(api, "GET", f'/v3/messages?query=subject%3D%22Over%20SMTP%22%20AND%20to_email%3D%22good2%40{DEST}%22')
    assert [m["to_email"] for m in body["messages"]] == [f"good2@{DEST}"]
    status, _, body = request(api, "GET", '/v3/messages?query=teammate%3D%22x%22')
    assert status == 400 and body["errors"][0]["field"] == "query"
    status, _, _ = request(api, "GET", "/v3/messages/NOPE.0")
    assert status == 404

    # Stats are the event counts: 5 processed, 3 delivered, 1 deferred, 1 bounce, 1 block.
    today = time.strftime("%Y-%m-%d", time.gmtime())
    status, _, body = request(api, "GET", f"/v3/stats?start_date={today}")
    assert status == 200 and body[0]["date"] == today, body
    metrics = body[0]["stats"][0]["metrics"]
    assert {k: metrics[k] for k in ("processed", "requests", "delivered", "deferred", "bounces", "blocks")} == {
        "processed": 5, "requests": 5, "delivered": 3, "deferred": 1, "bounces": 1, "blocks": 1}, metrics
    assert len(sink.messages) == 3  # good, flaky (second try), good2: one SMTP transaction each
    status, _, body = request(api, "GET", "/v3/stats?start_date=2026-02-30")
    assert status == 400 and body["errors"][0]["field"] == "start_date"
    # Another account sees none of it.
    api.cli("user", "add", "carol@example.test", "--password-stdin", input="carol-pass-123\n")
    carol = api.cli("key", "create", "carol@example.test").stdout.strip()
    status, _, body = request(api, "GET", "/v3/messages?limit=100", key=carol)
    assert status == 200 and body["messages"] == []
    status, _, _ = request(api, "GET", f"/v3/messages/{request_id}.0", key=carol)
    assert status == 404
