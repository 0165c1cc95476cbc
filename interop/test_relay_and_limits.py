"""Never an open relay; connection limits; configuration errors."""
import socket
import subprocess

import pytest
from conftest import DOMAIN, TERN, RawSMTP, free_port

# The address forms of nmap's smtp-open-relay script, with this server's names filled in.
RELAY_FORMS = [
    ("relaytest@nmap.scanme.org", "<relaytest@nmap.scanme.org>"),
    ("", "<relaytest@nmap.scanme.org>"),
    ("relaytest@" + DOMAIN, "<relaytest@nmap.scanme.org>"),
    ("relaytest@[127.0.0.1]", "<relaytest@nmap.scanme.org>"),
    ("relaytest@[127.0.0.1]", "<relaytest%nmap.scanme.org@[127.0.0.1]>"),
    ("relaytest@[127.0.0.1]", "<relaytest%nmap.scanme.org@" + DOMAIN + ">"),
    ("relaytest@[127.0.0.1]", '<"relaytest@nmap.scanme.org">'),
    ("relaytest@[127.0.0.1]", '<"relaytest%nmap.scanme.org">'),
    ("relaytest@[127.0.0.1]", "<relaytest@nmap.scanme.org@[127.0.0.1]>"),
    ("relaytest@[127.0.0.1]", '<"relaytest@nmap.scanme.org"@[127.0.0.1]>'),
    ("relaytest@[127.0.0.1]", "<relaytest@nmap.scanme.org@" + DOMAIN + ">"),
    ("relaytest@[127.0.0.1]", "<@[127.0.0.1]:relaytest@nmap.scanme.org>"),
    ("relaytest@[127.0.0.1]", "<@" + DOMAIN + ":relaytest@nmap.scanme.org>"),
    ("relaytest@[127.0.0.1]", "<nmap.scanme.org!relaytest>"),
    ("relaytest@[127.0.0.1]", "<nmap.scanme.org!relaytest@[127.0.0.1]>"),
    ("relaytest@[127.0.0.1]", "<nmap.scanme.org!relaytest@" + DOMAIN + ">"),
]


@pytest.mark.parametrize("sender,recipient", RELAY_FORMS)
def test_open_relay_forms_refused(tern, sender, recipient):
    c = RawSMTP(tern.smtp_port)
    c.reply()
    c.command("EHLO relaytest.test")
    code, _ = c.command(f"MAIL FROM:<{sender}>")
    assert code == 250
    code, text = c.command(f"RCPT TO:{recipient}")
    assert code >= 500, f"{recipient} accepted: {code} {text}"
    code, _ = c.command("DATA")
    assert code == 503
    assert tern.queue() == []


def test_trusted_network_may_relay(tern_factory):
    tern = tern_factory('[relay]\ntrusted_networks = ["127.0.0.0/8"]')
    c = RawSMTP(tern.smtp_port)
    c.reply()
    c.command("EHLO trusted.test")
    c.command("MAIL FROM:<app@" + DOMAIN + ">")
    assert c.command("RCPT TO:<someone@elsewhere.test>")[0] == 250
    # A hosted domain's unknown user is still refused.
    assert c.command(f"RCPT TO:<nobody@{DOMAIN}>")[0] == 550


def test_per_ip_connection_limit(tern_factory):
    import time

    tern = tern_factory("[limits]\nmax_connections_per_ip = 3")
    # The start-up probe's slot is released when the server sees it close: wait for that.
    time.sleep(0.5)
    clients = [RawSMTP(tern.smtp_port) for _ in range(3)]
    for c in clients:
        assert c.reply()[0] == 220
    extra = RawSMTP(tern.smtp_port)
    code, text = extra.reply()
    assert code == 421 and text.startswith("4.7.0")
    assert extra.closed()
    clients[0].command("QUIT")
    clients[0].close()
    for _ in range(50):
        again = RawSMTP(tern.smtp_port)
        code, _ = again.reply()
        again.close()
        if code == 220:
            break
        time.sleep(0.1)
    assert code == 220


def test_too_many_errors_disconnects(tern):
    c = RawSMTP(tern.smtp_port)
    c.reply()
    codes = [c.command("BOGUS")[0] for _ in range(19)]
    assert set(codes) == {500}
    c.send("BOGUS\r\n")
    assert c.reply()[0] == 500
    assert c.reply()[0] == 421
    assert c.closed()


def run_tern(*args, config_text=None, tmp_path=None):
    cmd = [TERN, *args]
    if config_text is not None:
        path = tmp_path / "tern.toml"
        path.write_text(config_text)
        cmd += ["--config", str(path)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=tmp_path)


def test_unknown_key_exits_2_naming_it(tmp_path):
    result = run_tern("serve", config_text="[limits]\nmax_recipents = 5\n", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "limits.max_recipents" in result.stderr
    assert "Traceback" not in result.stderr and "Fatal" not in result.stderr


def test_bad_value_exits_2(tmp_path):
    result = run_tern("serve", config_text='[listen]\nsmtp = ["127.0.0.1:99999"]\n', tmp_path=tmp_path)
    assert result.returncode == 2
    assert "listen.smtp" in result.stderr


def test_port_in_use_exits_2_naming_address(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = (
            f'data_dir = "{tmp_path}/data"\n[listen]\nsmtp = ["127.0.0.1:{port}"]\n'
            f'submission = ["127.0.0.1:{free_port()}"]\nsubmissions = []\n'
        )
        result = run_tern("serve", config_text=config, tmp_path=tmp_path)
    assert result.returncode == 2
    assert f"127.0.0.1:{port}" in result.stderr and "listen.smtp" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_config_file_exits_2(tmp_path):
    result = run_tern("queue", "list", "--config", str(tmp_path / "absent.toml"), tmp_path=tmp_path)
    assert result.returncode == 2


def test_bad_usage_exits_2(tmp_path):
    assert run_tern("domain", "add", tmp_path=tmp_path).returncode == 2
    assert run_tern("nonsense", tmp_path=tmp_path).returncode == 2


def test_low_disk_refuses_mail_with_452(tern_factory):
    # More free space required than any disk has: MAIL is refused before any data is sent.
    tern = tern_factory("[limits]\nmin_free_disk = 9223372036854775807")
    c = RawSMTP(tern.smtp_port)
    c.reply()
    c.command("EHLO disk.test")
    code, text = c.command("MAIL FROM:<a@remote.test>")
    assert code == 452 and text.startswith("4.3.1")
