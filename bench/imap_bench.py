"""Drives bench/imap: see that script. Prints a table and writes bench/.work/imap-results.md."""
import argparse
import imaplib
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtp_accept import free_port, tree_cpu  # noqa: E402

WORK = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".work", "imap")
PASSWORD = "bench-password-1"


def message(i):
    body = "".join(f"Line {n} of message {i}, with some words to search for: lunch invoice report.\r\n" for n in range(40))
    return (f"From: Sender {i % 7} <sender{i % 7}@remote.test>\r\nTo: user@example.test\r\nSubject: Message {i} about "
            f"{['lunch', 'invoice', 'travel', 'report'][i % 4]}\r\nDate: Tue, 01 Jul 2025 10:52:37 +0200\r\n"
            f"Message-ID: <{i}@remote.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{body}").encode()


def wait_imap(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            imaplib.IMAP4("127.0.0.1", port, timeout=2).logout()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no IMAP server on {port}")


class Tern:
    name = "Tern"

    def __init__(self, binary, users):
        self.binary, self.users = binary, users
        self.dir = os.path.join(WORK, "tern")
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.port = free_port()
        self.config = os.path.join(self.dir, "tern.toml")
        with open(self.config, "w") as f:
            f.write(f'hostname = "bench.example.test"\ndata_dir = "{self.dir}/data"\n[listen]\nsmtp = []\nsubmission = []\n'
                    f'submissions = []\npop3 = []\nhttp = []\nimap = ["127.0.0.1:{self.port}"]\n[imap]\nallow_plaintext = true\n'
                    f'[limits]\nmax_connections_per_ip = 1000\nauth_failures_before_delay = 1000\n[dns]\nnameservers = ["127.0.0.1:1"]\n')
        subprocess.run([binary, "domain", "add", "example.test", "--config", self.config], check=True, capture_output=True)
        for user in users:
            subprocess.run([binary, "user", "add", user, "--password-stdin", "--config", self.config], input=PASSWORD + "\n",
                           text=True, check=True, capture_output=True)

    def start(self):
        self.log = open(os.path.join(self.dir, "serve.log"), "a")
        self.process = subprocess.Popen([self.binary, "serve", "--config", self.config], stdout=self.log, stderr=self.log)
        wait_imap(self.port)
        return self.process.pid

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self.log.close()


class Dovecot:
    name = "Dovecot"

    def __init__(self, users):
        self.dir = os.path.join(WORK, "dovecot")
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(os.path.join(self.dir, "run"))
        self.port = free_port()
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            for user in users:
                f.write(f"{user}:{{PLAIN}}{PASSWORD}::::::\n")
        import pwd
        me = pwd.getpwuid(os.getuid()).pw_name
        # As root, Dovecot's login processes must run as the package's unprivileged users and
        # mail is stored as `dovecot` (Dovecot refuses root for both).
        login_user, internal_user, mail_user = (("dovenull", "dovecot", "dovecot") if os.getuid() == 0 else (me, me, me))
        self.mail_user = mail_user
        self.config = os.path.join(self.dir, "dovecot.conf")
        # Dovecot's defaults for a mail server (maildir, fsync as shipped), plaintext login on
        # loopback like Tern's run, one imap process per connection as shipped.
        with open(self.config, "w") as f:
            f.write(f"""protocols = imap
listen = 127.0.0.1
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{self.dir}/mail/%u
passdb {{
  driver = passwd-file
  args = {self.dir}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_user} home={self.dir}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  process_min_avail = 1
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
first_valid_uid = 100
default_internal_user = {internal_user}
default_login_user = {login_user}
default_internal_group = {internal_user}
""")
        if os.getuid() == 0:
            # The mail user writes under the work directory; it reads its configuration too.
            for path in (self.dir, os.path.dirname(self.dir), WORK):
                os.chmod(path, 0o755)
            for sub in ("mail", "home", "state"):
                os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
                shutil.chown(os.path.join(self.dir, sub), user=mail_user, group=mail_user)

    def start(self):
        self.process = subprocess.Popen(["dovecot", "-F", "-c", self.config], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_imap(self.port)
        return self.process.pid

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def load(args):
    port, user, messages = args
    client = imaplib.IMAP4("127.0.0.1", port, timeout=60)
    client.login(user, PASSWORD)
    for i in range(messages):
        client.append("INBOX", None, None, message(i))
    client.logout()


def client_loop(args):
    """The mixed load of one client for `seconds`: answers (commands, failures)."""
    port, user, seconds, seed = args
    rng = random.Random(seed)
    client = imaplib.IMAP4("127.0.0.1", port, timeout=60)
    client.login(user, PASSWORD)
    commands = failures = 0
    deadline = time.time() + seconds
    extra = 0
    while time.time() < deadline:
        typ, data = client.select("INBOX")
        count = int(data[0])
        steps = [
            lambda: client.uid("FETCH", "1:*", "(UID FLAGS)"),
            lambda: client.fetch(f"{rng.randint(1, count)}", "(BODY.PEEK[])"),
            lambda: client.fetch(f"{max(1, count - 20)}:{count}", "(ENVELOPE FLAGS RFC822.SIZE)"),
            lambda: client.search(None, "SUBJECT", rng.choice(["lunch", "invoice", "travel", "report"])),
            lambda: client.search(None, "UNSEEN"),
            lambda: client.store(f"{rng.randint(1, count)}", "+FLAGS", "\\Seen"),
            lambda: client.store(f"{rng.randint(1, count)}", "-FLAGS", "\\Seen"),
        ]
        commands += 1
        for step in steps:
            typ, _ = step()
            commands += 1
            failures += typ != "OK"
        # APPEND one, then delete and expunge it: the mailbox keeps its size.
        typ, _ = client.append("INBOX", None, None, message(10_000 + extra))
        extra += 1
        typ2, data = client.select("INBOX")
        newest = int(data[0])
        client.store(f"{newest}", "+FLAGS.SILENT", "\\Deleted")
        typ3, _ = client.expunge()
        commands += 4
        failures += (typ != "OK") + (typ2 != "OK") + (typ3 != "OK")
    client.logout()
    return commands, failures


def measure(server, pid, users, seconds):
    with multiprocessing.Pool(len(users)) as pool:
        before = tree_cpu(pid)
        start = time.time()
        results = pool.map(client_loop, [(server.port, user, seconds, index) for index, user in enumerate(users)])
        elapsed = time.time() - start
        # Dovecot's per-connection imap processes count once the master has reaped them.
        time.sleep(1)
        cpu = tree_cpu(pid) - before
    commands = sum(r[0] for r in results)
    failures = sum(r[1] for r in results)
    return commands / elapsed, cpu / commands * 1000, failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tern", required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="2 clients, 100 messages, 5 s, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.messages, args.seconds, args.rounds = 2, 100, 5, 1
    users = [f"user{i}@example.test" for i in range(args.clients)]
    servers = [Tern(args.tern, users), Dovecot(users)]
    results = {s.name: [] for s in servers}
    for server in servers:
        server.start()
        with multiprocessing.Pool(len(users)) as pool:
            pool.map(load, [(server.port, user, args.messages) for user in users])
        server.stop()
    for round_ in range(args.rounds):
        for server in servers:
            pid = server.start()
            try:
                rate, cpu, failures = measure(server, pid, users, args.seconds)
            finally:
                server.stop()
            results[server.name].append((rate, cpu, failures))
            print(f"round {round_ + 1} {server.name:8} {rate:8.0f} commands/s  {cpu:6.3f} ms CPU/command  failures {failures}", flush=True)
    lines = [f"IMAP mixed load: {args.clients} clients, {args.messages} messages each, {args.seconds:.0f} s per round, "
             f"{args.rounds} rounds (median)", "", "| server | commands/s | server CPU ms/command | failed |", "|---|---:|---:|---:|"]
    median = {}
    for name, rows in results.items():
        rates = sorted(r[0] for r in rows)
        cpus = sorted(r[1] for r in rows)
        median[name] = (rates[len(rates) // 2], cpus[len(cpus) // 2])
        lines.append(f"| {name} | {median[name][0]:.0f} | {median[name][1]:.3f} | {sum(r[2] for r in rows)} |")
    lines.append("")
    lines.append(f"Tern/Dovecot: {median['Tern'][0] / median['Dovecot'][0]:.2f}x commands/s, "
                 f"{median['Dovecot'][1] / median['Tern'][1]:.2f}x less CPU per command")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(WORK, "..", "imap-results.md"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
