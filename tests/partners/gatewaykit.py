"""Real processes for the reference model gateway (deploy/gateway/): a tiny OpenAI-compatible
model server (a thread of this process, recording the headers each call brought) and nginx run
from the shipped config template, as any user, everything inside one folder.

Shared by tests/partners/test_gateway_nginx.py and tests/benchmarks/bench_gateway.py."""

import base64
import json
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.faultkit import free_port, process_stop, wait_for

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy/gateway/nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"  # Debian puts it in /usr/sbin
PLACEHOLDERS = ("PORTAL_URL", "MODEL_ID", "GATEWAY_BASIC", "UPSTREAM", "LISTEN")


def render(values: dict) -> str:
    """The shipped template with its ${NAME} placeholders filled, as
    `envsubst '${PORTAL_URL} ...'` does (nginx's own $variables are left alone)."""
    assert set(values) == set(PLACEHOLDERS), sorted(values)
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace("${" + name + "}", str(value))
    left = re.findall(r"\$\{[A-Z_]+\}", text)
    assert not left, f"placeholders nobody filled: {left}"
    return text


def basic(client_id: str, secret: str) -> str:
    return base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def completion(model: str, content: str) -> dict:
    return {"id": "chatcmpl-gateway-test", "object": "chat.completion",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}


class ModelServer:
    """POST /v1/chat/completions answers a valid chat.completion echoing the last message; every
    call's headers are kept in `calls` (what reached the model)."""

    def __init__(self):
        self.calls: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes; with Nagle on, a kept-alive client waits
            # for the delayed ACK (~40 ms) before the body arrives.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, {"error": {"message": "Not found."}})
                    return
                server.calls.append({k.lower(): v for k, v in self.headers.items()})
                last = (body.get("messages") or [{}])[-1].get("content", "")
                self._send(200, completion(body.get("model", "model"), f"echo: {last}"))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> "ModelServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class NginxGateway:
    """nginx with the shipped config, rendered into `folder` (its prefix: pid, logs, temp)."""

    def __init__(self, folder: Path, *, portal_url: str, model_id: int, client_id: str,
                 secret: str, upstream: str):
        self.folder = folder
        self.port = free_port()
        (folder / "tmp").mkdir(parents=True, exist_ok=True)
        self.conf = folder / "nginx.conf"
        self.conf.write_text(render({
            "PORTAL_URL": portal_url, "MODEL_ID": model_id,
            "GATEWAY_BASIC": basic(client_id, secret), "UPSTREAM": upstream,
            "LISTEN": f"127.0.0.1:{self.port}"}))
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text()[-3000:] if path.exists() else ""

    def start(self) -> "NginxGateway":
        # -e: nginx's own start-up messages go to the folder too, not /var/log/nginx.
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.folder), "-c", str(self.conf), "-e", "error.log",
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

        def up() -> bool:
            assert self.process.poll() is None, f"nginx exited: {self.log()}"
            try:
                with urllib.request.urlopen(f"{self.base}/", timeout=1):
                    return True
            except urllib.error.HTTPError:
                return True  # nginx answered (404 outside /v1/)
            except OSError:
                return False

        wait_for(up, timeout=10, what="nginx to answer")
        return self

    def stop(self) -> None:
        process_stop(self.process)
