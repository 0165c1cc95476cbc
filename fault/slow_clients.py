"""Slow clients (issue 12 fault suite): N connections that each send one byte every few seconds
(a slowloris), while one measuring client opens sessions and sends messages. Prints the
greeting and whole-transaction times (p50, p99, max) of the measuring client.

    python3 fault/slow_clients.py [--connections 500] [--seconds 30] [--interval 3]
"""
import argparse
import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash_injection import DOMAIN, ROOT, USERS, Server  # noqa: E402


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def run(binary, connections=500, seconds=30, interval=3.0, verbose=True):
    directory = tempfile.mkdtemp(prefix="tern-slow-")
    server = Server(binary, directory)
    server.cli("domain", "add", DOMAIN)
    server.cli("user", "add", USERS[0], "--password-stdin", stdin="a-long-password\n")
    server.start()
    slow = []
    try:
        for _ in range(connections):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            slow.append(s)
        stop = threading.Event()

        def dribble():
            # One byte per connection per interval, spread over the interval: "EHLO x" forever.
            text = b"EHLO slowloris.test"
            position = 0
            while not stop.is_set():
                for s in slow:
                    try:
                        s.send(text[position % len(text):position % len(text) + 1])
                    except OSError:
                        pass
                    if stop.wait(interval / max(len(slow), 1)):
                        return
                position += 1

        threading.Thread(target=dribble, daemon=True).start()
        greetings, transactions = [], []
        end = time.time() + seconds
        n = 0
        while time.time() < end:
            n += 1
            started = time.perf_counter()
            with smtplib.SMTP(timeout=30) as client:
                client.connect("127.0.0.1", server.port)
                greeted = time.perf_counter()
                client.sendmail("m@remote.test", [USERS[0]], f"Subject: probe {n}\r\n\r\nprobe\r\n")
                done = time.perf_counter()
            greetings.append((greeted - started) * 1000)
            transactions.append((done - greeted) * 1000)
            time.sleep(0.05)
        stop.set()
        alive = 0
        for s in slow:
            try:
                s.setblocking(False)
                data = s.recv(4096)
                alive += 1 if data != b"" else 0
            except BlockingIOError:
                alive += 1
            except OSError:
                pass
        figures = {
            "slow_connections": connections, "still_open": alive, "probes": n,
            "greeting_ms": {"p50": round(percentile(greetings, 0.5), 2), "p99": round(percentile(greetings, 0.99), 2), "max": round(max(greetings), 2)},
            "transaction_ms": {"p50": round(percentile(transactions, 0.5), 2), "p99": round(percentile(transactions, 0.99), 2),
                               "max": round(max(transactions), 2)},
        }
    finally:
        for s in slow:
            s.close()
        server.stop()
    if verbose:
        print(json.dumps(figures, indent=2))
    return figures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--interval", type=float, default=3)
    parser.add_argument("--binary", default=os.environ.get("TERN_BIN", os.path.join(ROOT, ".build", "debug", "tern")))
    args = parser.parse_args()
    figures = run(args.binary, args.connections, args.seconds, args.interval)
    sys.exit(0 if figures["greeting_ms"]["p99"] < 100 and figures["transaction_ms"]["p99"] < 100 else 1)


if __name__ == "__main__":
    main()
