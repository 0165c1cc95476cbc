#!/usr/bin/env python3
"""Writes the IMAP golden corpus: real-world-shaped MIME messages (Tests/Golden/imap/*.eml).

Hand-written on purpose: attachments, inline images, forwards, digests, reports, signed mail,
RFC 2231 and RFC 2047 parameters, 8-bit and UTF-8 headers, and the broken shapes real mail has.
Tern's ENVELOPE/BODYSTRUCTURE for each is kept next to it (`*.structure`, by the Swift golden
test) and checked against Python's email package by interop/test_imap_corpus.py.
Run from the repository root: python3 scripts/imap-corpus.py
"""
import base64
import os

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Golden", "imap")
PDF = base64.encodebytes(b"%PDF-1.4\n" + bytes(range(256)) * 3).decode().replace("\n", "\r\n")
PNG = base64.encodebytes(b"\x89PNG\r\n\x1a\n" + bytes(200)).decode().replace("\n", "\r\n")
HDR = "From: Alice Example <alice@example.test>\nTo: Bob <bob@example.test>\nDate: Tue, 01 Jul 2025 10:52:37 +0200\nMessage-ID: <{id}@example.test>\n"

cases = {}


def case(name, text):
    cases[name] = text


case("01-plain", HDR + "Subject: Plain text\n\nHello Bob,\nlunch at noon?\n-- \nAlice\n")
case("02-qp-utf8", HDR + "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nGr=C3=BC=C3=9Fe, the caf=C3=A9 is open =\nall day.\n")
case("03-8bit-body", HDR + "Subject: 8bit\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\nCaf\xe9 cr\xe8me\n")
case("04-utf8-headers", "From: Jörg Müller <jörg@bücher.example>\nTo: Zoë <zoe@example.test>\nSubject: Grüße 👋\nDate: Tue, 01 Jul 2025 10:52:37 +0200\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nHallo Zoë!\n")
case("05-alternative", HDR + 'Subject: Newsletter\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="alt-1"\n\nThis is a MIME message.\n--alt-1\nContent-Type: text/plain; charset=us-ascii\n\nPlain version\n--alt-1\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n<html><body><p>HTML version</p></body></html>\n--alt-1--\n')
case("06-pdf-attachment", HDR + 'Subject: Invoice\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="mix"\n\n--mix\nContent-Type: text/plain\n\nInvoice attached.\n--mix\nContent-Type: application/pdf; name="invoice-2025.pdf"\nContent-Disposition: attachment; filename="invoice-2025.pdf"; size=777\nContent-Transfer-Encoding: base64\n\n' + PDF + '--mix--\n')
case("07-related-inline-image", HDR + 'Subject: Logo\nMIME-Version: 1.0\nContent-Type: multipart/related; boundary=rel; type="text/html"\n\n--rel\nContent-Type: text/html; charset=utf-8\n\n<img src="cid:logo@example.test">\n--rel\nContent-Type: image/png\nContent-ID: <logo@example.test>\nContent-Disposition: inline; filename=logo.png\nContent-Transfer-Encoding: base64\n\n' + PNG + '--rel--\n')
case("08-full-client-shape", HDR + 'Subject: Report with everything\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="outer"\n\n--outer\nContent-Type: multipart/alternative; boundary="alt"\n\n--alt\nContent-Type: text/plain; charset=utf-8\n\nSee the report.\n--alt\nContent-Type: multipart/related; boundary="rel"\n\n--rel\nContent-Type: text/html; charset=utf-8\n\n<p>See the report. <img src="cid:chart"></p>\n--rel\nContent-Type: image/png; name=chart.png\nContent-ID: <chart>\nContent-Transfer-Encoding: base64\n\n' + PNG + '--rel--\n\n--alt--\n\n--outer\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name="data.xlsx"\nContent-Disposition: attachment; filename="data.xlsx"\nContent-Transfer-Encoding: base64\n\n' + PDF + '--outer--\n')
case("09-forwarded", HDR + 'Subject: Fwd: Plans\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=fwd\n\n--fwd\nContent-Type: text/plain\n\nSee below.\n--fwd\nContent-Type: message/rfc822\nContent-Disposition: attachment; filename="Plans.eml"\n\nFrom: Carol <carol@example.org>\nTo: Alice <alice@example.test>\nSubject: Plans\nDate: Mon, 30 Jun 2025 09:00:00 +0000\nMessage-ID: <plans@example.org>\n\nLet us meet.\n--fwd--\n')
case("10-forwarded-twice", HDR + 'Subject: Fwd: Fwd: Photo\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\nFrom: Dan <dan@example.net>\nSubject: Fwd: Photo\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=inner\n\n--inner\n\nLook:\n--inner\nContent-Type: message/rfc822\n\nFrom: Eve <eve@example.com>\nSubject: Photo\nContent-Type: image/jpeg\nContent-Transfer-Encoding: base64\n\n/9j/4AAQSkZJRgABAQ==\n--inner--\n')
case("11-digest", HDR + 'Subject: Digest\nMIME-Version: 1.0\nContent-Type: multipart/digest; boundary="dig"\n\n--dig\n\nFrom: one@example.test\nSubject: First\n\nOne.\n--dig\n\nFrom: two@example.test\nSubject: Second\n\nTwo.\n--dig\nContent-Type: text/plain\n\nNot a message.\n--dig--\n')
case("12-rfc2231-filename", HDR + "Subject: RFC 2231\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/octet-stream;\n name*0*=utf-8''R%C3%A9sum%C3%A9%20;\n name*1*=2025.pdf\nContent-Disposition: attachment;\n filename*0*=utf-8''R%C3%A9sum%C3%A9%20;\n filename*1*=2025.pdf\nContent-Transfer-Encoding: base64\n\nAAECAw==\n--b--\n")
case("13-rfc2047-filename", HDR + 'Subject: RFC 2047 name\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nx\n--b\nContent-Type: application/pdf; name="=?UTF-8?B?UmVjaG51bmfDpC5wZGY=?="\nContent-Disposition: attachment; filename="=?UTF-8?B?UmVjaG51bmfDpC5wZGY=?="\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n')
case("14-inline-disposition-params", HDR + 'Subject: Inline\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; format=flowed; delsp=yes\nContent-Disposition: inline\n\nflowed text \n--b\nContent-Type: image/gif\nContent-Disposition: inline; filename="dot.gif"; creation-date="Tue, 01 Jul 2025 10:00:00 +0000"\nContent-Transfer-Encoding: base64\n\nR0lGODlhAQABAAAAACw=\n--b--\n')
case("15-all-part-fields", HDR + 'Subject: Fields\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\nContent-Language: en\n\n--b\nContent-Type: text/plain; charset=us-ascii\nContent-ID: <part1@example.test>\nContent-Description: The first part\nContent-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\nContent-Language: en-GB, fr\nContent-Location: https://example.test/part1.txt\n\nFirst\n--b--\n')
case("16-part-without-headers", HDR + 'Subject: Bare parts\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nno header at all\n--b\nX-Other: 1\n\nonly an unrelated header\n--b--\n')
case("17-broken-content-type", HDR + 'Subject: Broken type\nMIME-Version: 1.0\nContent-Type: text\n\nThe type has no subtype.\n')
case("18-missing-closing-boundary", HDR + 'Subject: Truncated\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nfirst\n--b\nContent-Type: text/plain\n\nsecond, and the message was cut\n')
case("19-boundary-with-spaces", HDR + 'Subject: Odd boundary\nMIME-Version: 1.0\nContent-Type: multipart/alternative;\n\tboundary="=_Part 0 of 1 (odd)"\n\n--=_Part 0 of 1 (odd)\nContent-Type: text/plain\n\none\n--=_Part 0 of 1 (odd)\nContent-Type: text/html\n\n<b>two</b>\n--=_Part 0 of 1 (odd)--\n')
case("20-empty-multipart", HDR + 'Subject: Empty multipart\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\nno parts here at all\n')
case("21-header-only", "Subject: Only a header\nFrom: alice@example.test\n")
case("22-no-envelope-fields", "X-Mailer: nothing useful\n\nA message without Date, From, To or Subject.\n")
case("23-group-syntax", "From: Alice <alice@example.test>\nTo: undisclosed-recipients:;\nCc: Team: bob@example.test, \"Carol C.\" <carol@example.org>;, dan@example.net\nSubject: Groups\nDate: Tue, 01 Jul 2025 10:52:37 +0200\n\nbody\n")
case("24-sender-reply-to", "From: Alice <alice@example.test>, Bob <bob@example.test>\nSender: Secretary <sec@example.test>\nReply-To: list@example.test\nTo: all@example.test\nSubject: Two authors\nDate: Tue, 01 Jul 2025 10:52:37 +0200\n\nbody\n")
case("25-threading", HDR + "Subject: Re: Plans\nIn-Reply-To: <plans@example.org>\nReferences: <start@example.org> <plans@example.org>\n\nAgreed.\n")
case("26-comments-and-quotes", 'From: "Smith, John" (work) <"john.smith"@example.test>\nTo: jane@example.test (Jane Doe), <@relay.example:bob@example.test>\nSubject: Quoted\nDate: Tue, 1 Jul 2025 10:52:37 +0200 (CEST)\n\nbody\n')
case("27-long-folded-subject", HDR + "Subject: This is a very long subject line that a mail client folded\n  over several lines because it was longer than seventy-eight\n\tcharacters in total\n\nbody\n")
case("28-duplicate-headers", HDR + "Subject: First subject\nSubject: Second subject\nContent-Type: text/plain\nContent-Type: text/html\n\nbody\n")
case("29-octet-stream-no-name", HDR + "Subject: Blob\nMIME-Version: 1.0\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAECAwQFBgcICQ==\n")
case("30-calendar-invite", HDR + 'Subject: Invitation\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=cal\n\n--cal\nContent-Type: text/plain; charset=utf-8\n\nYou are invited.\n--cal\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\nContent-Transfer-Encoding: 7bit\n\nBEGIN:VCALENDAR\nMETHOD:REQUEST\nEND:VCALENDAR\n--cal--\n')
case("31-pgp-signed", HDR + 'Subject: Signed\nMIME-Version: 1.0\nContent-Type: multipart/signed; micalg=pgp-sha256;\n protocol="application/pgp-signature"; boundary="sig"\n\n--sig\nContent-Type: text/plain; charset=utf-8\n\nSigned text.\n--sig\nContent-Type: application/pgp-signature; name="signature.asc"\nContent-Description: OpenPGP digital signature\nContent-Disposition: attachment; filename="signature.asc"\n\n-----BEGIN PGP SIGNATURE-----\niQEzBAEBCAAdFiEE\n-----END PGP SIGNATURE-----\n--sig--\n')
case("32-delivery-report", "From: Mail Delivery System <MAILER-DAEMON@mx.example.test>\nTo: alice@example.test\nSubject: Undelivered Mail Returned to Sender\nDate: Tue, 01 Jul 2025 10:52:37 +0200\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=rep\n\n--rep\nContent-Type: text/plain\n\nYour message could not be delivered.\n--rep\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.test\n\nFinal-Recipient: rfc822; nobody@example.org\nAction: failed\nStatus: 5.1.1\n--rep\nContent-Type: text/rfc822-headers\n\nFrom: alice@example.test\nSubject: Hello\n--rep--\n")
case("33-base64-message-rfc822", HDR + "Subject: Encoded forward\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogaGkNCg0KaGVsbG8NCg==\n--b--\n")
case("34-deep-nesting", HDR + "Subject: Deep\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=l1\n\n--l1\nContent-Type: multipart/mixed; boundary=l2\n\n--l2\nContent-Type: multipart/mixed; boundary=l3\n\n--l3\nContent-Type: multipart/alternative; boundary=l4\n\n--l4\nContent-Type: text/plain\n\ndeep\n--l4\nContent-Type: text/html\n\n<i>deep</i>\n--l4--\n--l3--\n--l2--\n--l1--\n")
case("35-utf8-part-params", HDR + 'Subject: UTF-8 parameters\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\n\nx\n--b\nContent-Type: application/pdf; name="Übersicht.pdf"\nContent-Disposition: attachment; filename="Übersicht.pdf"\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n')


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, text in cases.items():
        data = text.replace("{id}", name).replace("\r\n", "\n").replace("\n", "\r\n")
        raw = data.encode("utf-8") if name != "03-8bit-body" else data.encode("latin-1")
        with open(os.path.join(OUT, name + ".eml"), "wb") as f:
            f.write(raw)
    print(f"{len(cases)} messages in {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
