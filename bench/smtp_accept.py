"""Drives bench/smtp-accept: see that script. Prints a table and writes bench/.work/results.md."""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from peers import POSTFIX_SERVICES  # noqa: E402  (one master.cf for every private Postfix)

WORK = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".work")
CLK_TCK = os.sysconf("SC_CLK_TCK")
RCPT = "alice@example.test"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.recv(100)
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def proc_stat(pid):
    """(utime+stime, cutime+cstime) in seconds, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ut, st, cut, cst = (int(x) for x in fields[11:15])
    return (ut + st) / CLK_TCK, (cut + cst) / CLK_TCK


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(entry))
            except OSError:
                pass
    return out


def tree_cpu(root):
    """CPU seconds of a process and all its descendants, including reaped ones (via cutime)."""
    total = 0.0
    stack = [root]
    while stack:
        pid = stack.pop()
        s = proc_stat(pid)
        if s is None:
            continue
        total += s[0] + s[1]
        stack.extend(children(pid))
    return total


def rss_peak_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class Tern:
    name = "tern"

    # Like-for-like with a stock Postfix, which checks no SPF, DKIM or DMARC; and no lookups may
    # leave loopback (the resolver points at a closed port).
    check_inbound = "false"
    nameserver = "127.0.0.1:1"

    def __init__(self, binary):
        self.binary = binary
        self.dir = os.path.join(WORK, "tern")
        self.port = free_port()
        self.proc = None

    def setup(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.config = os.path.join(self.dir, "tern.toml")
        with open(self.config, "w") as f:
            f.write(f'hostname = "tern.bench.test"\ndata_dir = "{self.dir}/data"\n'
                    f'[listen]\nsmtp = ["127.0.0.1:{self.port}"]\nsubmission = []\nsubmissions = []\n'
                    f'imap = []\npop3 = []\nhttp = []\n[limits]\nmax_connections_per_ip = 1000\n'
                    f'max_message_size = 10485760\n'
                    f'[mail_auth]\ncheck_inbound = {self.check_inbound}\n[dns]\nnameservers = ["{self.nameserver}"]\n')
        self.add_users()

    def add_users(self):
        subprocess.run([self.binary, "domain", "add", "example.test", "--config", self.config], check=True,
                       capture_output=True)
        subprocess.run([self.binary, "user", "add", RCPT, "--password-stdin", "--config", self.config], check=True,
                       input=b"benchmark-password\n", capture_output=True)

    def start(self):
        # Default log level: one line per message, as Postfix logs to its maillog.
        env = dict(os.environ)
        self.log = open(os.path.join(self.dir, "serve.log"), "a")
        self.proc = subprocess.Popen([self.binary, "serve", "--config", self.config], stdout=self.log,
                                     stderr=self.log, env=env)
        wait_port(self.port)
        return self.proc.pid

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.log.close()

    def count(self):
        out = subprocess.run([self.binary, "queue", "list", "--json", "--config", self.config], check=True,
                             capture_output=True, text=True).stdout
        import json
        return len(json.loads(out))

    def clear(self):
        self.stop()
        shutil.rmtree(os.path.join(self.dir, "data"))
        self.add_users()
        self.start()


class Postfix:
    name = "postfix"

    def __init__(self):
        self.dir = os.path.join(WORK, "postfix")
        self.etc = os.path.join(self.dir, "etc")
        self.port = free_port()

    def setup(self):
        if os.path.exists(self.etc):
            subprocess.run(["postfix", "-c", self.etc, "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.etc)
        os.makedirs(os.path.join(self.dir, "data"))
        os.makedirs(os.path.join(self.dir, "queue"))
        shutil.chown(os.path.join(self.dir, "data"), "postfix")
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            # A stock Postfix with two changes: loopback only, and every message held in the
            # queue (HOLD), so it does what Tern does now: accept durably and keep.
            f.write(f"""compatibility_level = 3.6
queue_directory = {self.dir}/queue
data_directory = {self.dir}/data
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = postfix.bench.test
mydestination = example.test
mynetworks = 127.0.0.0/8
local_recipient_maps =
smtpd_recipient_restrictions = check_client_access static:HOLD, permit_mynetworks, reject_unauth_destination
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
default_process_limit = 200
message_size_limit = 10485760
maillog_file_prefixes = {self.dir}
maillog_file = {self.dir}/maillog
""")
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(f"127.0.0.1:{self.port} inet n - n - - smtpd\n" + POSTFIX_SERVICES)

    def start(self):
        subprocess.run(["postfix", "-c", self.etc, "start"], check=True, capture_output=True)
        wait_port(self.port)
        with open(os.path.join(self.dir, "queue", "pid", "master.pid")) as f:
            return int(f.read().strip())

    def stop(self):
        subprocess.run(["postfix", "-c", self.etc, "stop"], capture_output=True)
        time.sleep(1)

    def count(self):
        held = 0
        for root, _, files in os.walk(os.path.join(self.dir, "queue", "hold")):
            held += len(files)
        return held

    def clear(self):
        subprocess.run(["postsuper", "-c", self.etc, "-d", "ALL"], capture_output=True)


class Sink:
    name = "smtp-sink"

    def __init__(self):
        self.port = free_port()
        self.proc = None

    def setup(self):
        pass

    def start(self):
        # -u: run as the current user; 1000 connection backlog; no storage at all.
        self.proc = subprocess.Popen(["smtp-sink", "-u", "nobody" if os.getuid() == 0 else os.environ.get("USER", ""),
                                      f"127.0.0.1:{self.port}", "1000"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port)
        return self.proc.pid

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)

    def count(self):
        return None

    def clear(self):
        pass


def run_source(ports, sessions, messages, size):
    """smtp-source against every port at once (one per node), the load split between them."""
    from postgres_nodes import run_split

    start = time.time()
    run_split(lambda port, count, width: ["smtp-source", "-s", str(width), "-m", str(count), "-l", str(size),
                                          "-f", "load@remote.test", "-t", RCPT, "-d", f"127.0.0.1:{port}"],
              ports, messages, sessions)
    return time.time() - start


def tern_on_postgres(binary, cluster, nodes):
    """Tern's accept configuration on a PostgreSQL store, `nodes` nodes."""
    from postgres_nodes import TernNodes

    def config(index, port, directory):
        return (f'hostname = "tern.bench.test"\ndata_dir = "{directory}/data"\n'
                f'[listen]\nsmtp = ["127.0.0.1:{port}"]\nsubmission = []\nsubmissions = []\n'
                f'imap = []\npop3 = []\nhttp = []\n[limits]\nmax_connections_per_ip = 1000\n'
                f'max_message_size = 10485760\n[mail_auth]\ncheck_inbound = false\n[dns]\nnameservers = ["127.0.0.1:1"]\n')

    def add_users(config_path):
        subprocess.run([binary, "domain", "add", "example.test", "--config", config_path], check=True, capture_output=True)
        subprocess.run([binary, "user", "add", RCPT, "--password-stdin", "--config", config_path], check=True,
                       input=b"benchmark-password\n", capture_output=True)

    return TernNodes(binary, cluster, nodes, "tern-pg" if nodes == 1 else f"tern-pg-x{nodes}", config, add_users)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tern", required=True)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--quick", action="store_true", help="only 1 KiB at concurrency 20")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat every case, interleaved; report each server's median (this disk is noisy)")
    parser.add_argument("--postgres", action="store_true",
                        help="also Tern on PostgreSQL (a private cluster): one node, and two nodes on one database")
    args = parser.parse_args()
    os.makedirs(WORK, exist_ok=True)

    servers = [Tern(args.tern), Postfix(), Sink()]
    cluster = None
    if args.postgres:
        from postgres_nodes import PostgresCluster

        cluster = PostgresCluster().start()
        servers += [tern_on_postgres(args.tern, cluster, 1), tern_on_postgres(args.tern, cluster, 2)]
    for s in servers:
        s.setup()
    pids = {s.name: s.start() for s in servers}
    cases = [(1024, 20)] if args.quick else [(1024, 1), (1024, 20), (1024, 100), (102400, 1), (102400, 20), (102400, 100)]
    rows = []
    postgres_rows = []
    try:
        for round_index, (size, sessions) in enumerate(cases):
            samples = {s.name: [] for s in servers}
            for repeat in range(args.rounds):
                order = servers if (round_index + repeat) % 2 == 0 else list(reversed(servers))
                for s in order:
                    s.clear()
                    pids[s.name] = pids[s.name] if s.name != "tern" else s.proc.pid
                    pid = pids[s.name]
                    cpu_now = s.cpu if hasattr(s, "cpu") else (lambda: tree_cpu(pid))
                    before = cpu_now()
                    elapsed = run_source(getattr(s, "ports", [s.port]), sessions, args.messages, size)
                    if s.name == "postfix":
                        time.sleep(0.5)  # let cleanup finish writing its last files before counting CPU
                    cpu = cpu_now() - before
                    stored = s.count()
                    if stored is not None and stored != args.messages:
                        raise RuntimeError(f"{s.name} stored {stored} of {args.messages}")
                    samples[s.name].append((args.messages / elapsed, cpu * 1000 / args.messages))
            results = {}
            for name, values in samples.items():
                rates = sorted(v[0] for v in values)
                cpus = sorted(v[1] for v in values)
                results[name] = (rates[len(rates) // 2], cpus[len(cpus) // 2])
            rss = rss_peak_kib(servers[0].proc.pid)
            t, p, k = results["tern"], results["postfix"], results["smtp-sink"]
            rows.append((size, sessions, t, p, k, rss))
            print(f"{size // 1024:>4} KiB  c={sessions:<3}  tern {t[0]:8.0f}/s {t[1]:6.3f} ms CPU  |  "
                  f"postfix {p[0]:7.0f}/s {p[1]:6.3f} ms  |  sink {k[0]:7.0f}/s {k[1]:6.3f} ms  |  "
                  f"tern/postfix {t[0] / p[0]:5.2f}x  tern/sink {t[0] / k[0]:4.2f}  rss {rss // 1024} MiB", flush=True)
            for s in servers[3:]:
                r = results[s.name]
                print(f"           {s.name:<10} {r[0]:8.0f}/s {r[1]:6.3f} ms CPU (nodes + database)  {s.name}/postfix {r[0] / p[0]:5.2f}x",
                      flush=True)
            postgres_rows.append((size, sessions, [(s.name, results[s.name]) for s in servers[3:]], p))
    finally:
        for s in servers:
            try:
                s.stop()
            except Exception as e:  # noqa: BLE001 - keep stopping the others
                print(f"stopping {s.name}: {e}", file=sys.stderr)
        if cluster:
            cluster.stop()

    lines = ["| size | sessions | Tern msg/s | Tern CPU ms/msg | Postfix msg/s | Postfix CPU ms/msg | "
             "smtp-sink msg/s | Tern/Postfix | Tern/smtp-sink | Tern peak RSS |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for size, sessions, t, p, k, rss in rows:
        lines.append(f"| {size // 1024} KiB | {sessions} | {t[0]:.0f} | {t[1]:.3f} | {p[0]:.0f} | {p[1]:.3f} | "
                     f"{k[0]:.0f} | {t[0] / p[0]:.2f}× | {t[0] / k[0]:.2f} | {rss // 1024} MiB |")
    if postgres_rows:
        lines += ["", "| size | sessions | store | msg/s | CPU ms/msg (nodes + database) | ×Postfix |", "|---|---|---|---|---|---|"]
        for size, sessions, results, p in postgres_rows:
            for name, r in results:
                lines.append(f"| {size // 1024} KiB | {sessions} | {name} | {r[0]:.0f} | {r[1]:.3f} | {r[0] / p[0]:.2f}× |")
    table = "\n".join(lines)
    with open(os.path.join(WORK, "results.md"), "w") as f:
        f.write(table + "\n")
    print()
    print(table)


if __name__ == "__main__":
    main()
