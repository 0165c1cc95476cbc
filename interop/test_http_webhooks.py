"""Event webhooks end to end: Tern posts signed batches to a receiver on loopback, which checks
each signature with SendGrid's own `EventWebhook` verifier (from the official Python library).
Events arrive in order per recipient; a receiver that is down, and a restart of Tern while it
is down, lose nothing. Loopback only (tests turn on `allow_private_webhooks`).
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sendgrid.helpers.eventwebhook import EventWebhook

from conftest import DEST, USER, free_port, routed_tern
from test_http_activity import rule
from test_http_api import request

RCPT_RULE = rule


class Receiver:
    """An HTTP server that keeps every batch (with its signature check) and can be stopped and
    started again on the same port."""

    def __init__(self, port):
        self.port = port
        self.batches = []  # (verified or None, [events])
        self.public_key = None
        self.lock = threading.Lock()
        self.server = None
        self.start()

    def start(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                signature = self.headers.get("X-Twilio-Email-Event-Webhook-Signature")
                timestamp = self.headers.get("X-Twilio-Email-Event-Webhook-Timestamp")
                verified = None
                if outer.public_key and signature:
                    hook = EventWebhook()
                    verified = hook.verify_signature(body, signature, timestamp, hook.convert_public_key_to_ecdsa(outer.public_key))
                with outer.lock:
                    outer.batches.append((verified, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def events(self):
        with self.lock:
            return [event for _, batch in self.batches for event in batch]

    def wait_for(self, predicate, timeout=40):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate(self.events()):
                return self.events()
            time.sleep(0.1)
        raise AssertionError(f"webhook events so far: {[(e['event'], e['email']) for e in self.events()]}")


def by_recipient(events):
    out = {}
    for event in events:
        out.setdefault(event["email"], []).append(event["event"])
    return out




@pytest.fixture
def receiver():
    hook = Receiver(free_port())
    yield hook
    try:
        hook.stop()
    except Exception:
        pass


def make_tern(tern_factory, sink, private=True):
    return routed_tern(
        tern_factory, sink,
        f'[http]\nallow_private_webhooks = {"true" if private else "false"}\nwebhook_batch_delay = "1s"\nwebhook_retry_delay = "1s"\n')


def send(api, *locals_):
    status, headers, body = request(api, "POST", "/v3/mail/send", {
        "personalizations": [{"to": [{"email": f"{name}@{DEST}"} for name in locals_]}], "from": {"email": USER},
        "subject": "hooked", "content": [{"type": "text/plain", "value": "x"}], "custom_args": {"order": "77"}})
    assert status == 202, body
    return headers["X-Message-Id"]


def test_signed_batches_in_order_through_an_outage_and_a_restart(tern_factory, sink, receiver):
    api = make_tern(tern_factory, sink)
    flags = {name: True for name in ("processed", "delivered", "deferred", "bounce", "dropped")}
    status, _, hook = request(api, "POST", "/v3/user/webhooks/event/settings",
                              dict(flags, url=f"http://127.0.0.1:{receiver.port}/events", friendly_name="ci"))
    assert status == 201 and hook["enabled"] and hook["processed"] and not hook["open"], hook
    status, _, signed = request(api, "PATCH", f"/v3/user/webhooks/event/settings/signed/{hook['id']}", {"enabled": True})
    assert status == 200 and signed["public_key"], signed
    receiver.public_key = signed["public_key"]
    status, _, listed = request(api, "GET", "/v3/user/webhooks/event/settings/all")
    assert [w["id"] for w in listed["webhooks"]] == [hook["id"]] and listed["webhooks"][0]["public_key"] == signed["public_key"]

    # The test event arrives signed.
    status, _, body = request(api, "POST", "/v3/user/webhooks/event/test", {"id": hook["id"]})
    assert status == 204, body
    receiver.wait_for(lambda events: any(e.get("sg_message_id") == "test-event.0" for e in events))

    request_id = send(api, "good", "flaky", "gone")
    expected = {f"good@{DEST}": ["processed", "delivered"], f"flaky@{DEST}": ["processed", "deferred", "delivered"],
                f"gone@{DEST}": ["processed", "bounce"]}
    events = receiver.wait_for(lambda events: all(by_recipient(events).get(k) == v for k, v in expected.items()))
    assert all(verified for verified, _ in receiver.batches), receiver.batches
    mail_events = [e for e in events if e.get("sg_message_id", "").startswith(request_id)]
    assert all(e["order"] == "77" for e in mail_events)
    gone = next(e for e in mail_events if e["event"] == "bounce")
    assert gone["type"] == "bounce" and gone["status"] == "5.1.1" and gone["sg_message_id"] == f"{request_id}.2"
    assert len({e["sg_event_id"] for e in mail_events}) == len(mail_events)
    # The bounce listed the address: the next message to it is dropped, and the webhook says so.
    drop_request = send(api, "gone")
    events = receiver.wait_for(lambda events: any(e["event"] == "dropped" for e in events))
    dropped = next(e for e in events if e["event"] == "dropped")
    assert dropped["reason"] == "Bounced Address" and dropped["sg_message_id"] == f"{drop_request}.0"

    # The receiver goes away; mail goes on; Tern restarts while it is away; nothing is lost.
    receiver.stop()
    send(api, "later")
    time.sleep(3)
    api.stop()
    api.start()
    send(api, "after-restart")
    time.sleep(2)
    receiver.start()
    events = receiver.wait_for(lambda events: by_recipient(events).get(f"after-restart@{DEST}") == ["processed", "delivered"]
                               and by_recipient(events).get(f"later@{DEST}") == ["processed", "delivered"])
    assert all(verified for verified, _ in receiver.batches)
    # At least once: every event of the request is there, none is missing.
    ids = [e["sg_event_id"] for e in events if e.get("sg_message_id", "").startswith(request_id)]
    assert len(set(ids)) == 7


def test_webhooks_to_private_addresses_are_refused_by_default(tern_factory, sink, receiver):
    api = make_tern(tern_factory, sink, private=False)
    status, _, body = request(api, "POST", "/v3/user/webhooks/event/settings",
                              {"url": f"http://127.0.0.1:{receiver.port}/events", "processed": True})
    assert status == 400 and body["errors"][0]["field"] == "url" and "private" in body["errors"][0]["message"]
    status, _, body = request(api, "POST", "/v3/user/webhooks/event/settings", {"url": "ftp://example.com/x"})
    assert status == 400
    status, _, body = request(api, "POST", "/v3/user/webhooks/event/test", {"url": f"http://[::1]:{receiver.port}/"})
    assert status == 400
    assert receiver.events() == []
