"""Tern on PostgreSQL for the benchmarks (issue 17): a private cluster (scripts/postgres) and
one or two `tern serve` nodes on one database, each node with its own SMTP port. CPU counted
for a case is the nodes' and the database server's (every backend), as Postfix's counts all
its processes."""
import json
import os
import shutil
import signal
import subprocess
import threading

from smtp_accept import WORK, free_port, tree_cpu, wait_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class PostgresCluster:
    def __init__(self):
        self.dir = os.path.join(WORK, "postgres")

    def start(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        out = subprocess.run([os.path.join(ROOT, "scripts", "postgres"), "start", self.dir], check=True, capture_output=True, text=True)
        self.url = out.stdout.strip()
        with open(os.path.join(self.dir, "data", "postmaster.pid")) as f:
            self.pid = int(f.readline())
        return self

    def psql(self, sql):
        subprocess.run(["psql", self.url, "-qc", sql], check=True, capture_output=True)

    def database_url(self, name):
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self):
        subprocess.run([os.path.join(ROOT, "scripts", "postgres"), "stop", self.dir], capture_output=True)


class TernNodes:
    """`nodes` Tern processes on one database; `config(index, port)` gives each node's
    configuration before its [store] tables."""

    def __init__(self, binary, cluster, nodes, name, config, add_users=None):
        self.binary, self.cluster, self.name = binary, cluster, name
        self.config_text, self.add_users_hook = config, add_users
        self.database = name.replace("-", "_").replace("×", "x")
        self.dirs = [os.path.join(WORK, f"{name}-{i}") for i in range(nodes)]
        self.ports = [free_port() for _ in range(nodes)]
        self.port = self.ports[0]
        self.procs = []

    def setup(self):
        self.configs = []
        for index, (directory, port) in enumerate(zip(self.dirs, self.ports)):
            shutil.rmtree(directory, ignore_errors=True)
            os.makedirs(directory)
            path = os.path.join(directory, "tern.toml")
            with open(path, "w") as f:
                f.write(self.config_text(index, port, directory) +
                        f'[store]\nbackend = "postgres"\n[store.postgres]\nurl = "{self.cluster.database_url(self.database)}"\n'
                        f'node = "{self.name}-{index}"\n')
            self.configs.append(path)
        self.recreate()

    def recreate(self):
        self.cluster.psql(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        self.cluster.psql(f"CREATE DATABASE {self.database}")
        if self.add_users_hook:
            self.add_users_hook(self.configs[0])

    def start(self):
        self.logs = [open(os.path.join(d, "serve.log"), "a") for d in self.dirs]
        self.procs = [subprocess.Popen([self.binary, "serve", "--config", c], stdout=log, stderr=log)
                      for c, log in zip(self.configs, self.logs)]
        for port in self.ports:
            wait_port(port)
        self.proc = self.procs[0]
        return self.procs[0].pid

    def stop(self):
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            proc.wait(timeout=60)
        for log in self.logs:
            log.close()
        self.procs = []

    def clear(self):
        if self.procs:
            self.stop()
        self.recreate()
        return self.start()

    def cpu(self):
        return sum(tree_cpu(p.pid) for p in self.procs) + tree_cpu(self.cluster.pid)

    def count(self):
        out = subprocess.run([self.binary, "queue", "list", "--json", "--config", self.configs[0]], check=True,
                             capture_output=True, text=True).stdout
        return len(json.loads(out))


def run_split(command_for_port, ports, messages, sessions):
    """Runs one load generator per port at once, the messages and sessions split between them."""
    errors = []

    def one(port, count, width):
        result = subprocess.run(command_for_port(port, count, width), capture_output=True, text=True, timeout=1800)
        if result.returncode != 0:
            errors.append(result.stderr)

    share, width = messages // len(ports), max(1, sessions // len(ports))
    threads = [threading.Thread(target=one, args=(port, share + (messages % len(ports) if i == 0 else 0), width))
               for i, port in enumerate(ports)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"load generator failed: {errors[0]}")
