"""Disk full (issue 12 fault suite): `data_dir` on a small tmpfs. Once the filesystem is full
every MAIL or end of DATA must be answered 4xx, never 250; the server must stay up; and mail
must flow again when space returns. Needs root (mount); prints its figures.

    python3 fault/disk_full.py [--size-mb 32]
"""
import argparse
import json
import os
import smtplib
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash_injection import DOMAIN, ROOT, USERS, Server  # noqa: E402


def can_mount():
    probe = tempfile.mkdtemp(prefix="tern-mount-probe-")
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], capture_output=True).returncode == 0
    if ok:
        subprocess.run(["umount", probe])
    os.rmdir(probe)
    return ok


def send(port, n, size):
    """The reply that ended the attempt: (code, where) with where MAIL, RCPT or DATA."""
    body = ("x" * 76 + "\r\n") * (size // 78)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
            s.ehlo("full.test")
            code, _ = s.mail("f@remote.test")
            if code != 250:
                return code, "MAIL"
            code, _ = s.rcpt(USERS[0])
            if code != 250:
                return code, "RCPT"
            code, _ = s.data(f"Subject: full {n}\r\nMessage-ID: <full-{n}@remote.test>\r\n\r\n{body}")
            return code, "DATA"
    except smtplib.SMTPServerDisconnected:
        return None, "disconnected"


def run(binary, size_mb=32, verbose=True):
    directory = tempfile.mkdtemp(prefix="tern-full-")
    mountpoint = os.path.join(directory, "fs")
    os.makedirs(mountpoint)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", mountpoint], check=True)
    figures = {}
    server = None
    try:
        server = Server(binary, directory)
        # data_dir on the small filesystem, and no free-space floor: the store itself must
        # answer ENOSPC with 4xx (the floor, on by default, refuses at MAIL before that).
        text = open(server.config).read().replace(f'data_dir = "{directory}/data"', f'data_dir = "{mountpoint}/data"')
        text = text.replace("[limits]\n", "[limits]\nmin_free_disk = 0\n")
        open(server.config, "w").write(text)
        server.cli("domain", "add", DOMAIN)
        server.cli("user", "add", USERS[0], "--password-stdin", stdin="a-long-password\n")
        server.start()
        before = [send(server.port, i, 20_000)[0] for i in range(5)]
        # Fill the filesystem.
        filler = os.path.join(mountpoint, "filler")
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
        replies = [send(server.port, 100 + i, 200_000) for i in range(30)]
        alive_when_full = server.process.poll() is None
        accepted_when_full = sum(1 for code, _ in replies if code == 250)
        refused = sum(1 for code, _ in replies if code is not None and 400 <= code < 500)
        os.unlink(filler)
        time.sleep(0.5)
        after = [send(server.port, 200 + i, 20_000)[0] for i in range(5)]
        figures = {
            "before_full": before, "when_full": [f"{code} at {where}" for code, where in replies], "accepted_when_full": accepted_when_full,
            "refused_4xx_when_full": refused, "server_alive": alive_when_full and server.process.poll() is None, "after_space_returned": after,
        }
    finally:
        if server:
            server.stop()
        subprocess.run(["umount", mountpoint])
    if verbose:
        print(json.dumps(figures, indent=2))
    return figures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=32)
    parser.add_argument("--binary", default=os.environ.get("TERN_BIN", os.path.join(ROOT, ".build", "debug", "tern")))
    args = parser.parse_args()
    if not can_mount():
        print("cannot mount a tmpfs here (needs root)")
        sys.exit(2)
    f = run(args.binary, args.size_mb)
    ok = f["accepted_when_full"] == 0 and f["server_alive"] and all(c == 250 for c in f["after_space_returned"]) and all(c == 250 for c in f["before_full"])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
