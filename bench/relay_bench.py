"""Drives bench/relay: Postfix's smtp-source -> relay -> smtp-sink, end to end (accepted and
delivered), for Tern and for a stock Postfix relay in the same run.

Tern finds the sink as the MX of sink.test through dnsmasq on loopback. Postfix cannot be pointed
at another resolver without changing /etc/resolv.conf, so it reaches the same sink through a
transport map entry (`smtp:[127.0.0.5]:PORT`, no DNS); Tern's MX lookups are cached after the
first, so both pay no DNS per message.

A message counts as delivered when the sink has counted it (smtp-sink's running counter, read
from its output as it goes): neither server's own tools are polled. Elapsed time runs from the
first connection of smtp-source to the sink's last count; CPU is the relay's process tree over
that time.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtp_accept import POSTFIX_SERVICES, WORK, free_port, rss_peak_kib, tree_cpu, wait_port  # noqa: E402
from peers import DNSServer, free_port_on  # noqa: E402
from peers import wait_port as wait_port_on  # noqa: E402

SINK_HOST = "127.0.0.5"
RCPT = "bench@sink.test"


class Sink:
    """smtp-sink on 127.0.0.5 with running counters on stdout (-c)."""

    def __init__(self):
        self.port = free_port_on(SINK_HOST)
        self.messages = 0
        self.proc = None

    def start(self):
        user = "nobody" if os.getuid() == 0 else os.environ.get("USER", "")
        self.proc = subprocess.Popen(["smtp-sink", "-c", "-u", user, f"{SINK_HOST}:{self.port}", "1000"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        threading.Thread(target=self._read, daemon=True).start()
        wait_port_on(SINK_HOST, self.port)

    def _read(self):
        buffer = b""
        while True:
            chunk = self.proc.stdout.read1(4096) if hasattr(self.proc.stdout, "read1") else self.proc.stdout.read(64)
            if not chunk:
                return
            buffer = (buffer + chunk)[-4096:]
            marker = buffer.rfind(b"mesg=")
            if marker >= 0:
                digits = b""
                for c in buffer[marker + 5:]:
                    if 48 <= c <= 57:
                        digits += bytes([c])
                    else:
                        break
                if digits:
                    self.messages = int(digits)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


class TernRelay:
    name = "tern"

    def __init__(self, binary, dns_port, sink_port):
        self.binary = binary
        self.dir = os.path.join(WORK, "tern-relay")
        self.port = free_port()
        self.dns_port, self.sink_port = dns_port, sink_port
        self.proc = None

    def setup(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.config = os.path.join(self.dir, "tern.toml")
        with open(self.config, "w") as f:
            f.write(f'hostname = "tern.bench.test"\ndata_dir = "{self.dir}/data"\n'
                    f'[listen]\nsmtp = ["127.0.0.1:{self.port}"]\nsubmission = []\nsubmissions = []\n'
                    f'imap = []\npop3 = []\nhttp = []\n[limits]\nmax_connections_per_ip = 1000\n'
                    f'max_message_size = 10485760\n[relay]\ntrusted_networks = ["127.0.0.0/8"]\n'
                    f'[dns]\nnameservers = ["127.0.0.1:{self.dns_port}"]\n'
                    f'[delivery]\nsmtp_port = {self.sink_port}\nallow_private_destinations = true\n')

    def start(self):
        self.log = open(os.path.join(self.dir, "serve.log"), "a")
        self.proc = subprocess.Popen([self.binary, "serve", "--config", self.config], stdout=self.log, stderr=self.log)
        wait_port(self.port)
        return self.proc.pid

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.log.close()

    def clear(self):
        if self.proc:
            self.stop()
        shutil.rmtree(os.path.join(self.dir, "data"), ignore_errors=True)
        return self.start()


class PostfixRelay:
    name = "postfix"

    def __init__(self, sink_port):
        self.dir = os.path.join(WORK, "postfix-relay")
        self.etc = os.path.join(self.dir, "etc")
        self.port = free_port()
        self.sink_port = sink_port
        self.pid = None

    def setup(self):
        if os.path.exists(self.etc):
            subprocess.run(["postfix", "-c", self.etc, "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        for d in (self.etc, os.path.join(self.dir, "data"), os.path.join(self.dir, "queue")):
            os.makedirs(d)
        shutil.chown(os.path.join(self.dir, "data"), "postfix")
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            # Stock Postfix: loopback only, relaying for 127/8, the sink reached by a transport map.
            f.write(f"""compatibility_level = 3.6
queue_directory = {self.dir}/queue
data_directory = {self.dir}/data
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = postfix.bench.test
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
transport_maps = inline:{{sink.test=smtp:[{SINK_HOST}]:{self.sink_port}}}
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
            self.pid = int(f.read().strip())
        return self.pid

    def stop(self):
        subprocess.run(["postfix", "-c", self.etc, "stop"], capture_output=True)
        time.sleep(1)

    def clear(self):
        subprocess.run(["postsuper", "-c", self.etc, "-d", "ALL"], capture_output=True)
        self.accepted_before = self.sent_lines()
        return self.pid

    def sent_lines(self):
        try:
            with open(os.path.join(self.dir, "maillog"), errors="replace") as f:
                return f.read().count(" status=sent ")
        except OSError:
            return 0


def run_case(relay, sink, sessions, messages, size):
    from postgres_nodes import run_split

    pid = relay.clear()
    cpu_now = relay.cpu if hasattr(relay, "cpu") else (lambda: tree_cpu(pid))
    before_cpu = cpu_now()
    before_sink = sink.messages
    start = time.time()
    # One smtp-source per node (one for a single server), the load split between them.
    done = {}

    def load():
        try:
            run_split(lambda port, count, width: ["smtp-source", "-s", str(width), "-m", str(count), "-l", str(size),
                                                  "-f", "load@remote.test", "-t", RCPT, "-d", f"127.0.0.1:{port}"],
                      getattr(relay, "ports", [relay.port]), messages, sessions)
        except RuntimeError as error:
            done["error"] = error
        done["at"] = time.time()

    source = threading.Thread(target=load)
    source.start()
    deadline = start + 1800
    source_done = None
    while time.time() < deadline:
        if source_done is None and "at" in done:
            source_done = done["at"]
            if "error" in done:
                raise done["error"]
        if source_done is not None and sink.messages - before_sink >= messages:
            break
        time.sleep(0.005)
    else:
        raise RuntimeError(f"{relay.name}: not everything delivered in time")
    elapsed = time.time() - start
    cpu = cpu_now() - before_cpu
    accept_rate = messages / (source_done - start)
    time.sleep(2.5)  # idle cached connections close before the next case
    return messages / elapsed, cpu * 1000 / messages, accept_rate, sink.messages - before_sink


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tern", required=True)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--quick", action="store_true", help="only 1 KiB")
    parser.add_argument("--sizes", help="comma-separated message sizes in bytes (default 1024,4096,102400)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat each case, interleaved; report medians")
    parser.add_argument("--postgres", action="store_true",
                        help="also Tern on PostgreSQL (a private cluster): one node, and two nodes on one database")
    args = parser.parse_args()
    os.makedirs(WORK, exist_ok=True)

    # A 60 s TTL as real zones have (dnsmasq answers its own records with TTL 0 by default,
    # which would make Tern ask again on every scheduler pass).
    dns = DNSServer(WORK, mx=[("sink.test", "mx.sink.test", 10)], hosts=[("mx.sink.test", SINK_HOST)], extra=["--local-ttl=60"])
    sink = Sink()
    sink.start()
    tern = TernRelay(args.tern, dns.port, sink.port)
    postfix = PostfixRelay(sink.port)
    tern.setup()
    postfix.setup()
    postfix.start()
    relays = [tern, postfix]
    cluster = None
    if args.postgres:
        from postgres_nodes import PostgresCluster, TernNodes

        cluster = PostgresCluster().start()

        def relay_config(index, port, directory):
            return (f'hostname = "tern.bench.test"\ndata_dir = "{directory}/data"\n'
                    f'[listen]\nsmtp = ["127.0.0.1:{port}"]\nsubmission = []\nsubmissions = []\n'
                    f'imap = []\npop3 = []\nhttp = []\n[limits]\nmax_connections_per_ip = 1000\n'
                    f'max_message_size = 10485760\n[relay]\ntrusted_networks = ["127.0.0.0/8"]\n'
                    f'[dns]\nnameservers = ["127.0.0.1:{dns.port}"]\n'
                    f'[delivery]\nsmtp_port = {sink.port}\nallow_private_destinations = true\n')

        for nodes in (1, 2):
            pg = TernNodes(args.tern, cluster, nodes, "tern-pg" if nodes == 1 else "tern-pg-x2", relay_config)
            pg.setup()
            relays.append(pg)
    # 4 KiB is the size of the reference figure for Postfix (≈ 720 msg/s here).
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else [1024] if args.quick else [1024, 4096, 102400]
    rows = []
    postgres_rows = []
    try:
        for index, size in enumerate(sizes):
            samples = {r.name: [] for r in relays}
            for repeat in range(args.rounds):
                order = relays if (index + repeat) % 2 == 0 else list(reversed(relays))
                for relay in order:
                    rate, cpu, accept, sunk = run_case(relay, sink, 20, args.messages, size)
                    samples[relay.name].append((rate, cpu, accept, sunk))
                    print(f"  {relay.name:8} {size // 1024:>4} KiB: {rate:7.0f} msg/s end to end, {cpu:6.3f} ms CPU/msg, "
                          f"accepted at {accept:7.0f}/s, sink saw {sunk}", flush=True)
            med = {}
            for name, values in samples.items():
                med[name] = tuple(sorted(v[i] for v in values)[len(values) // 2] for i in range(4))
            rss = rss_peak_kib(tern.proc.pid)
            rows.append((size, med["tern"], med["postfix"], rss))
            postgres_rows.append((size, [(r.name, med[r.name]) for r in relays[2:]], med["postfix"]))
            t, p = med["tern"], med["postfix"]
            print(f"{size // 1024:>4} KiB c=20: tern {t[0]:7.0f}/s {t[1]:.3f} ms | postfix {p[0]:7.0f}/s {p[1]:.3f} ms | "
                  f"tern/postfix {t[0] / p[0]:.2f}x | rss {rss // 1024} MiB", flush=True)
    finally:
        for closer in [r.stop for r in relays[2:]] + [tern.stop, postfix.stop, sink.stop, dns.stop] + ([cluster.stop] if cluster else []):
            try:
                closer()
            except Exception as e:  # noqa: BLE001 - keep stopping the others
                print(f"stopping: {e}", file=sys.stderr)

    lines = ["| size | sessions | Tern msg/s end to end | Tern CPU ms/msg | Postfix msg/s end to end | "
             "Postfix CPU ms/msg | Tern/Postfix | Tern peak RSS |", "|---|---|---|---|---|---|---|---|"]
    for size, t, p, rss in rows:
        lines.append(f"| {size // 1024} KiB | 20 | {t[0]:.0f} | {t[1]:.3f} | {p[0]:.0f} | {p[1]:.3f} | "
                     f"{t[0] / p[0]:.2f}× | {rss // 1024} MiB |")
    if any(results for _, results, _ in postgres_rows):
        lines += ["", "| size | store | msg/s end to end | CPU ms/msg (nodes + database) | ×Postfix |", "|---|---|---|---|---|"]
        for size, results, p in postgres_rows:
            for name, r in results:
                lines.append(f"| {size // 1024} KiB | {name} | {r[0]:.0f} | {r[1]:.3f} | {r[0] / p[0]:.2f}× |")
    table = "\n".join(lines)
    with open(os.path.join(WORK, "relay-results.md"), "w") as f:
        f.write(table + "\n")
    print()
    print(table)


if __name__ == "__main__":
    main()
