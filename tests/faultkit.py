"""Real servers that tests stop to make a fault: a Redis server of its own, a TCP proxy in front
of a server (PostgreSQL, the S3 store) that can be closed, reopened or cut mid-transfer, and a
gunicorn process of the portal."""

import os
import selectors
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what} after {timeout} s")


def process_stop(process: subprocess.Popen | None) -> None:
    """Stop a server the test started: SIGTERM, then SIGKILL if it is still up 10 s later."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


class RedisServer:
    """`redis-server` on a free port, no persistence; start() again after stop() reuses it."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        # No retries: redis-py's default (3, with backoff) makes a refused ping take seconds.
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=0.5,
                           retry=Retry(NoBackoff(), 0))

    def answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except RedisError:
            return False

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.answers, timeout=10, what="redis-server to answer")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        assert not self.answers()


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target. close(): every connection dropped and new ones
    refused, as when the server behind it is down; reopen(): the server is back at the same
    address. cut_after(n): close once n more bytes went up to the server, i.e. in the middle of
    an upload's body."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = 0  # the first listener picks a free port; reopen() takes the same one
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        self.budget: int | None = None
        self.sent_up = 0
        self._listen()

    def _listen(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR
        self.port = self.listener.getsockname()[1]
        self.listener.settimeout(0.1)
        self.closed = threading.Event()
        threading.Thread(target=self._accept, args=(self.listener, self.closed),
                         daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut_after(self, upload_bytes: int) -> None:
        with self.lock:
            self.budget, self.sent_up = upload_bytes, 0

    def _accept(self, listener: socket.socket, closed: threading.Event) -> None:
        while not closed.is_set():
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, closed),
                             daemon=True).start()

    def _up(self, data: bytes) -> tuple[bytes, bool]:
        """What of `data` may go up to the server, and whether the connection is cut after it."""
        with self.lock:
            if self.budget is None:
                return data, False
            allowed = max(0, self.budget - self.sent_up)
            self.sent_up += len(data)
            if self.sent_up <= self.budget:
                return data, False
            self.budget = None
            return data[:allowed], True

    def _pump(self, client: socket.socket, upstream: socket.socket,
              closed: threading.Event) -> None:
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        try:
            while not closed.is_set():
                for key, _ in selector.select(timeout=0.1):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    cut = False
                    if key.fileobj is client:
                        data, cut = self._up(data)
                    if data:
                        key.data.sendall(data)
                    if cut:
                        threading.Thread(target=self.close, daemon=True).start()
                        return
        except OSError:
            return
        finally:
            selector.close()
            client.close()
            upstream.close()

    def close(self) -> None:
        self.closed.set()
        self.listener.close()
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def reopen(self) -> None:
        self._listen()


class PortalServer:
    """The portal under gunicorn (the production server) with the test settings."""

    def __init__(self, env: dict, log: Path):
        self.port = free_port()
        self.log = log
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "review_portal.settings.test",
                    "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2", **env}
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "PortalServer":
        import urllib.request

        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [str(ROOT / ".venv/bin/gunicorn"), "review_portal.wsgi:application",
                 "--bind", f"127.0.0.1:{self.port}", "--timeout", "20"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)

        def up() -> bool:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=1) as response:
                    return response.status == 200
            except OSError:
                return False

        wait_for(up, timeout=20, what="gunicorn to answer /healthz")
        return self

    def stop(self) -> None:
        process_stop(self.process)
