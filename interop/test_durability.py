"""What got 250 survives kill -9; shutdown is graceful."""
import signal
import threading
import time

from conftest import USER, RawSMTP


def send_one(port, subject):
    c = RawSMTP(port)
    c.reply()
    c.command("EHLO durability.test")
    c.send(f"MAIL FROM:<d@remote.test>\r\nRCPT TO:<{USER}>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    c.send(f"Subject: {subject}\r\nMessage-ID: <{subject}@remote.test>\r\n\r\nbody\r\n.\r\n")
    code, text = c.reply()
    return c, code, text


def test_kill9_right_after_250(tern):
    c, code, text = send_one(tern.smtp_port, "kill9")
    assert code == 250
    tern.kill9()  # at once, before anything else can happen
    queue_id = text.split()[-1]
    c.close()
    tern.start()
    queue = tern.queue()
    assert [m["id"] for m in queue] == [queue_id]
    assert queue[0]["message_id"] == "<kill9@remote.test>"


def test_kill9_under_load_loses_nothing_that_was_acknowledged(tern):
    acknowledged = []
    lock = threading.Lock()
    stop = threading.Event()

    def worker(n):
        i = 0
        while not stop.is_set() and i < 500:
            try:
                c, code, text = send_one(tern.smtp_port, f"load-{n}-{i}")
            except (ConnectionError, OSError):
                return
            if code == 250:
                with lock:
                    acknowledged.append(text.split()[-1])
            c.close()
            i += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    deadline = time.time() + 30
    while time.time() < deadline and len(acknowledged) < 100:
        time.sleep(0.01)
    tern.kill9()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert len(acknowledged) >= 1
    tern.start()
    stored = {m["id"] for m in tern.queue()}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged messages lost"


def test_sigterm_lets_the_transaction_finish(tern):
    c = RawSMTP(tern.smtp_port)
    c.reply()
    c.command("EHLO shutdown.test")
    c.send(f"MAIL FROM:<d@remote.test>\r\nRCPT TO:<{USER}>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    c.send("Subject: in flight\r\n\r\nfirst half\r\n")
    idle = RawSMTP(tern.smtp_port)
    idle.reply()
    tern.process.send_signal(signal.SIGTERM)
    # The idle session is told at once.
    assert idle.reply()[0] == 421
    time.sleep(0.3)
    c.send("second half\r\n.\r\n")
    code, _ = c.reply()
    assert code == 250
    code, text = c.reply()
    assert code == 421 and text.startswith("4.3.2")
    tern.process.wait(timeout=30)
    assert tern.process.returncode == 0
    tern.process = None
    tern.log.close()
    assert len(tern.queue()) == 1


class StallingPeer:
    """A next hop that takes a whole transaction and then never answers the final dot: the
    peer that would hold a shutdown for its full reply timeout."""

    def __init__(self):
        import socket
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(4)
        self.port = self.server.getsockname()[1]
        self.got_dot = threading.Event()
        self.closed_by_tern = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.server.accept()
        conn.settimeout(60)
        f = conn.makefile("rb")
        conn.sendall(b"220 stall.test ESMTP\r\n")
        in_data = False
        for line in f:
            if in_data:
                if line == b".\r\n":
                    self.got_dot.set()  # and say nothing
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                conn.sendall(b"250-stall.test\r\n250 PIPELINING\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 go on\r\n")
                in_data = True
            else:
                conn.sendall(b"250 OK\r\n")
        self.closed_by_tern.set()
        conn.close()

    def stop(self):
        self.server.close()


def test_sigterm_aborts_a_delivery_whose_peer_never_answers(tern_factory):
    """Delivery sessions are children of the scheduler's task group: shutdown lets them finish
    for `shutdown_grace`, then aborts the one still waiting, records its transaction as
    deferred, and exits; the message is still queued for the next start."""
    import smtplib
    peer = StallingPeer()
    try:
        server = tern_factory(extra_config=(
            '[relay]\ntrusted_networks = ["127.0.0.1/32"]\n'
            '[limits]\nshutdown_grace = "2s"\n'
            '[delivery]\nallow_private_destinations = true\n'
            f'routes = {{ "stall.test" = "127.0.0.1:{peer.port}" }}\n'))
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as client:
            client.sendmail("a@remote.test", ["x@stall.test"], b"Subject: stalled\r\n\r\nbody\r\n")
        assert peer.got_dot.wait(30), "the peer never got the message"
        started = time.time()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=30)
        elapsed = time.time() - started
        assert server.process.returncode == 0
        server.process = None
        server.log.close()
        # It waited for the grace time, and not for the peer's 5-minute reply timeout.
        assert 1.5 <= elapsed < 15, elapsed
        assert peer.closed_by_tern.wait(5)
        [message] = server.queue()
        [recipient] = message["recipients"]
        assert recipient["state"] == "deferred", recipient
        assert "shutting down" in (recipient["last_reply"] or ""), recipient
    finally:
        peer.stop()
