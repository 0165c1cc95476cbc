"""Tern's own DNS stub resolver against a real DNS server (dnsmasq) on loopback: UDP answers,
TCP after truncation, REFUSED and unreachable servers. No test reaches the system resolver."""
import os
import shutil
import signal
import subprocess
import time

import pytest
from conftest import TERN, free_port


@pytest.fixture
def dnsmasq(tmp_path):
    if shutil.which("dnsmasq") is None:
        pytest.fail("dnsmasq is not installed (the test command installs dnsmasq-base)")
    port = free_port()
    # An SPF record of 8 strings of 200 octets: the answer exceeds the 1232-octet EDNS0 size we
    # advertise, so it comes truncated over UDP and whole over TCP.
    big_spf = "v=spf1 " + " ".join(f"include:{'x' * 180}{i}.example.test" for i in range(8)) + " -all"
    chunks = [big_spf[i:i + 200] for i in range(0, len(big_spf), 200)]
    args = [
        "dnsmasq", "--no-daemon", f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
        "--no-hosts", "--user=root", f"--pid-file={tmp_path}/dnsmasq.pid",
        "--mx-host=example.test,mx.example.test,10",
        "--txt-record=example.test,v=spf1 mx -all",
        "--txt-record=_dmarc.example.test,v=DMARC1; p=none",
        "--mx-host=big.test,mx.example.test,10",
        "--txt-record=big.test," + ",".join(chunks),
        "--txt-record=_dmarc.big.test,v=DMARC1; p=reject",
    ]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)
    assert process.poll() is None, process.stderr.read()
    yield port, big_spf
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)


def check(tmp_path, domain, nameservers):
    config = tmp_path / "tern.toml"
    config.write_text(f'hostname = "mx.example.test"\ndata_dir = "{tmp_path}/data"\n[dns]\nnameservers = {nameservers}\n')
    return subprocess.run([TERN, "domain", "check", domain, "--config", str(config)], capture_output=True, text=True, timeout=60)


def test_domain_check_over_udp(dnsmasq, tmp_path):
    port, _ = dnsmasq
    result = check(tmp_path, "example.test", f'["127.0.0.1:{port}"]')
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok      MX: 10 mx.example.test" in result.stdout
    assert "ok      SPF: v=spf1 mx -all" in result.stdout
    assert "ok      DMARC: v=DMARC1; p=none" in result.stdout


def test_truncated_answer_is_fetched_over_tcp(dnsmasq, tmp_path):
    port, big_spf = dnsmasq
    result = check(tmp_path, "big.test", f'["127.0.0.1:{port}"]')
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ok      SPF: {big_spf}" in result.stdout


def test_missing_records_and_refused(dnsmasq, tmp_path):
    port, _ = dnsmasq
    result = check(tmp_path, "absent.test", f'["127.0.0.1:{port}"]')
    assert result.returncode == 1
    assert result.stdout.count("missing") == 3


def test_unreachable_nameserver_then_working_one(dnsmasq, tmp_path):
    port, _ = dnsmasq
    dead = free_port()  # nothing listens there
    start = time.time()
    result = check(tmp_path, "example.test", f'["127.0.0.1:{dead}", "127.0.0.1:{port}"]')
    assert result.returncode == 0, result.stdout + result.stderr
    assert time.time() - start < 30
