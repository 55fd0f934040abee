"""A real S3-protocol server for the storage tests: moto in server mode, in its own process, on a
free port of its own, and a TCP proxy in front of it that a test closes (the store is down) or
cuts mid-transfer (the store died during an upload) while moto keeps what it holds, so the test
can still look inside the bucket afterwards.

Fixtures: `s3_server` (one per session), `s3` (a bucket of its own for each test, the portal's
STORAGES pointed at it in this process, and `s3.env` for a worker process), `s3_behind_proxy`
(the same, reached through a proxy the test controls).
"""

import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field

import boto3
import pytest
from botocore.config import Config

from review_portal.settings.base import private_storages
from tests.faultkit import TcpProxy, free_port, wait_for

KEY, SECRET, REGION = "portal-test-key", "portal-test-secret", "us-east-1"  # moto accepts any


class MotoServer:
    """`python -m moto.server` on 127.0.0.1; an in-memory S3 that forgets everything on stop."""

    def __init__(self):
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, url: str | None = None):
        return boto3.client("s3", endpoint_url=url or self.url, aws_access_key_id=KEY,
                            aws_secret_access_key=SECRET, region_name=REGION,
                            config=Config(retries={"total_max_attempts": 1}, connect_timeout=2,
                                          read_timeout=10))

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def start(self) -> "MotoServer":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.answers, timeout=30, what="the moto S3 server to listen")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@dataclass
class Bucket:
    server: MotoServer
    name: str
    endpoint: str
    env: dict = field(default_factory=dict)

    def client(self):
        """Straight to moto (not through a proxy): what the bucket really holds."""
        return self.server.client()

    def keys(self, prefix: str = "") -> list[str]:
        answer = self.client().list_objects_v2(Bucket=self.name, Prefix=prefix)
        return sorted(item["Key"] for item in answer.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client().get_object(Bucket=self.name, Key=key)["Body"].read()


def use_bucket(settings, server: MotoServer, endpoint: str, *, timeout: int = 2) -> Bucket:
    """A new bucket on `server`, and the portal's private storages on it (through `endpoint`),
    as a process started with `Bucket.env` would configure them."""
    name = f"portal-{uuid.uuid4().hex[:12]}"
    server.client().create_bucket(Bucket=name)
    env = {"STORAGE_BACKEND": "s3", "S3_BUCKET": name, "S3_ENDPOINT_URL": endpoint,
           "S3_ACCESS_KEY_ID": KEY, "S3_SECRET_ACCESS_KEY": SECRET, "S3_REGION": REGION,
           "S3_TIMEOUT": str(timeout)}
    settings.STORAGES = {**settings.STORAGES, **private_storages(env)}
    settings.STORAGE_BACKEND = "s3"
    return Bucket(server=server, name=name, endpoint=endpoint, env=env)


@pytest.fixture(scope="session")
def s3_server():
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def s3(s3_server, settings) -> Bucket:
    return use_bucket(settings, s3_server, s3_server.url)


@pytest.fixture
def s3_proxy(s3_server):
    proxy = TcpProxy(("127.0.0.1", s3_server.port))
    yield proxy
    proxy.close()


@pytest.fixture
def s3_behind_proxy(s3_server, s3_proxy, settings) -> Bucket:
    return use_bucket(settings, s3_server, s3_proxy.url)
