"""SMTP AUTH on the submission listeners with real clients: smtplib, swaks, and an independent
SCRAM-SHA-256 client written from RFC 5802 with Python's hashlib/hmac."""
import base64
import hashlib
import hmac
import os
import smtplib
import ssl
import subprocess

import pytest
from conftest import DOMAIN, PASSWORD, USER, RawSMTP

TLS = ssl._create_unverified_context()


def submit(tern, port_name="submission"):
    s = smtplib.SMTP("127.0.0.1", tern.submission_port)
    s.ehlo()
    s.starttls(context=TLS)
    s.ehlo()
    return s


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_smtplib_auth_then_relay(tern, mechanism):
    with submit(tern) as s:
        assert mechanism in s.esmtp_features["auth"].split()
        s.user, s.password = USER, PASSWORD
        code, _ = s.auth(mechanism, getattr(s, f"auth_{mechanism.lower()}"))
        assert code == 235
        assert s.sendmail(USER, ["friend@elsewhere.test"], f"From: {USER}\r\nSubject: out\r\n\r\nhi\r\n") == {}
    queue = tern.queue()
    assert queue[0]["recipients"][0]["address"] == "friend@elsewhere.test"
    assert "with ESMTPSA" in tern.content(queue[0]["id"])


def test_implicit_tls_login(tern):
    with smtplib.SMTP_SSL("127.0.0.1", tern.submissions_port, context=TLS) as s:
        s.login(USER, PASSWORD)
        assert s.sendmail(USER, ["x@elsewhere.test"], f"From: {USER}\r\nSubject: 465\r\n\r\nhi\r\n") == {}


def test_wrong_password_and_unknown_user(tern):
    with submit(tern) as s:
        with pytest.raises(smtplib.SMTPAuthenticationError) as info:
            s.login(USER, "wrong")
        assert info.value.smtp_code == 535 and info.value.smtp_error.startswith(b"5.7.8")
        with pytest.raises(smtplib.SMTPAuthenticationError) as info:
            s.login(f"ghost@{DOMAIN}", "whatever")
        assert info.value.smtp_code == 535
        code, _ = s.mail(USER)
        assert code == 530


def test_auth_refused_before_starttls(tern):
    c = RawSMTP(tern.submission_port)
    c.reply()
    code, text = c.command("EHLO plain.test")
    assert "AUTH" not in text
    creds = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    code, text = c.command(f"AUTH PLAIN {creds}")
    assert code == 538 and text.startswith("5.7.11")


def test_auth_not_offered_on_mx(tern):
    with smtplib.SMTP("127.0.0.1", tern.smtp_port) as s:
        s.ehlo()
        s.starttls(context=TLS)
        s.ehlo()
        assert not s.has_extn("auth")


def test_cancel_and_bad_base64(tern):
    with submit(tern) as s:
        code, _ = s.docmd("AUTH", "PLAIN")
        assert code == 334
        code, text = s.docmd("*")
        assert code == 501 and text.startswith(b"5.0.0")
        code, text = s.docmd("AUTH", "PLAIN ***")
        assert code == 501 and text.startswith(b"5.5.2")


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_swaks_auth(tern_factory, mechanism):
    tern = tern_factory("[auth]\ncram_md5 = true" if mechanism == "CRAM-MD5" else "")
    result = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{tern.submission_port}", "--tls", "--auth", mechanism, "--auth-user", USER,
         "--auth-password", PASSWORD, "--from", USER, "--to", "someone@elsewhere.test"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "235 2.7.0" in result.stdout
    wrong = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{tern.submission_port}", "--tls", "--auth", mechanism, "--auth-user", USER,
         "--auth-password", "wrong", "--from", USER, "--to", "someone@elsewhere.test"],
        capture_output=True, text=True, timeout=60,
    )
    assert wrong.returncode != 0 and "535 5.7.8" in wrong.stdout


def scram_sha256(s, username, password):
    """RFC 5802 client over an smtplib connection; returns the final reply code."""
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = f"n={username},r={nonce}"
    code, text = s.docmd("AUTH", "SCRAM-SHA-256 " + base64.b64encode(("n,," + first_bare).encode()).decode())
    assert code == 334, text
    server_first = base64.b64decode(text).decode()
    fields = dict(item.split("=", 1) for item in server_first.split(","))
    assert fields["r"].startswith(nonce)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    without_proof = f"c=biws,r={fields['r']}"
    auth_message = f"{first_bare},{server_first},{without_proof}".encode()
    signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    final = f"{without_proof},p={base64.b64encode(proof).decode()}"
    code, text = s.docmd(base64.b64encode(final.encode()).decode())
    if code != 334:
        return code
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    expected = "v=" + base64.b64encode(hmac.new(server_key, auth_message, hashlib.sha256).digest()).decode()
    assert base64.b64decode(text).decode() == expected, "server signature does not verify"
    code, _ = s.docmd("")
    return code


def test_scram_sha256(tern):
    with submit(tern) as s:
        assert "SCRAM-SHA-256" in s.esmtp_features["auth"].split()
        assert scram_sha256(s, USER, PASSWORD) == 235
        assert s.mail(USER)[0] == 250


def test_scram_sha256_wrong_password(tern):
    with submit(tern) as s:
        assert scram_sha256(s, USER, "not the password") == 535
    with submit(tern) as s:
        assert scram_sha256(s, f"ghost@{DOMAIN}", "x") == 535


def test_api_key_as_password(tern):
    key = tern.cli("key", "create", USER, "--name", "ci").stdout.strip()
    assert key.startswith("tern_") and "\n" not in key
    for username in ("apikey", USER):
        with submit(tern) as s:
            s.login(username, key)
            assert s.sendmail(USER, ["x@elsewhere.test"], f"From: {USER}\r\nSubject: key\r\n\r\nhi\r\n") == {}
    # A key never works for another account's name.
    with submit(tern) as s:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.login(f"bob@{DOMAIN}", key)
    listed = __import__("json").loads(tern.cli("key", "list", USER, "--json").stdout)
    assert [k["name"] for k in listed] == ["ci"] and listed[0]["revoked_at"] is None
    assert key not in tern.cli("key", "list", USER).stdout
    tern.cli("key", "revoke", listed[0]["id"])
    with submit(tern) as s:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.login("apikey", key)
    assert tern.cli("key", "revoke", listed[0]["id"], check=False).returncode == 1


def test_sender_must_be_own_domain(tern):
    with submit(tern) as s:
        s.login(USER, PASSWORD)
        code, text = s.mail("ceo@bank.test")
        assert code == 553 and text.startswith(b"5.7.1")
        s.rset()
        # Envelope fine, header From forged: refused after DATA.
        with pytest.raises(smtplib.SMTPDataError) as info:
            s.sendmail(USER, ["x@elsewhere.test"], "From: ceo@bank.test\r\nSubject: forged\r\n\r\nhi\r\n")
        assert info.value.smtp_code == 550
        with pytest.raises(smtplib.SMTPDataError) as info:
            s.sendmail(USER, ["x@elsewhere.test"], f"From: {USER}\r\nFrom: {USER}\r\nSubject: two\r\n\r\nhi\r\n")
        assert info.value.smtp_code == 550 and info.value.smtp_error.startswith(b"5.6.0")
    tern.cli("user", "allow-domain", USER, "brand.test")
    with submit(tern) as s:
        s.login(USER, PASSWORD)
        assert s.sendmail("news@brand.test", ["x@elsewhere.test"], "From: News <news@brand.test>\r\n\r\nhi\r\n") == {}
    assert len(tern.queue()) == 1


def test_brute_force_throttled_per_address(tern_factory):
    tern = tern_factory("[limits]\nauth_failures_before_delay = 2\nauth_failures_before_block = 4\nauth_block_time = \"5m\"")
    import time

    def plain(s, user, password):
        return s.docmd("AUTH", "PLAIN " + base64.b64encode(f"\0{user}\0{password}".encode()).decode())

    timings = []
    s = submit(tern)
    # Unknown users and wrong passwords count alike and are answered alike.
    for user, password in [(USER, "guess-0"), (f"ghost@{DOMAIN}", "guess-1"), (USER, "guess-2")]:
        start = time.time()
        code, text = plain(s, user, password)
        assert (code, text[:5]) == (535, b"5.7.8")
        timings.append(time.time() - start)
    assert timings[2] > timings[0] + 0.8  # the third failure was held about a second
    # The fourth failure blocks the address: 535, then 421 and the connection closes.
    code, _ = plain(s, USER, "guess-3")
    assert code == 535
    code, text = s.getreply()
    assert code == 421
    s.close()
    # From the same address even the right password is refused now.
    c = RawSMTP(tern.submission_port)
    c.reply()
    c.command("EHLO again.test")
    c.command("STARTTLS")
    c.sock = TLS.wrap_socket(c.sock, server_hostname="mx")
    c.command("EHLO again.test")
    code, text = c.command("AUTH PLAIN " + base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode())
    assert code == 535
    code, text = c.reply()
    assert code == 421 and text.startswith("4.7.0")
    # Another address logs in at once.
    s = smtplib.SMTP("127.0.0.1", tern.submission_port, source_address=("127.0.0.2", 0))
    s.ehlo()
    s.starttls(context=TLS)
    s.ehlo()
    assert s.login(USER, PASSWORD)[0] == 235
    s.quit()


def test_connection_rate_limit(tern_factory):
    tern = tern_factory("[limits]\nmax_connection_rate_per_ip = 3")
    import time

    time.sleep(0.2)
    codes = []
    for _ in range(4):
        c = RawSMTP(tern.smtp_port)
        codes.append(c.reply()[0])
        c.close()
    assert 421 in codes
    assert codes[0] == 220


@pytest.mark.parametrize("mechanism", ["scram-sha-256", "plain", "login"])
def test_msmtp(tern, mechanism):
    """msmtp (GNU SASL) as an independent client, SCRAM-SHA-256 included."""
    import shutil

    if shutil.which("msmtp") is None:
        pytest.fail("msmtp is not installed (the test command installs it)")
    result = subprocess.run(
        ["msmtp", "--host=127.0.0.1", f"--port={tern.submission_port}", "--tls=on", "--tls-starttls=on",
         "--tls-certcheck=off", f"--auth={mechanism}", f"--user={USER}", f"--passwordeval=echo {PASSWORD}",
         f"--from={USER}", "friend@elsewhere.test"],
        input=f"From: {USER}\nTo: friend@elsewhere.test\nSubject: msmtp {mechanism}\n\nhello\n",
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    queue = tern.queue()
    assert len(queue) == 1 and queue[0]["recipients"][0]["address"] == "friend@elsewhere.test"


def test_cram_md5_only_when_enabled(tern_factory):
    off = tern_factory()
    with submit(off) as s:
        assert "CRAM-MD5" not in s.esmtp_features["auth"].split()
        code, text = s.docmd("AUTH", "CRAM-MD5")
        assert code == 504
    on = tern_factory("[auth]\ncram_md5 = true")
    with submit(on) as s:
        assert "CRAM-MD5" in s.esmtp_features["auth"].split()
        s.user, s.password = USER, PASSWORD
        code, _ = s.auth("CRAM-MD5", s.auth_cram_md5)
        assert code == 235
        assert s.sendmail(USER, ["x@elsewhere.test"], f"From: {USER}\r\n\r\ncram\r\n") == {}
    with submit(on) as s:
        s.user, s.password = USER, "wrong"
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.auth("CRAM-MD5", s.auth_cram_md5)
    shown = on.cli("queue", "show", on.queue()[0]["id"]).stdout
    assert f"authenticated_as: {USER}" in shown


def test_trusted_network_mail_is_attributed_to_an_account(tern_factory):
    tern = tern_factory(f'[relay]\ntrusted_networks = ["127.0.0.0/8"]\ntrusted_account = "{USER}"\n[plans.small]\ndaily_messages = 1')
    tern.cli("user", "set-plan", USER, "small")
    c = RawSMTP(tern.smtp_port)
    c.reply()
    c.command("EHLO app.test")
    c.send(f"MAIL FROM:<{USER}>\r\nRCPT TO:<a@elsewhere.test>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    c.send(f"From: {USER}\r\nSubject: app\r\n\r\nhi\r\n.\r\n")
    assert c.reply()[0] == 250
    c.command(f"MAIL FROM:<{USER}>")
    code, text = c.command("RCPT TO:<b@elsewhere.test>")
    assert code == 452 and text.startswith("4.7.1")
    assert f"authenticated_as: {USER}" in tern.cli("queue", "show", tern.queue()[0]["id"]).stdout
