"""Open and click tracking end to end, loopback only: a message with HTML, text, an attachment
and an inline image, sent with the official `sendgrid` library and over SMTP with X-SMTPAPI
filters, arrives with every link rewritten but the opted-out one, the attachment byte-identical
and a DKIM signature dkimpy verifies; curl fetches the pixel and follows a link, which records
`open` and `click` events that reach a signed webhook; the redirect goes to the exact original
URL, and a token with one character changed gets 404.
"""
import base64
import email
import email.policy
import json
import os
import re
import smtplib
import subprocess
import time

import pytest
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (Attachment, Category, ClickTracking, ContentId, Disposition, FileContent, FileName, FileType, Mail,
                                   OpenTracking, TrackingSettings)

from conftest import DEST, PASSWORD, USER, routed_tern
from test_http_api import PNG, request, verify_dkim, wait_messages
from test_http_webhooks import Receiver  # noqa: F401  (fixture below)
from test_http_webhooks import receiver  # noqa: F401

HTML = ('<html><body><p>Hello <a href="https://shop.example/p?id=7&amp;ref=mail">shop</a>, '
        '<a href="http://news.example/a">news</a>, <a clicktracking=off href="https://keep.example/as-is">kept</a>, '
        '<a href="mailto:help@example.test">mail us</a>.</p><img src="cid:logo1"></body></html>')
CSV = b"col1,col2\r\n1,2\r\n" * 50


@pytest.fixture
def api_server(tern_factory, sink):
    return routed_tern(tern_factory, sink)


def tracked_tern(tern_factory, sink, receiver):
    server = routed_tern(
        tern_factory, sink,
        "[http]\nallow_private_webhooks = true\nwebhook_batch_delay = \"1s\"\nwebhook_retry_delay = \"1s\"\n"
        "public_url = \"http://public.invalid\"\n")
    # The public URL is the HTTP listener itself (loopback), known only once the ports are.
    config = open(server.config).read().replace("http://public.invalid", server.http_url)
    open(server.config, "w").write(config)
    server.stop()
    server.start()
    status, _, hook = request(server, "POST", "/v3/user/webhooks/event/settings",
                              {"url": f"http://127.0.0.1:{receiver.port}/events", "open": True, "click": True, "delivered": True})
    assert status == 201, hook
    status, _, signed = request(server, "PATCH", f"/v3/user/webhooks/event/settings/signed/{hook['id']}", {"enabled": True})
    assert status == 200, signed
    receiver.public_key = signed["public_key"]
    return server


def parts(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg, {part.get_content_type(): part for part in msg.walk() if not part.is_multipart()}


def curl(*args):
    result = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", *args],
                            capture_output=True, text=True, timeout=30)
    code, _, location = result.stdout.partition(" ")
    return int(code), location


def check_tracked(server, raw, attachment, attachment_type="text/csv"):
    msg, by_type = parts(raw)
    assert verify_dkim(server, raw), raw[:600]
    html = by_type["text/html"].get_content()
    links = re.findall(r'href="([^"]+)"', html)
    tracked = [link for link in links if link.startswith(server.http_url + "/t/c/")]
    assert len(tracked) == 2, links
    assert "https://keep.example/as-is" in links and "mailto:help@example.test" in links
    assert "shop.example" not in html and "news.example" not in html
    pixels = re.findall(r'<img src="(' + re.escape(server.http_url) + r'/t/o/[^"]+)"', html)
    assert len(pixels) == 1, html
    assert by_type[attachment_type].get_payload(decode=True) == attachment
    assert by_type["image/png"].get_payload(decode=True) == PNG
    return tracked, pixels[0]


def test_tracked_links_pixel_events_and_forged_tokens(tern_factory, sink, receiver):
    server = tracked_tern(tern_factory, sink, receiver)
    client = SendGridAPIClient(api_key=server.key, host=server.http_url)
    mail = Mail(from_email=USER, to_emails=f"reader@{DEST}", subject="Tracked", plain_text_content="Text https://text.example/x",
                html_content=HTML)
    mail.add_attachment(Attachment(FileContent(base64.b64encode(CSV).decode()), FileName("report.csv"), FileType("text/csv"),
                                   Disposition("attachment")))
    mail.add_attachment(Attachment(FileContent(base64.b64encode(PNG).decode()), FileName("logo.png"), FileType("image/png"),
                                   Disposition("inline"), ContentId("logo1")))
    settings = TrackingSettings()
    settings.click_tracking = ClickTracking(True, False)
    settings.open_tracking = OpenTracking(True)
    mail.tracking_settings = settings
    mail.add_category(Category("launch"))
    response = client.send(mail)
    assert response.status_code == 202, response.body
    request_id = response.headers["X-Message-Id"]
    _, rcpts, raw = wait_messages(sink, 1)[0]
    tracked, pixel = check_tracked(server, raw, CSV)
    # enable_text is off: the text part keeps its URL.
    _, by_type = parts(raw)
    assert "https://text.example/x" in by_type["text/plain"].get_content()

    # The pixel: a GIF, and an open event.
    code, _ = curl(pixel, "-A", "Mozilla/5.0 (Windows NT 10.0) Thunderbird/115")
    assert code == 200
    # Each link redirects to exactly what the sender wrote (entities decoded, as a browser would).
    assert curl(tracked[0], "-A", "Mozilla/5.0 Firefox/120")[1] == "https://shop.example/p?id=7&ref=mail"
    assert curl(tracked[1], "-A", "Mozilla/5.0 Firefox/120")[1] == "http://news.example/a"
    # One character changed: 404, nothing recorded, nowhere redirected.
    token = tracked[0].rsplit("/", 1)[1]
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    assert curl(f"{server.http_url}/t/c/{flipped}") == (404, "")
    assert curl(f"{server.http_url}/t/o/{flipped}")[0] == 404

    events = receiver.wait_for(lambda events: sum(e["event"] == "click" for e in events) >= 2 and any(e["event"] == "open" for e in events))
    assert all(verified for verified, _ in receiver.batches), receiver.batches
    opened = next(e for e in events if e["event"] == "open")
    assert opened["email"] == f"reader@{DEST}" and opened["sg_message_id"] == f"{request_id}.0"
    assert opened["useragent"].endswith("Thunderbird/115") and opened["ip"] == "127.0.0.1" and opened["sg_machine_open"] is False
    clicks = sorted((e for e in events if e["event"] == "click"), key=lambda e: e["url_offset"]["index"])
    assert [c["url"] for c in clicks] == ["https://shop.example/p?id=7&ref=mail", "http://news.example/a"]
    assert [c["url_offset"]["index"] for c in clicks] == [0, 1]

    # Stats and the message page count them (curl's clicks within two seconds of delivery may be
    # flagged as machine clicks, so unique clicks are at most the clicks).
    today = time.strftime("%Y-%m-%d", time.gmtime())
    status, _, stats = request(server, "GET", f"/v3/stats?start_date={today}")
    metrics = stats[0]["stats"][0]["metrics"]
    assert metrics["opens"] == 1 and metrics["unique_opens"] == 1 and metrics["clicks"] == 2 and metrics["unique_clicks"] <= 1
    status, _, by_category = request(server, "GET", f"/v3/categories/stats?start_date={today}&categories=launch&categories=other")
    assert status == 200 and [(e["name"], e["metrics"]["clicks"]) for e in by_category[0]["stats"]] == [("launch", 2), ("other", 0)]
    status, _, detail = request(server, "GET", f"/v3/messages/{request_id}.0")
    assert detail["opens_count"] == 1 and detail["clicks_count"] == 2
    assert detail["links"] == [{"url": "https://shop.example/p?id=7&ref=mail", "url_offset": 0, "clicks": 1},
                               {"url": "http://news.example/a", "url_offset": 1, "clicks": 1}]


def test_smtp_with_x_smtpapi_filters(tern_factory, sink, receiver):
    server = tracked_tern(tern_factory, sink, receiver)
    from email.message import EmailMessage
    message = EmailMessage()
    message["From"] = USER
    message["To"] = f"one@{DEST}, two@{DEST}"
    message["Subject"] = "SMTP tracked"
    message["X-SMTPAPI"] = json.dumps({"filters": {"clicktrack": {"settings": {"enable": 1, "enable_text": 1}},
                                                   "opentrack": {"settings": {"enable": 1}}}})
    message.set_content("Text link https://text.example/x.")
    message.add_alternative(HTML, subtype="html")
    message.get_payload()[1].add_related(PNG, "image", "png", cid="<logo1>")
    message.add_attachment(CSV, maintype="application", subtype="octet-stream", filename="report.bin")
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=30) as smtp:
        smtp.starttls()
        smtp.login(USER, PASSWORD)
        smtp.send_message(message)
    arrived = wait_messages(sink, 2)
    assert sorted(r for _, rcpts, _ in arrived for r in rcpts) == [f"one@{DEST}", f"two@{DEST}"]
    # One message per recipient, each with its own links; X-SMTPAPI never leaves.
    tokens = set()
    for _, rcpts, raw in arrived:
        assert len(rcpts) == 1 and b"X-SMTPAPI" not in raw
        tracked, pixel = check_tracked(server, raw, CSV, "application/octet-stream")
        _, by_type = parts(raw)
        text = by_type["text/plain"].get_content()
        found = re.search("(" + re.escape(server.http_url) + r"/t/c/\S+)\.", text)
        assert "https://text.example/x" not in text and found, text
        tokens.update(tracked)
        text_links = found.group(1)
    assert len(tokens) == 4
    code, location = curl(sorted(tokens)[0])
    assert code == 302 and location in ("https://shop.example/p?id=7&ref=mail", "http://news.example/a")
    # A link of the text part: its click says so in url_offset.
    assert curl(text_links) == (302, "https://text.example/x")
    events = receiver.wait_for(lambda events: any(e["event"] == "click" and e["url_offset"]["type"] == "text" for e in events))
    clicked = next(e for e in events if e["event"] == "click" and e["url_offset"]["type"] == "text")
    assert clicked["url"] == "https://text.example/x" and clicked["url_offset"]["index"] == 0


def test_one_click_unsubscribe_from_the_delivered_header(tern_factory, sink, receiver):
    server = tracked_tern(tern_factory, sink, receiver)
    status, _, group = request(server, "POST", "/v3/asm/groups", {"name": "Weekly news", "description": "Once a week"})
    assert status == 201, group
    status, _, hook = request(server, "GET", "/v3/user/webhooks/event/settings/all")
    hook_id = hook["webhooks"][0]["id"]
    status, _, body = request(server, "PATCH", f"/v3/user/webhooks/event/settings/{hook_id}",
                              {"group_unsubscribe": True, "group_resubscribe": True, "dropped": True})
    assert status == 200, body

    def send():
        status, headers, body = request(server, "POST", "/v3/mail/send", {
            "personalizations": [{"to": [{"email": f"reader@{DEST}"}]}], "from": {"email": USER}, "subject": "News",
            "content": [{"type": "text/html", "value": "<p>This week</p>"}], "asm": {"group_id": group["id"]}})
        assert status == 202, body
        return headers["X-Message-Id"]

    first = send()
    _, _, raw = wait_messages(sink, 1)[0]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(http://127\.0\.0\.1:\d+/u/[A-Za-z0-9_-]+)>", str(msg["List-Unsubscribe"])).group(1)
    # Both fields are covered by the DKIM signature (RFC 8058 §4), and it verifies.
    assert verify_dkim(server, raw)
    signed = re.search(r"h=([^;]+);", str(msg["DKIM-Signature"]).replace("\r\n", "").replace("\t", "").replace(" ", "")).group(1)
    assert "list-unsubscribe" in signed.split(":") and "list-unsubscribe-post" in signed.split(":")

    # A GET shows a page and changes nothing (link scanners fetch links).
    page = subprocess.run(["curl", "-s", url], capture_output=True, text=True, timeout=30).stdout
    assert "Weekly news" in page and "One-Click" in page
    assert request(server, "GET", f"/v3/asm/groups/{group['id']}/suppressions")[2] == []
    # The one-click POST as a mail provider sends it: no cookie, no key.
    code, _ = curl("-X", "POST", "-d", "List-Unsubscribe=One-Click", url)
    assert code == 200
    assert request(server, "GET", f"/v3/asm/groups/{group['id']}/suppressions")[2] == [f"reader@{DEST}"]
    second = send()
    events = receiver.wait_for(lambda events: any(e["event"] == "dropped" for e in events)
                               and any(e["event"] == "group_unsubscribe" for e in events))
    unsubscribed = next(e for e in events if e["event"] == "group_unsubscribe")
    assert unsubscribed["sg_message_id"] == f"{first}.0" and unsubscribed["asm_group_id"] == group["id"]
    dropped = next(e for e in events if e["event"] == "dropped")
    assert dropped["sg_message_id"] == f"{second}.0" and dropped["reason"] == "Unsubscribed Address"
    # A changed token: 404, nothing changes.
    token = url.rsplit("/", 1)[1]
    assert curl("-X", "POST", "-d", "List-Unsubscribe=One-Click", url[:-len(token)] + token[:-3] + "AAA")[0] == 404
    # Resubscribe from the page's second button.
    assert curl("-X", "POST", "-d", "action=resubscribe", url)[0] == 200
    assert request(server, "GET", f"/v3/asm/groups/{group['id']}/suppressions")[2] == []
    receiver.wait_for(lambda events: any(e["event"] == "group_resubscribe" for e in events))

    # The page also manages the account's other groups for this recipient.
    status, _, other = request(server, "POST", "/v3/asm/groups", {"name": "Offers", "description": "Deals"})
    page = subprocess.run(["curl", "-s", url], capture_output=True, text=True, timeout=30).stdout
    assert "Other mail from this sender" in page and "Offers: subscribed" in page
    assert curl("-X", "POST", "-d", f"List-Unsubscribe=One-Click&group={other['id']}", url)[0] == 200
    assert request(server, "GET", f"/v3/asm/groups/{other['id']}/suppressions")[2] == [f"reader@{DEST}"]
    assert request(server, "GET", f"/v3/asm/groups/{group['id']}/suppressions")[2] == []
    events = receiver.wait_for(lambda events: any(e["event"] == "group_unsubscribe" and e.get("asm_group_id") == other["id"] for e in events))


def test_feedback_loop_report_built_with_python_email(tern_factory, sink, receiver):
    from email.message import Message
    from email.mime.base import MIMEBase
    from email.mime.message import MIMEMessage
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    from conftest import DOMAIN
    server = tracked_tern(tern_factory, sink, receiver)
    server.cli("user", "add", f"abuse@{DOMAIN}", "--password-stdin", input="abuse-pass-123\n")
    config = open(server.config).read() + f'\n[engagement]\nabuse_address = "abuse@{DOMAIN}"\n'
    open(server.config, "w").write(config)
    server.stop()
    server.start()
    status, _, hook = request(server, "GET", "/v3/user/webhooks/event/settings/all")
    request(server, "PATCH", f"/v3/user/webhooks/event/settings/{hook['webhooks'][0]['id']}", {"spam_report": True})
    status, headers, body = request(server, "POST", "/v3/mail/send", {
        "personalizations": [{"to": [{"email": f"victim@{DEST}"}]}], "from": {"email": USER}, "subject": "Deal",
        "content": [{"type": "text/plain", "value": "Buy now"}]})
    assert status == 202, body
    request_id = headers["X-Message-Id"]
    _, _, delivered = wait_messages(sink, 1)[0]

    # The mailbox provider's report (RFC 5965), with the original attached as message/rfc822.
    report = MIMEMultipart("report", report_type="feedback-report")
    report["From"] = "fbl@isp.example"
    report["To"] = f"abuse@{DOMAIN}"
    report["Subject"] = "FW: Deal"
    report.attach(MIMEText("This is an email abuse report.\n"))
    fields = MIMEBase("message", "feedback-report")
    fields.set_payload("Feedback-Type: abuse\nUser-Agent: ISP-FBL/1.0\nVersion: 1\n"
                       f"Original-Rcpt-To: <victim@{DEST}>\nArrival-Date: Mon, 30 Nov 2026 10:00:00 +0000\n")
    report.attach(fields)
    report.attach(MIMEMessage(email.message_from_bytes(delivered)))
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:
        # Canonical CRLF line ends (the attached original had CRLF already; compat32 keeps them).
        data = report.as_bytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
        smtp.sendmail("fbl@isp.example", [f"abuse@{DOMAIN}"], data)

    events = receiver.wait_for(lambda events: any(e["event"] == "spamreport" for e in events))
    spam = next(e for e in events if e["event"] == "spamreport")
    assert spam["email"] == f"victim@{DEST}" and spam["sg_message_id"] == f"{request_id}.0"
    status, _, listed = request(server, "GET", "/v3/suppression/spam_reports")
    assert status == 200 and [entry["email"] for entry in listed] == [f"victim@{DEST}"], listed


def test_dynamic_templates_through_the_sendgrid_library_and_the_cli(api_server, sink):
    server = api_server
    client = SendGridAPIClient(api_key=server.key, host=server.http_url)
    response = client.client.templates.post(request_body={"name": "Receipt", "generation": "dynamic"})
    assert response.status_code == 201
    template = json.loads(response.body)
    html = ("<h1>Thanks, {{customer.name}}</h1><ul>{{#each items}}<li>{{@index}}: {{this.title}} {{#if this.gift}}(gift){{/if}}</li>{{/each}}</ul>"
            "{{#equals currency \"EUR\"}}<p>Paid in euros</p>{{else}}<p>Paid</p>{{/equals}}{{{footer}}}")
    # Handlebars that does not parse: 400 naming the field and line (the library raises on 400).
    from python_http_client.exceptions import BadRequestsError
    with pytest.raises(BadRequestsError) as refused:
        client.client.templates._(template["id"]).versions.post(request_body={"name": "bad", "subject": "x", "html_content": "<p>\n{{#each items}}"})
    error = json.loads(refused.value.body)["errors"][0]
    assert error["field"] == "html_content" and "line 2" in error["message"], error
    response = client.client.templates._(template["id"]).versions.post(request_body={
        "name": "v1", "subject": "Receipt for {{customer.name}}", "html_content": html, "plain_content": "Thanks {{customer.name}}", "active": 1})
    assert response.status_code == 201

    mail = Mail(from_email=USER, to_emails=f"buyer@{DEST}")
    mail.template_id = template["id"]
    mail.dynamic_template_data = {"customer": {"name": "Zoë <b>"}, "items": [{"title": "Book"}, {"title": "Pen", "gift": True}],
                                  "currency": "EUR", "footer": "<footer>raw</footer>"}
    assert client.send(mail).status_code == 202
    _, _, raw = wait_messages(sink, 1)[0]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(msg["Subject"]) == "Receipt for Zoë &lt;b&gt;"
    body = msg.get_body(("html",)).get_content()
    assert ("<h1>Thanks, Zoë &lt;b&gt;</h1><ul><li>0: Book </li><li>1: Pen (gift)</li></ul><p>Paid in euros</p><footer>raw</footer>") in body
    assert "Thanks Zoë &lt;b&gt;" in msg.get_body(("plain",)).get_content()
    assert verify_dkim(server, raw)

    # An unknown template id is a 400 naming the field; the CLI lists and shows the template.
    status, _, error = request(server, "POST", "/v3/mail/send", {"personalizations": [{"to": [{"email": f"x@{DEST}"}]}],
                                                                  "from": {"email": USER}, "template_id": "d-0000"})
    assert status == 400 and error["errors"][0]["field"] == "template_id"
    listed = server.cli("template", "list", USER).stdout
    assert template["id"] in listed and "Receipt" in listed and "v1" in listed
    shown = server.cli("template", "show", USER, template["id"]).stdout
    assert "[active]" in shown and "{{customer.name}}" in shown
    html_file = os.path.join(server.directory, "t.html")
    open(html_file, "w").write("<p>{{name}}</p>")
    added = server.cli("template", "add", USER, "From CLI", "--subject", "Hi {{name}}", "--html", html_file).stdout.strip()
    assert added.startswith("d-") and added in server.cli("template", "list", USER).stdout
    open(html_file, "w").write("<p>{{#if name}}</p>")
    failed = server.cli("template", "add", USER, "Broken", "--html", html_file, check=False)
    assert failed.returncode == 2 and "html_content: line 1" in failed.stderr


def test_mailto_unsubscribe_through_the_mx(tern_factory, sink, receiver):
    from urllib.parse import unquote, urlparse

    from conftest import DOMAIN
    server = tracked_tern(tern_factory, sink, receiver)
    server.cli("user", "add", f"unsubscribe@{DOMAIN}", "--password-stdin", input="unsub-pass-123\n")
    open(server.config, "a").write(f'\n[engagement]\nunsubscribe_address = "unsubscribe@{DOMAIN}"\n')
    server.stop()
    server.start()
    status, _, body = request(server, "POST", "/v3/mail/send", {
        "personalizations": [{"to": [{"email": f"reader@{DEST}"}]}], "from": {"email": USER}, "subject": "Digest",
        "content": [{"type": "text/plain", "value": "This week"}], "tracking_settings": {"subscription_tracking": {"enable": True}}})
    assert status == 202, body
    _, _, raw = wait_messages(sink, 1)[0]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert verify_dkim(server, raw)
    # The footer and both URLs; a mail client would answer the mailto: with its subject.
    assert "If you would like to unsubscribe" in msg.get_content()
    mailto = re.search(r"<(mailto:[^>]+)>", str(msg["List-Unsubscribe"])).group(1)
    target = urlparse(mailto)
    subject = unquote(target.query.split("subject=", 1)[1])
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:
        smtp.sendmail(f"reader@{DEST}", [target.path],
                      f"From: reader@{DEST}\r\nTo: {target.path}\r\nSubject: {subject}\r\n\r\nPlease stop.\r\n".encode())
    deadline = time.time() + 20
    while time.time() < deadline:
        status, _, listed = request(server, "GET", "/v3/suppression/unsubscribes")
        if listed:
            break
        time.sleep(0.2)
    assert [entry["email"] for entry in listed] == [f"reader@{DEST}"], listed
