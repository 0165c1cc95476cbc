"""Drives bench/smtp-accept-checks: the accept path with inbound SPF, DKIM and DMARC on, as a
receiving operator runs it. Runs inside the network namespace the wrapper made, where dnsmasq
on 127.0.0.1:53 is the only resolver (/etc/netns/NAME/resolv.conf), so nothing leaves loopback.

- Tern: default configuration, `[mail_auth] check_inbound = true`, resolver 127.0.0.1:53.
- Postfix: the stock Postfix of bench/smtp-accept (every message held) with the Debian tools
  that do the same checks: opendkim (verify) and opendmarc (reject on failure) as milters, and
  postfix-policyd-spf-python as a policy service. CPU counts Postfix's process tree (the
  spawned policy server included) plus the opendkim and opendmarc daemons.

Every message is a DKIM-signed (rsa-sha256, 2048-bit) copy of one 1 KiB message from
sender.example, whose SPF allows 127.0.0.1 and whose DMARC policy is p=reject: each server must
find spf=pass, dkim=pass and dmarc=pass (checked on one stored message of each) and store all.
"""
import argparse
import base64
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtp_accept import WORK, Postfix, Tern, free_port, proc_stat, rss_peak_kib, tree_cpu  # noqa: E402

# Debian's opendkim resolves through libunbound, which never asks a server on 127.0.0.0/8; so
# dnsmasq also listens on this address of the namespace's own dummy interface (the wrapper adds
# it; the namespace has no route anywhere else).
NAMESERVER = "192.0.2.53"
# The sender's domain is under .example, not .test: libunbound (opendkim's resolver) answers
# every .test name NXDOMAIN itself (RFC 6761 §6.2). Both are served only by the namespace's dnsmasq.
SENDER = "news@sender.example"
RCPT = "alice@example.test"
CHECKS = os.path.join(WORK, "checks")


def wait_listening(port, timeout=30):
    import socket
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def sh(*args, **kw):
    return subprocess.run(list(args), check=True, capture_output=True, text=True, **kw)


def make_key_and_message():
    """An RSA key published as s1._domainkey.sender.example, and one signed message file."""
    os.makedirs(CHECKS, exist_ok=True)
    key = os.path.join(CHECKS, "dkim.key")
    sh("openssl", "genrsa", "-out", key, "2048")
    der = subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-outform", "DER"], check=True, capture_output=True).stdout
    public = base64.b64encode(der).decode()
    body = ("This is a line of a message of about one kilobyte, sent for the benchmark.\r\n" * 12)
    message = (f"From: Sender News <{SENDER}>\r\nTo: <{RCPT}>\r\nSubject: inbound checks\r\n"
               f"Date: Sun, 29 Nov 2026 12:00:00 +0000\r\nMessage-ID: <bench@sender.example>\r\n\r\n{body}").encode()
    import dkim  # dkimpy, from interop/.venv

    signature = dkim.sign(message, b"s1", b"sender.example", open(key, "rb").read(),
                          include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    path = os.path.join(CHECKS, "message.eml")
    # smtp-source -F appends CRLF to each line itself.
    with open(path, "w") as f:
        f.write((signature + message).decode().replace("\r\n", "\n"))
    return public, path


class DNS:
    def __init__(self, public_key):
        chunks = [public_key[i:i + 200] for i in range(0, len(public_key), 200)]
        # No quotes: dnsmasq keeps them; commas separate the record's strings (RFC 7208 §3.3 /
        # RFC 6376 §3.6.2.2: a long TXT value is published as several strings).
        dkim_record = ",".join(["v=DKIM1; k=rsa; p=" + chunks[0]] + chunks[1:])
        args = ["dnsmasq", "--no-daemon", "--port=53", "--listen-address=127.0.0.1", f"--listen-address={NAMESERVER}",
                "--bind-interfaces", "--no-resolv",
                "--no-hosts", "--user=root", f"--pid-file={CHECKS}/dnsmasq.pid", "--local=/test/", "--local=/example/", "--local-ttl=300",
                "--txt-record=sender.example,v=spf1 ip4:127.0.0.0/8 -all",
                f"--txt-record=s1._domainkey.sender.example,{dkim_record}",
                "--txt-record=_dmarc.sender.example,v=DMARC1; p=reject",
                "--mx-host=sender.example,mx.sender.example,10", "--host-record=mx.sender.example,127.0.0.1",
                "--host-record=localhost.test,127.0.0.1"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.4)
        if self.proc.poll() is not None:
            raise RuntimeError(f"dnsmasq: {self.proc.stderr.read()}")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class CheckingTern(Tern):
    name = "tern"
    check_inbound = "true"
    nameserver = "127.0.0.1:53"

    def verdict(self):
        import json
        queue = json.loads(sh(self.binary, "queue", "list", "--json", "--config", self.config).stdout)
        return sh(self.binary, "queue", "show", queue[0]["id"], "--config", self.config).stdout


class CheckingPostfix(Postfix):
    """bench/smtp-accept's Postfix with opendkim, opendmarc and policyd-spf."""
    name = "postfix"

    def setup(self):
        super().setup()
        self.dkim_port, self.dmarc_port = free_port(), free_port()
        ignore = os.path.join(self.dir, "nobody-internal")
        with open(ignore, "w") as f:
            f.write("192.0.2.254\n")  # not the client: 127.0.0.1 must be checked, not trusted
        with open(os.path.join(self.dir, "opendkim.conf"), "w") as f:
            f.write(f"Mode v\nSocket inet:{self.dkim_port}@127.0.0.1\nAuthservID postfix.bench.test\nSyslog no\n"
                    f"InternalHosts {ignore}\nNameservers {NAMESERVER}\n")
        with open(os.path.join(self.dir, "opendmarc.conf"), "w") as f:
            f.write(f"Socket inet:{self.dmarc_port}@127.0.0.1\nAuthservID postfix.bench.test\nSyslog false\n"
                    f"RejectFailures true\nSPFSelfValidate true\nIgnoreHosts {ignore}\nTrustedAuthservIDs postfix.bench.test\n"
                    f"PublicSuffixList /usr/share/publicsuffix/public_suffix_list.dat\n")
        main = os.path.join(self.etc, "main.cf")
        text = open(main).read()
        text = text.replace(
            "smtpd_recipient_restrictions = check_client_access static:HOLD, permit_mynetworks, reject_unauth_destination",
            "smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service unix:private/policyd-spf,\n"
            "    check_client_access static:HOLD")
        text += (f"policyd-spf_time_limit = 3600\nsmtpd_milters = inet:127.0.0.1:{self.dkim_port}, inet:127.0.0.1:{self.dmarc_port}\n"
                 "milter_default_action = tempfail\n")
        with open(main, "w") as f:
            f.write(text)
        # policyd-spf skips 127.0.0.0/8 by default; the benchmark's client is there.
        spf_conf = os.path.join(self.dir, "policyd-spf.conf")
        with open(spf_conf, "w") as f:
            f.write("debugLevel = 0\nTestOnly = 1\nHELO_reject = Fail\nMail_From_reject = Fail\nskip_addresses = 192.0.2.254/32\n")
        os.chmod(spf_conf, 0o644)
        with open(os.path.join(self.etc, "master.cf"), "a") as f:
            f.write(f"policyd-spf unix - n n - 0 spawn user=nobody argv=/usr/bin/policyd-spf {spf_conf}\n")

    def start(self):
        self.milters = [
            subprocess.Popen(["opendkim", "-f", "-x", os.path.join(self.dir, "opendkim.conf")], stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(self.dir, "opendkim.log"), "w")),
            subprocess.Popen(["opendmarc", "-f", "-c", os.path.join(self.dir, "opendmarc.conf")], stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(self.dir, "opendmarc.log"), "w")),
        ]
        wait_listening(self.dkim_port)
        wait_listening(self.dmarc_port)
        return super().start()

    def stop(self):
        super().stop()
        for m in getattr(self, "milters", []):
            m.terminate()
            m.wait(timeout=10)

    def extra_cpu(self):
        total = 0.0
        for m in self.milters:
            s = proc_stat(m.pid)
            if s:
                total += s[0] + s[1]
        return total

    def verdict(self):
        for root, _, files in os.walk(os.path.join(self.dir, "queue", "hold")):
            for name in files:
                return sh("postcat", "-c", self.etc, "-q", name).stdout
        return ""


def run_source(port, sessions, messages, message_file):
    start = time.time()
    result = subprocess.run(["smtp-source", "-s", str(sessions), "-m", str(messages), "-F", message_file, "-M", "localhost.test",
                             "-f", SENDER, "-t", RCPT, "-d", f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        print(f"smtp-source failed: {result.stderr}", file=sys.stderr)
    return time.time() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tern", required=True)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.makedirs(WORK, exist_ok=True)
    public, message_file = make_key_and_message()
    dns = DNS(public)
    servers = [CheckingTern(args.tern), CheckingPostfix()]
    samples = {s.name: [] for s in servers}
    try:
        for s in servers:
            s.setup()
            s.start()
        for repeat in range(args.rounds):
            for s in (servers if repeat % 2 == 0 else list(reversed(servers))):
                s.clear()
                pid = s.proc.pid if s.name == "tern" else int(open(os.path.join(s.dir, "queue", "pid", "master.pid")).read().strip())
                before = tree_cpu(pid) + (s.extra_cpu() if s.name == "postfix" else 0)
                elapsed = run_source(s.port, args.sessions, args.messages, message_file)
                if s.name == "postfix":
                    time.sleep(0.5)
                cpu = tree_cpu(pid) + (s.extra_cpu() if s.name == "postfix" else 0) - before
                stored = s.count()
                if s.name == "postfix":
                    for m in s.milters:
                        if m.poll() is not None:
                            raise RuntimeError(f"{m.args[0]} exited with {m.returncode}; see {s.dir}/{m.args[0]}.log")
                if stored != args.messages:
                    raise RuntimeError(f"{s.name} stored {stored} of {args.messages}")
                verdict = s.verdict()
                for word in ("spf=pass", "dkim=pass", "dmarc=pass"):
                    if word not in verdict and not (s.name == "postfix" and word == "spf=pass" and "Received-SPF: Pass" in verdict):
                        raise RuntimeError(f"{s.name}: no {word} on a stored message:\n{verdict[:3000]}")
                samples[s.name].append((args.messages / elapsed, cpu * 1000 / args.messages))
                print(f"  {s.name:8} {args.messages / elapsed:7.0f} msg/s  {cpu * 1000 / args.messages:6.3f} ms CPU/msg", flush=True)
        rss = rss_peak_kib(servers[0].proc.pid)
    finally:
        for s in servers:
            try:
                s.stop()
            except Exception as e:  # noqa: BLE001 - keep stopping the others
                print(f"stopping {s.name}: {e}", file=sys.stderr)
        dns.stop()
    med = {name: (sorted(v[0] for v in values)[len(values) // 2], sorted(v[1] for v in values)[len(values) // 2])
           for name, values in samples.items()}
    t, p = med["tern"], med["postfix"]
    table = ("| size | sessions | Tern msg/s | Tern CPU ms/msg | Postfix+milters msg/s | Postfix+milters CPU ms/msg | Tern/Postfix | Tern peak RSS |\n"
             "|---|---|---|---|---|---|---|---|\n"
             f"| 1 KiB, DKIM-signed | {args.sessions} | {t[0]:.0f} | {t[1]:.3f} | {p[0]:.0f} | {p[1]:.3f} | {t[0] / p[0]:.2f}× | {rss // 1024} MiB |")
    with open(os.path.join(WORK, "checks-results.md"), "w") as f:
        f.write(table + "\n")
    print()
    print(table)


if __name__ == "__main__":
    main()
