"""Real peers for delivery tests, all on loopback: dnsmasq as the DNS server, a stock Postfix as
an MX with mailbox files, smtp-sink, and aiosmtpd servers scripted to answer 451/550."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time


# The services a private Postfix instance needs besides its smtpd listener (master.cf), shared
# by the interop peers and the benchmarks.
POSTFIX_SERVICES = """pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
virtual   unix  - n n - - virtual
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
tlsmgr    unix  - - n 1000? 1 tlsmgr
postlog   unix-dgram n - n - 1 postlogd
"""


_handed_out = set()


def free_port_on(*hosts):
    """A port free on every one of `hosts` (MX peers share `delivery.smtp_port`), for TCP and
    UDP both (dnsmasq listens on both), and never handed out before in this test run: a port
    just closed is often the next one the kernel picks, and two servers of one test must not
    be given the same."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind((hosts[0], 0))
            port = s.getsockname()[1]
        if port in _handed_out:
            continue
        ok = True
        for host in hosts:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, kind) as t:
                    try:
                        t.bind((host, port))
                    except OSError:
                        ok = False
        if ok:
            _handed_out.add(port)
            return port
    raise RuntimeError("no common free port")


def wait_port(host, port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listening on {host}:{port}")


class DNSServer:
    """dnsmasq answering only for the names given; every other name under .test is NXDOMAIN."""

    def __init__(self, directory, mx=(), hosts=(), extra=()):
        if shutil.which("dnsmasq") is None and not os.path.exists("/usr/sbin/dnsmasq"):
            raise AssertionError("dnsmasq is not installed (the test command installs dnsmasq-base)")
        self.port = free_port_on("127.0.0.1")
        args = [
            "dnsmasq", "--no-daemon", f"--port={self.port}", "--listen-address=127.0.0.1", "--bind-interfaces",
            "--no-resolv", "--no-hosts", "--user=root", f"--pid-file={directory}/dnsmasq.pid", "--local=/test/",
        ]
        args += [f"--mx-host={domain},{target},{pref}" for domain, target, pref in mx]
        args += [f"--host-record={name},{address}" for name, address in hosts]
        args += list(extra)
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.4)
        assert self.process.poll() is None, self.process.stderr.read()

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)


class PostfixMX:
    """A stock Postfix receiving for `domain` on host:port and writing each recipient's mail into
    a mailbox file (virtual delivery), with STARTTLS offered (a self-signed certificate)."""

    def __init__(self, host, port, domain, users, work=None, tls=True):
        self.host, self.port, self.domain = host, port, domain
        self.dir = work or tempfile.mkdtemp(prefix="tern-postfix-")
        os.chmod(self.dir, 0o755)  # Postfix's daemons run as postfix and nobody
        self.etc = os.path.join(self.dir, "etc")
        self.mail = os.path.join(self.dir, "mail")
        for d in (self.etc, self.mail, os.path.join(self.dir, "data"), os.path.join(self.dir, "queue")):
            os.makedirs(d, exist_ok=True)
        shutil.chown(os.path.join(self.dir, "data"), "postfix")
        shutil.chown(self.mail, "nobody", "nogroup")
        tls_lines = ""
        if tls:
            key, cert = os.path.join(self.etc, "key.pem"), os.path.join(self.etc, "cert.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                            "-days", "2", "-subj", f"/CN=mx.{domain}"], check=True, capture_output=True)
            tls_lines = f"smtpd_tls_security_level = may\nsmtpd_tls_cert_file = {cert}\nsmtpd_tls_key_file = {key}\n" \
                        "smtpd_tls_received_header = yes\n"
        mailbox_map = ", ".join(f"{u}@{domain}={u}" for u in users)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(f"""compatibility_level = 3.6
queue_directory = {self.dir}/queue
data_directory = {self.dir}/data
inet_interfaces = all
inet_protocols = ipv4
myhostname = mx.{domain}
mydestination =
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = {domain}
virtual_mailbox_base = {self.mail}
virtual_mailbox_maps = inline:{{ {mailbox_map} }}
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
smtpd_recipient_restrictions = reject_unauth_destination
alias_maps =
alias_database =
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
default_process_limit = 100
maillog_file_prefixes = {self.dir}
maillog_file = {self.dir}/maillog
{tls_lines}""")
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(f"{host}:{port} inet n - n - - smtpd\n" + POSTFIX_SERVICES)
        subprocess.run(["postfix", "-c", self.etc, "start"], check=True, capture_output=True)
        wait_port(host, port)

    def mailbox(self, user):
        path = os.path.join(self.mail, user)
        return open(path, encoding="utf-8", errors="replace").read() if os.path.exists(path) else ""

    def wait_mailbox(self, user, count=1, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.mailbox(user)
            if text.count("\nFrom ") + text.startswith("From ") >= count:
                return text
            time.sleep(0.1)
        raise AssertionError(f"{user} has not {count} message(s) after {timeout}s: {self.mailbox(user)[:500]}\n"
                             f"{open(os.path.join(self.dir, 'maillog')).read()[-2000:] if os.path.exists(os.path.join(self.dir, 'maillog')) else ''}")

    def stop(self):
        subprocess.run(["postfix", "-c", self.etc, "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class ScriptedMX:
    """aiosmtpd on host:port. `rcpt(address, attempt)` returns the RCPT reply ("250 OK" to take
    it); messages taken are kept in `messages` as (mail_from, [rcpts], bytes)."""

    def __init__(self, host, port, rcpt=None):
        from aiosmtpd.controller import Controller

        self.messages = []
        self.attempts = {}
        self.lock = threading.Lock()
        outer = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                with outer.lock:
                    outer.attempts[address] = outer.attempts.get(address, 0) + 1
                    n = outer.attempts[address]
                reply = rcpt(address, n) if rcpt else "250 OK"
                if reply.startswith("2"):
                    envelope.rcpt_tos.append(address)
                return reply

            async def handle_DATA(self, server, session, envelope):
                with outer.lock:
                    outer.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
                return "250 2.0.0 Message accepted"

        self.controller = Controller(Handler(), hostname=host, port=port)
        self.controller.start()

    def stop(self):
        self.controller.stop()
