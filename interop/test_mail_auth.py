"""Sender authentication against independent implementations: dkimpy signs and verifies,
authheaders (with pyspf) computes SPF/DKIM/DMARC for the same messages and DNS, and Tern's MX
answers a forged p=reject domain with 550 5.7.1.

DNS: one zone, served to Tern by dnsmasq on loopback and handed to dkimpy, pyspf and
authheaders as lookup functions, so nothing here queries the system resolver.
"""
import base64
import os
import re
import smtplib
import sqlite3
import subprocess

import dkim
import nacl.signing
import pytest
import spf
import authheaders

from conftest import DOMAIN, PASSWORD, USER
from peers import DNSServer

RSA_KEY = None  # PEM bytes, made by the zone fixture
ED_SEED = None  # base64 seed (dkimpy's Ed25519 private key format)


def make_keys(directory):
    global RSA_KEY, ED_SEED
    key_path = os.path.join(directory, "dkim.pem")
    subprocess.run(["openssl", "genrsa", "-out", key_path, "2048"], check=True, capture_output=True)
    RSA_KEY = open(key_path, "rb").read()
    der = subprocess.run(["openssl", "rsa", "-in", key_path, "-pubout", "-outform", "DER"], check=True, capture_output=True).stdout
    signing = nacl.signing.SigningKey.generate()
    ED_SEED = base64.b64encode(bytes(signing)).decode()
    return base64.b64encode(der).decode(), base64.b64encode(bytes(signing.verify_key)).decode()


def build_zone(rsa_public, ed_public):
    return {
        "signer.test": ["v=spf1 ip4:127.0.0.1 -all"],
        "_dmarc.signer.test": ["v=DMARC1; p=reject"],
        "s1._domainkey.signer.test": [f"v=DKIM1; k=rsa; p={rsa_public}"],
        "e1._domainkey.signer.test": [f"v=DKIM1; k=ed25519; p={ed_public}"],
        "forged.test": ["v=spf1 ip4:192.0.2.1 -all"],
        "_dmarc.forged.test": ["v=DMARC1; p=reject"],
        "quar.test": ["v=spf1 -all"],
        "_dmarc.quar.test": ["v=DMARC1; p=quarantine"],
        "soft.test": ["v=spf1 ~all"],
    }


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    directory = tmp_path_factory.mktemp("mailauth-dns")
    records = build_zone(*make_keys(str(directory)))
    extra = []
    for name, texts in records.items():
        for text in texts:
            # dnsmasq makes each comma-separated part one character-string (at most 255 bytes).
            chunks = [text[i:i + 255] for i in range(0, len(text), 255)]
            extra.append(f"--txt-record={name},{','.join(chunks)}")
    server = DNSServer(str(directory), extra=extra)
    server.records = records
    yield server
    server.stop()


def lookup_txt(records, name):
    if isinstance(name, bytes):
        name = name.decode()
    return records.get(name.rstrip(".").lower(), [])


@pytest.fixture(scope="module", autouse=True)
def offline_pyspf(zone):
    """pyspf (used by authheaders) asks DNS itself: answer from the zone instead."""
    saved = spf.DNSLookup

    def lookup(name, qtype, strict=True, timeout=None, level=0):
        if qtype in ("TXT", "SPF"):
            for text in lookup_txt(zone.records, name):
                yield ((name, "TXT"), (text.encode(),))
    spf.DNSLookup = lookup
    yield
    spf.DNSLookup = saved


def dnsfunc_for(zone):
    def dnsfunc(name, timeout=5):
        texts = lookup_txt(zone.records, name)
        return texts[0] if texts else None
    return dnsfunc


def mx_tern(tern_factory, zone, extra=""):
    server = tern_factory(start=False)
    text = open(server.config).read().replace('[dns]\nnameservers = ["127.0.0.1:1"]\n', "")
    with open(server.config, "w") as f:
        f.write(text + f'[dns]\nnameservers = ["{zone.address}"]\n{extra}')
    server.start()
    return server


def message(from_addr, subject, body="Hello.\r\nSecond line.\r\n", extra_headers=""):
    return (f"From: Someone <{from_addr}>\r\nTo: <{USER}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@test>\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
            f"{extra_headers}\r\n{body}").encode()


def dkimpy_sign(msg, selector=b"s1", canonicalize=(b"relaxed", b"relaxed"), algorithm=b"rsa-sha256"):
    key = RSA_KEY if algorithm == b"rsa-sha256" else ED_SEED.encode()
    return dkim.sign(msg, selector, b"signer.test", key, canonicalize=canonicalize, signature_algorithm=algorithm,
                     include_headers=[b"from", b"to", b"subject", b"date", b"message-id"]) + msg


def stored(tern, subject):
    db = sqlite3.connect(f"file:{tern.directory}/data/tern.sqlite?mode=ro", uri=True, timeout=5)
    try:
        row = db.execute("SELECT content, quarantine FROM messages WHERE message_id = ?",
                         (f"<{subject.replace(' ', '-')}@test>",)).fetchone()
    finally:
        db.close()
    assert row is not None, f"{subject} not stored"
    return bytes(row[0]), row[1]


def results(header_text):
    """{method: result} of an Authentication-Results field's text; the first of each method (the
    MAIL FROM's spf comes before the HELO's)."""
    found = {}
    for method, result in re.findall(r"(?:^|[;\s])(spf|dkim|dmarc)=(\w+)", header_text):
        found.setdefault(method, result)
    return found


def ours(content):
    """Tern's Authentication-Results field (the first one, unfolded)."""
    match = re.search(rb"^Authentication-Results: mx\.example\.test;.*?(?=\r\n\S)", content, re.S | re.M)
    assert match, content[:600]
    return match.group(0).decode().replace("\r\n", "")


def send(tern, mail_from, msg):
    with smtplib.SMTP("127.0.0.1", tern.smtp_port, local_hostname="client.signer.test") as s:
        s.sendmail(mail_from, [USER], msg)


def test_dkimpy_signatures_verify_in_tern_and_a_changed_byte_fails(tern_factory, zone):
    tern = mx_tern(tern_factory, zone)
    cases = [(c, b"rsa-sha256", b"s1") for c in [(b"simple", b"simple"), (b"relaxed", b"relaxed"), (b"simple", b"relaxed"),
                                                  (b"relaxed", b"simple")]]
    cases.append(((b"relaxed", b"relaxed"), b"ed25519-sha256", b"e1"))
    for index, (canon, algorithm, selector) in enumerate(cases):
        subject = f"signed {index}"
        signed = dkimpy_sign(message("news@signer.test", subject), selector, canon, algorithm)
        send(tern, "bounce@soft.test", signed)  # SPF is softfail: only DKIM can pass DMARC
        content, quarantine = stored(tern, subject)
        found = results(ours(content))
        assert found == {"spf": "softfail", "dkim": "pass", "dmarc": "pass"}, (canon, algorithm, ours(content))
        assert f"header.s={selector.decode()}" in ours(content)
        assert quarantine is None
    # One byte of the body changed after signing: DKIM fails, DMARC fails, p=reject → 550 5.7.1.
    signed = dkimpy_sign(message("news@signer.test", "tampered"))
    tampered = signed.replace(b"Second line.", b"Second line!")
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(tern, "bounce@soft.test", tampered)
    assert refused.value.smtp_code == 550 and b"5.7.1" in refused.value.smtp_error
    assert b"DMARC" in refused.value.smtp_error


def test_forged_reject_domain_gets_550_and_good_mail_passes_everything(tern_factory, zone):
    tern = mx_tern(tern_factory, zone)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(tern, "ceo@forged.test", message("ceo@forged.test", "forged"))
    assert refused.value.smtp_code == 550 and b"5.7.1" in refused.value.smtp_error
    signed = dkimpy_sign(message("news@signer.test", "good"))
    send(tern, "news@signer.test", signed)
    content, _ = stored(tern, "good")
    header = ours(content)
    assert results(header) == {"spf": "pass", "dkim": "pass", "dmarc": "pass"}, header
    assert "smtp.mailfrom=news@signer.test" in header and "header.d=signer.test" in header and "header.from=signer.test" in header
    assert re.search(r"spf=none \([^)]*\) smtp.helo=client.signer.test", header)  # the HELO name has no SPF record


def test_quarantine_marks_the_message_and_forged_results_are_removed(tern_factory, zone):
    tern = mx_tern(tern_factory, zone)
    forged_ar = "Authentication-Results: mx.example.test; spf=pass; dkim=pass; dmarc=pass\r\n"
    other_ar = "Authentication-Results: other.example; spf=pass\r\n"
    send(tern, "x@quar.test", message("x@quar.test", "quarantined", extra_headers=forged_ar + other_ar))
    content, quarantine = stored(tern, "quarantined")
    assert quarantine == "dmarc"
    assert content.count(b"Authentication-Results: mx.example.test") == 1  # ours only
    assert results(ours(content)) == {"spf": "fail", "dkim": "none", "dmarc": "fail"}
    assert b"Authentication-Results: other.example; spf=pass" in content  # another host's stays


def test_dmarc_outcomes_match_authheaders(tern_factory, zone):
    """A table of From / MAIL FROM / signature combinations: Tern's results against what
    authheaders (pyspf + dkimpy + its own DMARC) computes for the same message and DNS."""
    tern = mx_tern(tern_factory, zone)
    table = [
        # (From, MAIL FROM, sign?, tamper?)
        ("a@signer.test", "a@signer.test", True, False),
        ("a@signer.test", "a@nowhere.test", True, False),
        ("a@signer.test", "a@signer.test", False, False),
        ("a@quar.test", "a@quar.test", False, False),
        ("a@soft.test", "a@soft.test", False, False),
        ("a@nowhere.test", "a@nowhere.test", False, False),
        ("a@signer.test", "a@nowhere.test", True, True),
        ("a@forged.test", "a@forged.test", False, False),
    ]
    for index, (from_addr, mail_from, sign, tamper) in enumerate(table):
        subject = f"table {index}"
        msg = message(from_addr, subject)
        if sign:
            msg = dkimpy_sign(msg)
        if tamper:
            msg = msg.replace(b"Second line.", b"Second line?")
        expected_header = authheaders.authenticate_message(
            msg, "reference.test", spf=True, dkim=True, dmarc=True, ip="127.0.0.1", mail_from=mail_from,
            helo="client.signer.test", dnsfunc=dnsfunc_for(zone))
        expected = results(expected_header)
        if not sign:
            assert expected["dkim"] in ("none", "fail")  # authheaders reports an unsigned message as fail
            expected["dkim"] = "none"
        try:
            send(tern, mail_from, msg)
        except smtplib.SMTPDataError as refused:
            # Tern refused: only right when the reference says DMARC fails under p=reject.
            assert refused.smtp_code == 550, refused
            assert expected["dmarc"] == "fail" and "policy.dmarc=reject" in expected_header, (from_addr, expected_header)
            continue
        got = results(ours(stored(tern, subject)[0]))
        assert got == expected, (from_addr, mail_from, sign, tamper, got, expected_header)
    # Where the two differ, by design: a From domain with no DMARC record of its own, under a
    # TLD missing from authheaders' bundled list. authheaders then finds no organizational
    # domain (dmarc=none); RFC 7489 §3.2 with the Public Suffix List's default rule "*" makes
    # signer.test the organizational domain, whose p=reject applies and whose d=signer.test
    # signature aligns in relaxed mode: dmarc=pass.
    send(tern, "a@signer.test", dkimpy_sign(message("a@sub.signer.test", "subdomain")))
    assert results(ours(stored(tern, "subdomain")[0])) == {"spf": "pass", "dkim": "pass", "dmarc": "pass"}
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(tern, "a@nowhere.test", message("a@sub.signer.test", "subdomain forged"))
    assert refused.value.smtp_code == 550


def test_tern_signatures_verify_with_dkimpy(tern_factory, zone):
    """Submission from a hosted domain with an RSA and an Ed25519 key: both signatures verify
    in dkimpy against the records `tern domain records` prints; a changed byte fails both."""
    server = tern_factory(start=False)
    server.cli("domain", "dkim", "rotate", DOMAIN, "--selector", "k1", "--algorithm", "both")
    listing = server.cli("domain", "dkim", "list", DOMAIN).stdout
    assert re.search(r"k1\s+rsa-sha256\s+active", listing) and re.search(r"k1e\s+ed25519-sha256\s+active", listing), listing
    records_out = server.cli("domain", "records", DOMAIN).stdout
    published = server.dkim_records()
    assert f"k1._domainkey.{DOMAIN}" in published and f"k1e._domainkey.{DOMAIN}" in published, records_out
    assert "p=none" in records_out  # DMARC starts at p=none
    server.start()
    body = "Signed by Tern.\r\n.leading dot\r\n"
    msg = (f"From: Alice <{USER}>\r\nTo: <someone@elsewhere.test>\r\nSubject: tern signed\r\n"
           f"Message-ID: <tern-signed@test>\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\n{body}")
    with smtplib.SMTP("127.0.0.1", server.submission_port) as s:
        s.starttls()
        s.login(USER, PASSWORD)
        s.sendmail(USER, ["someone@elsewhere.test"], msg)
    content, _ = stored(server, "tern signed")
    # What leaves is the stored content minus our own Received field.
    outgoing = re.sub(rb"^Received: .*?\r\n(?=\S)", b"", content, count=1, flags=re.S)
    assert outgoing.count(b"DKIM-Signature:") == 2

    def dnsfunc(name, timeout=5):
        return published.get(name.decode().rstrip("."))
    def verifies(msg, idx):
        try:
            return dkim.DKIM(msg).verify(idx=idx, dnsfunc=dnsfunc)
        except dkim.DKIMException:  # dkimpy raises for some failures (a body hash mismatch)
            return False
    assert verifies(outgoing, 0) and verifies(outgoing, 1)
    changed = outgoing.replace(b"Signed by Tern.", b"Signed by Tern!")
    assert not verifies(changed, 0) and not verifies(changed, 1)


def test_domain_check_reads_every_record_and_says_how_to_fix(tern_factory, tmp_path):
    server = tern_factory(start=False)  # example.test, with the DKIM key `domain add` made
    records_out = server.cli("domain", "records", DOMAIN).stdout
    dkim_line = next(line for line in records_out.splitlines() if "._domainkey." in line)
    dkim_name = dkim_line.split(". ")[0]
    dkim_value = "".join(re.findall(r'"([^"]*)"', dkim_line))
    chunks = [dkim_value[i:i + 255] for i in range(0, len(dkim_value), 255)]
    dns = DNSServer(str(tmp_path), mx=[(DOMAIN, "mx.example.test", 10)], hosts=[("mx.example.test", "127.0.0.1")], extra=[
        f"--txt-record={DOMAIN},v=spf1 mx -all",
        f"--txt-record={dkim_name},{','.join(chunks)}",
        f"--txt-record=_dmarc.{DOMAIN},v=DMARC1; p=none; rua=mailto:postmaster@{DOMAIN}",
    ])
    try:
        text = open(server.config).read().replace('[dns]\nnameservers = ["127.0.0.1:1"]\n', "")
        with open(server.config, "w") as f:
            f.write(text + f'[dns]\nnameservers = ["{dns.address}"]\n')
        out = server.cli("domain", "check", DOMAIN).stdout
        lines = out.strip().splitlines()
        assert len(lines) == 4 and all(line.startswith("ok") for line in lines), out
        assert "publishes this key" in out and "move to p=quarantine" in out
        # After a rotation the new key is not published yet: check says so, with the record.
        server.cli("domain", "dkim", "rotate", DOMAIN, "--selector", "next")
        result = server.cli("domain", "check", DOMAIN, check=False)
        assert result.returncode != 0
        assert re.search(r"missing DKIM next: no TXT record at next\._domainkey\.example\.test; publish: \"v=DKIM1; k=rsa; p=", result.stdout), result.stdout
        assert re.search(r"ok\s+DKIM \S+ \(retired\)", result.stdout), result.stdout
    finally:
        dns.stop()
