"""Outbound delivery against real peers on loopback: dnsmasq is the DNS server, a stock Postfix is
the MX of pf.test (mailbox files, STARTTLS), aiosmtpd servers answer 451/550 by rule, smtp-sink
takes bulk. Tern's resolver points only at dnsmasq; every MX address is 127.0.0.x."""
import asyncio
import email
import email.policy
import re
import smtplib
import subprocess
import time

import pytest
from conftest import DOMAIN, USER
from peers import DNSServer, PostfixMX, ScriptedMX, free_port_on, wait_port

MX_PORT = free_port_on("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")


def scripted_rcpt(address, attempt):
    local = address.split("@")[0]
    if local.startswith("grey"):
        return "451 4.7.1 Greylisted, come back later" if attempt == 1 else "250 OK"
    if local == "gone":
        return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
    return "250 OK"


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    server = DNSServer(
        tmp_path_factory.mktemp("dns"),
        mx=[
            ("pf.test", "mx.pf.test", 10),
            ("twomx.test", "mx1.twomx.test", 10),
            ("twomx.test", "mx2.twomx.test", 20),
            ("grey.test", "mx.grey.test", 10),
            ("bulk.test", "mx.bulk.test", 10),
            ("nullmx.test", ".", 0),
        ],
        hosts=[
            ("mx.pf.test", "127.0.0.2"),
            ("mx1.twomx.test", "127.0.0.4"),  # nothing listens there
            ("mx2.twomx.test", "127.0.0.3"),
            ("mx.grey.test", "127.0.0.3"),
            ("mx.bulk.test", "127.0.0.5"),
        ],
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def postfix():
    mx = PostfixMX("127.0.0.2", MX_PORT, "pf.test", ["bob", "carol"])
    yield mx
    mx.stop()


@pytest.fixture(scope="module")
def scripted():
    mx = ScriptedMX("127.0.0.3", MX_PORT, rcpt=scripted_rcpt)
    yield mx
    mx.stop()


def relay_config(dns, retry='["1s"]', delivery_extra=""):
    return f"""
[relay]
trusted_networks = ["127.0.0.1/32"]
[delivery]
smtp_port = {MX_PORT}
retry_schedule = {retry}
# Every MX here is on 127.0.0.x; by default Tern bounces mail to non-public addresses.
allow_private_destinations = true
{delivery_extra}
[dns]
nameservers = ["{dns.address}"]
"""


@pytest.fixture
def relay(tern_factory, dns):
    return make_relay(tern_factory, dns)


def make_relay(tern_factory, dns, retry='["1s"]', delivery_extra=""):
    server = tern_factory(start=False)
    # The fixture's [dns] points at a dead port; replace it with dnsmasq (a TOML table may
    # appear only once).
    text = open(server.config).read().replace('[dns]\nnameservers = ["127.0.0.1:1"]\n', "")
    with open(server.config, "w") as f:
        f.write(text + relay_config(dns, retry, delivery_extra))
    server.start()
    return server


def send(tern, to, subject="Hello", sender=USER, body="Hello from Tern.\r\n.leading dot\r\n", extra_headers=""):
    msg = f"From: <{sender}>\r\nTo: <{to[0]}>\r\nSubject: {subject}\r\nMessage-ID: <{subject.replace(' ', '-')}@{DOMAIN}>\r\n{extra_headers}\r\n{body}"
    with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
        s.sendmail(sender, to, msg)
    return msg


def wait_state(tern, subject_id, address, states=("delivered", "bounced"), timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for m in tern.queue():
            if m["message_id"] == f"<{subject_id}@{DOMAIN}>":
                for r in m["recipients"]:
                    if r["address"] == address and r["state"] in states:
                        return m, r
        time.sleep(0.1)
    raise AssertionError(f"{address} not in {states} after {timeout}s: {tern.queue()}\n{open(tern.log_path).read()[-3000:]}")


def bounces_to(tern, sender=USER):
    """DSNs queued to `sender`, parsed. `tern queue show` prints metadata lines, a blank line,
    then the stored content."""
    out = []
    for m in tern.queue():
        if m["from"] == "" and [r["address"] for r in m["recipients"]] == [sender]:
            lines = tern.content(m["id"]).split("\n")
            content = "\n".join(lines[lines.index("") + 1:])
            out.append(email.message_from_string(content, policy=email.policy.default))
    return out


def test_delivers_to_postfix_over_starttls(relay, postfix):
    send(relay, ["bob@pf.test", "carol@pf.test"], subject="to postfix")
    _, r = wait_state(relay, "to-postfix", "bob@pf.test")
    assert r["state"] == "delivered", r
    mailbox = postfix.wait_mailbox("bob")
    assert "Subject: to postfix" in mailbox
    assert "\n.leading dot\n" in mailbox  # dot-stuffed by Tern, unstuffed by Postfix
    # Postfix records the TLS it negotiated with Tern in its Received header.
    assert "(using TLSv1.3" in mailbox or "(using TLSv1.2" in mailbox, mailbox
    assert "carol@pf.test" not in mailbox or "Subject: to postfix" in postfix.wait_mailbox("carol")
    queue_id = [m["id"] for m in relay.queue() if m["message_id"] == f"<to-postfix@{DOMAIN}>"][0]
    shown = relay.cli("queue", "show", queue_id).stdout
    assert "delivered <bob@pf.test> mx=mx.pf.test[127.0.0.2] tls=TLSv1." in shown, shown
    # Postfix offers CHUNKING, so Tern sent BDAT: Postfix's reply to BDAT LAST counts the bytes.
    assert re.search(r'reply="250 2\.0\.0 Ok: \d+ bytes queued as [0-9A-F]+"', shown), shown


def test_verified_tls_refuses_a_self_signed_peer_without_falling_back(tern_factory, dns, postfix):
    tern = make_relay(tern_factory, dns, retry='["1h"]', delivery_extra="verify_certificates = true")
    send(tern, ["bob@pf.test"], subject="verified tls")
    _, r = wait_state(tern, "verified-tls", "bob@pf.test", states=("deferred",))
    assert "TLS handshake failed" in r["last_reply"], r
    assert "Subject: verified tls" not in postfix.mailbox("bob")


def test_primary_mx_down_uses_the_secondary_without_starttls(relay, scripted):
    send(relay, ["someone@twomx.test"], subject="two mx")
    _, r = wait_state(relay, "two-mx", "someone@twomx.test")
    assert r["state"] == "delivered", r
    assert any("someone@twomx.test" in rcpts for _, rcpts, _ in scripted.messages)
    queue_id = [m["id"] for m in relay.queue() if m["message_id"] == f"<two-mx@{DOMAIN}>"][0]
    shown = relay.cli("queue", "show", queue_id).stdout
    # aiosmtpd offers no STARTTLS here: delivered in plaintext, and the log says so.
    assert "delivered <someone@twomx.test> mx=mx2.twomx.test[127.0.0.3] tls=none" in shown, shown


def test_451_then_250_is_retried_and_delivered(relay, scripted):
    send(relay, ["grey@grey.test"], subject="greylisted")
    m, r = wait_state(relay, "greylisted", "grey@grey.test", states=("delivered",), timeout=30)
    assert r["attempts"] == 2
    shown = relay.cli("queue", "show", m["id"]).stdout
    assert "deferred <grey@grey.test> mx=mx.grey.test[127.0.0.3]" in shown
    assert "451 4.7.1 Greylisted, come back later" in shown


def test_550_bounces_with_a_correct_dsn(relay, scripted):
    send(relay, ["gone@grey.test", "fine@grey.test"], subject="partly rejected")
    _, r = wait_state(relay, "partly-rejected", "gone@grey.test")
    assert r["state"] == "bounced" and r["last_reply"].startswith("550 5.1.1")
    wait_state(relay, "partly-rejected", "fine@grey.test", states=("delivered",))
    deadline = time.time() + 10
    while not bounces_to(relay) and time.time() < deadline:
        time.sleep(0.1)
    dsns = bounces_to(relay)
    assert len(dsns) == 1
    dsn = dsns[0]
    assert dsn["Subject"] == "Undelivered Mail Returned to Sender"
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"
    parts = list(dsn.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "message/delivery-status", "message/rfc822"]
    status = parts[1].get_payload()
    fields = {}
    for block in status:
        for k, v in block.items():
            fields.setdefault(k.lower(), []).append(str(v))
    assert fields["reporting-mta"] == ["dns; mx.example.test"]
    assert fields["final-recipient"] == ["rfc822; gone@grey.test"]
    assert fields["action"] == ["failed"]
    assert fields["status"] == ["5.1.1"]
    assert fields["remote-mta"] == ["dns; mx.grey.test"]
    assert fields["diagnostic-code"][0].startswith("smtp; 550 5.1.1 <gone@grey.test>: Recipient address rejected")
    original = parts[2].get_payload()[0]
    assert original["Subject"] == "partly rejected"


def test_null_mx_and_nxdomain_bounce_at_once(relay):
    send(relay, ["x@nullmx.test"], subject="null mx")
    send(relay, ["x@nowhere.test"], subject="no domain")
    _, r = wait_state(relay, "null-mx", "x@nullmx.test")
    assert r["state"] == "bounced" and "5.1.10" in r["last_reply"], r
    _, r = wait_state(relay, "no-domain", "x@nowhere.test")
    assert r["state"] == "bounced" and "5.1.2" in r["last_reply"], r
    assert r["attempts"] == 1
    statuses = sorted(str(b.get_payload()[1].get_payload()[1]["Status"]) for b in bounces_to(relay))
    assert statuses == ["5.1.10", "5.1.2"]


def test_queue_retry_now(tern_factory, dns, scripted):
    tern = make_relay(tern_factory, dns, retry='["1h"]')
    send(tern, ["grey-retry@grey.test"], subject="retry me")
    m, r = wait_state(tern, "retry-me", "grey-retry@grey.test", states=("deferred",))
    assert r["attempts"] == 1
    out = tern.cli("queue", "retry", m["id"]).stdout
    assert "1 recipient scheduled" in out
    _, r = wait_state(tern, "retry-me", "grey-retry@grey.test", states=("delivered",), timeout=20)
    assert r["attempts"] == 2
    assert tern.cli("queue", "retry", "nosuchid", check=False).returncode == 1


def test_bulk_through_smtp_sink_reuses_connections(tern_factory, dns, tmp_path):
    sink = subprocess.Popen(["smtp-sink", "-u", "nobody", f"127.0.0.5:{MX_PORT}", "100"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port("127.0.0.5", MX_PORT)
        tern = make_relay(tern_factory, dns)
        with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
            for i in range(100):
                s.sendmail(USER, [f"r{i}@bulk.test"], f"Subject: bulk {i}\r\nMessage-ID: <bulk{i}@{DOMAIN}>\r\n\r\nbody {i}\r\n")
        deadline = time.time() + 60
        while time.time() < deadline:
            states = [r["state"] for m in tern.queue() for r in m["recipients"]]
            if states.count("delivered") == 100:
                break
            time.sleep(0.2)
        assert states.count("delivered") == 100, states
    finally:
        sink.send_signal(15)
        sink.wait(timeout=10)


def test_kill9_during_delivery_loses_nothing(tern_factory, dns):
    """Tern is killed while a batch is being delivered to a slow peer; after a restart every
    message arrives (a message whose 250 was not yet recorded may arrive twice, never zero)."""
    received = []

    from aiosmtpd.controller import Controller

    class Slow:
        async def handle_DATA(self, server, session, envelope):
            await asyncio.sleep(0.05)
            received.append(envelope.original_content)
            return "250 2.0.0 OK"

    controller = Controller(Slow(), hostname="127.0.0.5", port=MX_PORT)
    controller.start()
    try:
        # Two sessions to a peer that takes 50 ms a message: about 40 a second, so the kill
        # lands while most of the 300 are still queued or in a batch.
        tern = make_relay(tern_factory, dns, delivery_extra="max_connections_per_destination = 2")
        total = 300
        with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
            for i in range(total):
                s.sendmail(USER, [f"k{i}@bulk.test"], f"Subject: k{i}\r\nMessage-ID: <k{i}@{DOMAIN}>\r\n\r\nbody\r\n")
        deadline = time.time() + 30
        while len(received) < 30 and time.time() < deadline:
            time.sleep(0.01)
        tern.kill9()
        at_kill = len(received)
        assert 0 < at_kill < total // 2, at_kill
        tern.start()
        deadline = time.time() + 90
        while time.time() < deadline:
            states = [r["state"] for m in tern.queue() for r in m["recipients"]]
            if states.count("delivered") == total:
                break
            time.sleep(0.3)
        assert states.count("delivered") == total, (at_kill, states.count("delivered"))
        ids = set()
        for content in received:
            for line in content.split(b"\r\n"):
                if line.lower().startswith(b"message-id:"):
                    ids.add(line.split(b":", 1)[1].strip())
        assert ids == {f"<k{i}@{DOMAIN}>".encode() for i in range(total)}
        duplicates = len(received) - total
        print(f"kill -9 after {at_kill} deliveries: {total} delivered, {duplicates} duplicate(s)")
        assert duplicates <= 50
    finally:
        controller.stop()
