"""Interop fixtures: run the real `tern` binary on loopback ports and talk to it with real clients.

Every server here listens on 127.0.0.1 only, and is stopped by the PID we started.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TERN = os.environ.get("TERN_BIN", os.path.join(ROOT, ".build", "debug", "tern"))
DOMAIN = "example.test"
# The outside domain the HTTP tests send to: statically routed to the `sink` MX on loopback.
DEST = "dest.test"
USER = f"alice@{DOMAIN}"
PASSWORD = "s3cret-pass"


def listening(port):
    """Whether something listens on 127.0.0.1:port (or any address), by /proc/net/tcp."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for row in f:
                    local, state = row.split()[1], row.split()[3]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        return True
        except OSError:
            continue
    return False


def free_port():
    """A loopback port free for TCP and UDP, never handed out before in this run."""
    from peers import free_port_on
    return free_port_on("127.0.0.1")


class Tern:
    """One `tern serve` process with its own data directory and ports."""

    def __init__(self, directory, extra_config=""):
        self.directory = directory
        self.smtp_port = free_port()
        self.submission_port = free_port()
        self.submissions_port = free_port()
        self.http_port = free_port()
        self.config = os.path.join(directory, "tern.toml")
        self.log_path = os.path.join(directory, "serve.log")
        with open(self.config, "w") as f:
            f.write(
                f"""hostname = "mx.example.test"
data_dir = "{directory}/data"
[listen]
smtp = ["127.0.0.1:{self.smtp_port}"]
submission = ["127.0.0.1:{self.submission_port}"]
submissions = ["127.0.0.1:{self.submissions_port}"]
imap = []
pop3 = []
http = ["127.0.0.1:{self.http_port}"]
[dns]
nameservers = ["127.0.0.1:1"]
{extra_config}
"""
            )
        self.process = None

    def cli(self, *args, input=None, check=True):
        result = subprocess.run(
            [TERN, *args, "--config", self.config], input=input, capture_output=True, text=True, timeout=120
        )
        if check and result.returncode != 0:
            raise AssertionError(f"tern {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    def start(self):
        self.log = open(self.log_path, "a")
        self.process = subprocess.Popen([TERN, "serve", "--config", self.config], stdout=self.log, stderr=self.log)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"tern serve exited {self.process.returncode}: {open(self.log_path).read()}")
            # Every SMTP listener, not only the first: a port taken in between would otherwise
            # show up later as a confusing "connection refused". Read from /proc/net/tcp, so
            # the check opens no connection (that would count against connection limits).
            if all(listening(port) for port in (self.smtp_port, self.submission_port, self.submissions_port, self.http_port)):
                return self
            time.sleep(0.1)
        raise AssertionError("tern serve did not start listening")

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.log.close()
        self.process = None

    def kill9(self):
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.log.close()
        self.process = None

    def queue(self):
        return json.loads(self.cli("queue", "list", "--json").stdout)

    @property
    def http_url(self):
        return f"http://127.0.0.1:{self.http_port}"

    def dkim_records(self, domain=DOMAIN):
        """The DKIM TXT records `tern domain records` prints: {name: text}."""
        published = {}
        for line in self.cli("domain", "records", domain).stdout.splitlines():
            match = re.match(r"^(\S+\._domainkey\.\S+)\. 3600 IN TXT (.*?)(\s+;.*)?$", line)
            if match:
                published[match.group(1)] = "".join(re.findall(r'"([^"]*)"', match.group(2)))
        return published

    def content(self, queue_id):
        return self.cli("queue", "show", queue_id).stdout


def settled_queue(tern, timeout=10):
    """The queue once the scheduler has looked at every message: hosted-domain recipients go
    back to `queued` (local delivery comes with mailboxes) after a brief `delivering`."""
    deadline = time.time() + timeout
    while True:
        queue = tern.queue()
        if all(r["state"] != "delivering" for m in queue for r in m["recipients"]) or time.time() > deadline:
            return queue
        time.sleep(0.05)


@pytest.fixture
def tern_factory():
    made = []

    def make(extra_config="", start=True, users=True):
        directory = tempfile.mkdtemp(prefix="tern-interop-")
        server = Tern(directory, extra_config)
        if users:
            server.cli("domain", "add", DOMAIN)
            server.cli("user", "add", USER, "--password-stdin", input=PASSWORD + "\n")
            server.cli("user", "add", f"bob@{DOMAIN}", "--password-stdin", input="another-pass\n")
        if start:
            server.start()
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture
def tern(tern_factory):
    return tern_factory()


@pytest.fixture
def sink(request):
    """An aiosmtpd MX on loopback for DEST. A test module's `RCPT_RULE(address, attempt)`
    decides its RCPT replies (accept all without one)."""
    from peers import ScriptedMX

    mx = ScriptedMX("127.0.0.1", free_port(), rcpt=getattr(request.module, "RCPT_RULE", None))
    yield mx
    mx.stop()


def routed_tern(tern_factory, sink, extra="", start=True):
    """A Tern that delivers DEST to `sink` (retrying after 1 s), with an API key of USER in
    `.key`; `extra` is more configuration after the [delivery] table."""
    delivery = (f'[delivery]\nallow_private_destinations = true\nretry_schedule = ["1s"]\n'
                f'routes = {{ "{DEST}" = "127.0.0.1:{sink.controller.port}" }}\n')
    server = tern_factory(extra_config=delivery + extra, start=start)
    server.key = server.cli("key", "create", USER).stdout.strip()
    return server


@pytest.fixture
def api(tern_factory, sink):
    return routed_tern(tern_factory, sink)


class RawSMTP:
    """A line-level SMTP client for what libraries will not send: pipelining groups, BDAT,
    bare line endings."""

    def __init__(self, port, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def reply(self):
        """Reads one (possibly multi-line) reply; returns (code, text)."""
        lines = []
        while True:
            while b"\r\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError(f"closed after {lines!r}")
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            lines.append(line.decode())
            if len(line) < 4 or line[3:4] == b" ":
                return int(lines[-1][:3]), "\n".join(l[4:] for l in lines)

    def command(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self, timeout=5):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        self.sock.close()


# PostgreSQL (issue 17): the private cluster scripts/test starts (TERN_TEST_POSTGRES_URL), or
# one started here for the session; each test that asks gets a database of its own.
@pytest.fixture(scope="session")
def postgres_server():
    """The URL of a PostgreSQL server the tests may create databases on."""
    url = os.environ.get("TERN_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    directory = tempfile.mkdtemp(prefix="tern-interop-postgres-")
    script = os.path.join(ROOT, "scripts", "postgres")
    started = subprocess.run([script, "start", directory], capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([script, "stop", directory], timeout=120)


@pytest.fixture
def database(postgres_server):
    """A fresh database on the server, dropped afterwards; its URL."""
    name = f"tern_interop_{os.getpid()}_{int(time.time() * 1000)}"
    base, _, _ = postgres_server.rpartition("/")
    subprocess.run(["psql", postgres_server, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True, timeout=60)
    yield f"{base}/{name}"
    subprocess.run(["psql", postgres_server, "-qc", f"DROP DATABASE {name} WITH (FORCE)"], capture_output=True, timeout=60)


def postgres_config(url, node=None, pool_size=4):
    """The `[store]` tables of a node on `url`."""
    text = f'[store]\nbackend = "postgres"\n[store.postgres]\nurl = "{url}"\npool_size = {pool_size}\n'
    if node:
        text += f'node = "{node}"\n'
    return text
