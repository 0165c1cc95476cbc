"""swaks, curl and Postfix's smtp-source against Tern."""
import os
import shutil
import subprocess
import tempfile

import pytest
from conftest import DOMAIN, USER


def need(tool):
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed (the test command installs it)")


def test_swaks_plain(tern):
    need("swaks")
    result = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{tern.smtp_port}", "--from", "s@remote.test", "--to", USER,
         "--header", "Subject: swaks plain", "--body", "hello from swaks"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "250 2.0.0 OK queued as" in result.stdout
    queue = tern.queue()
    assert len(queue) == 1 and queue[0]["recipients"][0]["address"] == USER


def test_swaks_starttls_and_pipelining(tern):
    need("swaks")
    result = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{tern.smtp_port}", "--from", "s@remote.test", "--to", USER, "--tls",
         "--pipeline", "--header", "Subject: swaks tls"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TLS started" in result.stdout
    assert "with ESMTPS" in tern.content(tern.queue()[0]["id"])


def test_swaks_relay_refused(tern):
    need("swaks")
    result = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{tern.smtp_port}", "--from", "s@remote.test", "--to", "v@victim.test"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "550 5.7.1 Relay access denied" in result.stdout
    assert tern.queue() == []


def test_curl_smtp_upload(tern):
    need("curl")
    with tempfile.NamedTemporaryFile("w", suffix=".eml", delete=False) as f:
        f.write("From: c@remote.test\r\nTo: alice@example.test\r\nSubject: curl\r\nMessage-ID: <curl@remote.test>\r\n\r\nvia curl\r\n")
    try:
        result = subprocess.run(
            ["curl", "-sS", f"smtp://127.0.0.1:{tern.smtp_port}", "--mail-from", "c@remote.test", "--mail-rcpt", USER,
             "--upload-file", f.name],
            capture_output=True, text=True, timeout=60,
        )
    finally:
        os.unlink(f.name)
    assert result.returncode == 0, result.stderr
    assert tern.queue()[0]["message_id"] == "<curl@remote.test>"


def test_curl_starttls_required(tern):
    need("curl")
    with tempfile.NamedTemporaryFile("w", suffix=".eml", delete=False) as f:
        f.write("Subject: curl tls\r\n\r\nvia curl over tls\r\n")
    try:
        result = subprocess.run(
            ["curl", "-sS", "--ssl-reqd", "-k", f"smtp://127.0.0.1:{tern.smtp_port}", "--mail-from", "c@remote.test",
             "--mail-rcpt", USER, "--upload-file", f.name],
            capture_output=True, text=True, timeout=60,
        )
    finally:
        os.unlink(f.name)
    assert result.returncode == 0, result.stderr
    assert "with ESMTPS" in tern.content(tern.queue()[0]["id"])


def smtp_source():
    for path in ("/usr/sbin/smtp-source", shutil.which("smtp-source") or ""):
        if path and os.path.exists(path):
            return path
    pytest.fail("smtp-source (Debian postfix) is not installed")


def test_smtp_source_2000_messages_concurrency_20(tern):
    """2,000 messages over 20 sessions: every one listed afterwards, none lost, none duplicated."""
    result = subprocess.run(
        [smtp_source(), "-s", "20", "-m", "2000", "-l", "1024", "-f", "load@remote.test", "-t", USER, "-d",
         f"127.0.0.1:{tern.smtp_port}"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    queue = tern.queue()
    assert len(queue) == 2000
    assert len({m["id"] for m in queue}) == 2000
    assert all(m["recipients"][0]["address"] == USER for m in queue)
    assert all(m["from"] == "load@remote.test" for m in queue)
