"""Tern's MIME builder (Tests/Golden/mime, written by ComposedMessageTests) read by a real MIME
parser: Python's email package, as a mail client would read the messages."""
import email
import email.policy
import os

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "Tests", "Golden", "mime")


def parse(name):
    with open(os.path.join(GOLDEN, name), "rb") as f:
        return email.message_from_binary_file(f, policy=email.policy.default)


def test_plain():
    m = parse("plain.eml")
    assert m["From"].addresses[0].display_name == "The Shop"
    assert m.get_content_type() == "text/plain"
    assert m.get_content() == "Hello Bob,\nyour order has shipped.\n"
    assert not m.defects


def test_alternative_with_unicode_headers_and_bodies():
    m = parse("alternative-unicode.eml")
    assert str(m["Subject"]) == "Ihre Bestellung ist unterwegs — Grüße aus München, mit einem sehr langen Betreff"
    cc = m["Cc"].addresses
    assert (cc[0].display_name, cc[0].addr_spec) == ('Carol "CJ" Jones', "carol@example.net")
    assert (cc[1].display_name, cc[1].addr_spec) == ("Dänen", "dan@example.net")
    assert m.get_content_type() == "multipart/alternative"
    text = m.get_body(preferencelist=("plain",)).get_content()
    html = m.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("Grüße, Bob — €10 off = a deal\n") and text.rstrip().endswith("long line")
    assert html.strip() == "<p>Grüße, <b>Bob</b></p>"
    assert m["X-Campaign"] == "autumn" and not m.defects


def test_mixed_related_inline_and_attachment():
    m = parse("mixed-related.eml")
    assert m.get_content_type() == "multipart/mixed"
    related = m.get_payload()[0]
    assert related.get_content_type() == "multipart/related"
    image = related.get_payload()[1]
    assert image["Content-ID"] == "<logo>" and image.get_content_disposition() == "inline"
    assert image.get_content() == bytes([0x89] * 100)
    attachments = list(m.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["Rechnung März.csv"]
    assert attachments[0].get_content() == "a,b\n1,2\n"
