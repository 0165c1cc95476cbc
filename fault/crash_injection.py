"""Crash injection (issue 12 fault suite): clients send mail at concurrency 20 while the server
is killed with SIGKILL at random moments and restarted; at the end, every message a client saw
acknowledged (250 after DATA) must be in the queue and, once delivery settles, in its mailbox
exactly once. Prints its figures; exits 1 on any loss.

    python3 fault/crash_injection.py [--kills N] [--concurrency C] [--seed S]

Loopback only; the server's DNS points at a dead port (inbound checks then record temperror).
"""
import argparse
import json
import os
import random
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOMAIN = "example.test"
USERS = [f"alice@{DOMAIN}", f"bob@{DOMAIN}"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    with open("/proc/net/tcp") as f:
        return any(line.split()[1].endswith(":%04X" % port) and line.split()[3] == "0A" for line in f.readlines()[1:])


class Server:
    def __init__(self, binary, directory):
        self.binary, self.directory = binary, directory
        self.port = free_port()
        self.config = os.path.join(directory, "tern.toml")
        with open(self.config, "w") as f:
            f.write(f'hostname = "mx.example.test"\ndata_dir = "{directory}/data"\n[listen]\nsmtp = ["127.0.0.1:{self.port}"]\n'
                    'submission = []\nsubmissions = []\nimap = []\npop3 = []\nhttp = []\n[dns]\nnameservers = ["127.0.0.1:1"]\n'
                    '[limits]\nmax_connections_per_ip = 1000\n')
        self.process = None
        self.log = open(os.path.join(directory, "serve.log"), "ab")

    def cli(self, *args, stdin=None):
        return subprocess.run([self.binary, *args, "--config", self.config], input=stdin, capture_output=True, text=True, timeout=120, check=True)

    def start(self):
        self.process = subprocess.Popen([self.binary, "serve", "--config", self.config], stdout=self.log, stderr=self.log)
        deadline = time.time() + 60
        while not listening(self.port):
            if self.process.poll() is not None or time.time() > deadline:
                raise RuntimeError("tern serve did not start")
            time.sleep(0.02)

    def kill(self):
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


def run(binary, kills=10, concurrency=20, seed=None, verbose=True):
    rng = random.Random(seed)
    directory = tempfile.mkdtemp(prefix="tern-crash-")
    server = Server(binary, directory)
    server.cli("domain", "add", DOMAIN)
    for user in USERS:
        server.cli("user", "add", user, "--password-stdin", stdin="a-long-password\n")
    acknowledged = {}  # Message-ID -> recipient
    attempted = [0]
    lock = threading.Lock()
    stop = threading.Event()

    def client(n):
        i = 0
        while not stop.is_set():
            i += 1
            message_id = f"<c{n}-{i}@crash.test>"
            recipient = USERS[i % len(USERS)]
            with lock:
                attempted[0] += 1
            try:
                with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as s:
                    s.ehlo("crash.test")
                    s.mail(f"sender{n}@remote.test")
                    s.rcpt(recipient)
                    code, _ = s.data(f"From: sender{n}@remote.test\r\nTo: {recipient}\r\nMessage-ID: {message_id}\r\n"
                                     f"Subject: crash {n} {i}\r\n\r\nbody {n} {i}\r\n")
                if code == 250:
                    with lock:
                        acknowledged[message_id] = recipient
            except (OSError, smtplib.SMTPException):
                time.sleep(0.02)  # the server is down or going down: try again

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(concurrency)]
    server.start()
    for t in threads:
        t.start()
    started = time.time()
    for k in range(kills):
        time.sleep(rng.uniform(0.2, 1.2))
        server.kill()
        server.start()
        if verbose and (k + 1) % 10 == 0:
            print(f"  {k + 1} kills, {len(acknowledged)} acknowledged", flush=True)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    # Let delivery settle: every stored message delivered into its mailbox.
    deadline = time.time() + 120
    while True:
        queue = json.loads(server.cli("queue", "list", "--json").stdout)
        if all(r["state"] in ("delivered", "bounced") for m in queue for r in m["recipients"]) or time.time() > deadline:
            break
        time.sleep(0.5)
    server.stop()
    stored = {}
    for m in queue:
        stored[m.get("message_id")] = stored.get(m.get("message_id"), 0) + 1
    in_mailbox = {}
    for user in USERS:
        for entry in json.loads(server.cli("mailbox", "list", user, "--folder", "INBOX", "--json").stdout):
            in_mailbox[entry["message_id"]] = in_mailbox.get(entry["message_id"], 0) + 1
    lost = [m for m in acknowledged if m not in stored]
    undelivered = [m for m in acknowledged if in_mailbox.get(m, 0) == 0]
    duplicates_queue = sum(c - 1 for c in stored.values() if c > 1)
    duplicates_mailbox = sum(c - 1 for c in in_mailbox.values() if c > 1)
    unacknowledged_stored = len([m for m in stored if m not in acknowledged])
    figures = {
        "kills": kills, "seconds": round(time.time() - started, 1), "attempted": attempted[0], "acknowledged": len(acknowledged),
        "stored": len(queue), "lost": len(lost), "undelivered": len(undelivered), "duplicates_in_queue": duplicates_queue,
        "duplicates_in_mailboxes": duplicates_mailbox, "stored_without_acknowledgement": unacknowledged_stored,
    }
    if verbose:
        print(json.dumps(figures, indent=2))
        if lost:
            print("lost:", lost[:20])
    if not lost and not undelivered:
        shutil.rmtree(directory, ignore_errors=True)
    elif verbose:
        print("kept", directory)
    return figures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--binary", default=os.environ.get("TERN_BIN", os.path.join(ROOT, ".build", "debug", "tern")))
    args = parser.parse_args()
    figures = run(args.binary, args.kills, args.concurrency, args.seed)
    sys.exit(1 if figures["lost"] or figures["undelivered"] else 0)


if __name__ == "__main__":
    main()
