"""`/metrics` read by the Prometheus project's own text parser (prometheus-client): after mail
over SMTP and HTTP, deliveries, and failed logins, each counter says what happened.
"""
import smtplib
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import DEST, PASSWORD, USER
from test_http_activity import settled
from test_http_api import request




def scrape(api):
    with urllib.request.urlopen(api.http_url + "/metrics", timeout=30) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = resp.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def test_metrics_count_what_happened(api):
    with smtplib.SMTP("127.0.0.1", api.submission_port) as s:
        s.starttls()
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.login(USER, "wrong-password")
        s.login(USER, PASSWORD)
        s.sendmail(USER, [f"a@{DEST}", f"b@{DEST}"], f"From: {USER}\r\nSubject: smtp\r\n\r\nx\r\n")
    status, _, _ = request(api, "POST", "/v3/mail/send", {
        "personalizations": [{"to": [{"email": f"c@{DEST}"}]}], "from": {"email": USER}, "subject": "s",
        "content": [{"type": "text/plain", "value": "x"}]})
    assert status == 202
    status, _, _ = request(api, "GET", "/v3/api_keys", key="tern_bad")
    assert status == 401
    settled(api, 3)

    samples = scrape(api)
    assert value(samples, "tern_messages_accepted_total", listener="submission") == 1
    assert value(samples, "tern_messages_accepted_total", listener="http") == 1
    assert value(samples, "tern_events_total", type="processed") == 3
    assert value(samples, "tern_events_total", type="delivered") == 3
    assert value(samples, "tern_delivery_attempts_total", result="delivered") == 3
    assert value(samples, "tern_delivery_latency_seconds_count") == 3
    # smtplib tries each offered mechanism in turn: one failure per mechanism tried.
    assert value(samples, "tern_auth_failures_total", protocol="smtp") >= 1
    assert value(samples, "tern_auth_failures_total", protocol="http") == 1
    assert value(samples, "tern_http_requests_total", endpoint="/v3/mail/send", status="202") == 1
    assert value(samples, "tern_http_requests_total", endpoint="/v3/api_keys", status="401") == 1
    assert value(samples, "tern_connections_total", listener="listen.submission", result="accepted") == 1
    assert value(samples, "tern_connections_open", listener="listen.submission") == 0
    assert ("tern_queue_recipients", (("state", "queued"),)) in samples
    assert value(samples, "tern_queue_recipients", state="deferred") == 0
    assert ("tern_webhook_backlog_events", ()) in samples
    # Counters only go up: a second scrape agrees.
    assert value(scrape(api), "tern_events_total", type="processed") == 3


def test_http_connections_count_in_the_shared_abuse_limits(tern_factory):
    """One client's connections over SMTP and HTTP together are capped by
    `max_connections_per_ip`: past it a new HTTP connection is closed at once, and counted."""
    import socket
    api = tern_factory(extra_config="[limits]\nmax_connections_per_ip = 3\n")
    held = [socket.create_connection(("127.0.0.1", api.smtp_port), timeout=10)]
    assert held[0].recv(512).startswith(b"220")
    held += [socket.create_connection(("127.0.0.1", api.http_port), timeout=10) for _ in range(2)]
    time.sleep(0.3)
    extra = socket.create_connection(("127.0.0.1", api.http_port), timeout=10)
    try:
        extra.sendall(b"GET /v3/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
        assert extra.recv(512) == b""  # closed without an answer
    except ConnectionResetError:
        pass
    extra.close()
    # One place freed: the same client is served again, and the refusal was counted.
    held.pop().close()
    time.sleep(0.3)
    samples = scrape(api)
    assert value(samples, "tern_connections_total", listener="listen.http", result="refused") == 1
    assert value(samples, "tern_connections_total", listener="listen.smtp", result="accepted") == 1
    for connection in held:
        connection.close()
