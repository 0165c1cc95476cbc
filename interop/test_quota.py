"""Plans and quotas: the message past the limit is refused with 452 4.7.1 naming the limit and
when it resets; refused mail is not counted."""
import json
import smtplib
import ssl
import time

import pytest
from conftest import DOMAIN, PASSWORD, USER

TLS = ssl._create_unverified_context()


def login(tern):
    s = smtplib.SMTP("127.0.0.1", tern.submission_port)
    s.ehlo()
    s.starttls(context=TLS)
    s.ehlo()
    s.login(USER, PASSWORD)
    return s


def message(n):
    return f"From: {USER}\r\nSubject: quota {n}\r\n\r\nbody {n}\r\n"


def tomorrow_midnight():
    now = int(time.time())
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - now % 86400 + 86400))


def test_small_plan_counts_recipients(tern_factory):
    tern = tern_factory("[plans.small]\ndaily_messages = 7\nmax_recipients_per_message = 3")
    tern.cli("user", "set-plan", USER, "small")
    with login(tern) as s:
        # Three recipients count three.
        assert s.sendmail(USER, ["a@far.test", "b@far.test", "c@far.test"], message(1)) == {}
        # A fourth recipient in one message passes the per-message cap.
        s.mail(USER)
        for r in ("a@far.test", "b@far.test", "c@far.test"):
            assert s.rcpt(r)[0] == 250
        code, text = s.rcpt("d@far.test")
        assert code == 452 and text.startswith(b"4.5.3")
        s.rset()
        assert s.sendmail(USER, ["a@far.test", "b@far.test"], message(2)) == {}  # 5 of 7
        assert s.sendmail(USER, ["c@far.test", "d@far.test"], message(3)) == {}  # 7 of 7
        s.mail(USER)
        code, text = s.rcpt("z@far.test")
        assert code == 452 and text.startswith(b"4.7.1")
        assert b"daily limit of 7" in text and tomorrow_midnight().encode() in text
    shown = json.loads(tern.cli("user", "show", USER, "--json").stdout)
    assert shown["plan"] == "small"
    assert shown["limits"][0] == {"name": "daily", "used": 7, "limit": 7, "resets_at": tomorrow_midnight()}


def test_free_plan_full_size_100_then_refused(tern):
    """The default free plan: 100 messages a day; the 101st is refused, and nothing refused counts."""
    with login(tern) as s:
        for n in range(100):
            assert s.sendmail(USER, [f"r{n}@far.test"], message(n)) == {}
        with pytest.raises(smtplib.SMTPRecipientsRefused) as info:
            s.sendmail(USER, ["r100@far.test"], message(100))
        code, text = info.value.recipients["r100@far.test"]
        assert code == 452 and text.startswith(b"4.7.1") and b"daily limit of 100" in text
    assert len(tern.queue()) == 100
    shown = tern.cli("user", "show", USER).stdout
    assert "daily: 100 of 100" in shown


def test_refused_mail_is_not_counted(tern_factory):
    tern = tern_factory("[plans.small]\ndaily_messages = 2")
    tern.cli("user", "set-plan", USER, "small")
    with login(tern) as s:
        with pytest.raises(smtplib.SMTPDataError):
            s.sendmail(USER, ["a@far.test"], "From: ceo@bank.test\r\n\r\nforged\r\n")
        assert s.sendmail(USER, ["a@far.test"], message(1)) == {}
        assert s.sendmail(USER, ["b@far.test"], message(2)) == {}
    assert "daily: 2 of 2" in tern.cli("user", "show", USER).stdout


def test_set_plan_validates(tern):
    assert tern.cli("user", "set-plan", USER, "platinum", check=False).returncode == 2
    assert tern.cli("user", "set-plan", f"ghost@{DOMAIN}", "free", check=False).returncode == 1
