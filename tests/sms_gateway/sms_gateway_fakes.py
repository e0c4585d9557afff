"""Strict fake Dysmsapi and webhook receiver for the sms_gateway tests (no Django).

The fake gateway verifies the Aliyun RPC signature with its own code (not
sms_gateway.signing), so the provider is checked against an independent reading of the spec.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from sms_gateway.providers.aliyun import AliyunProvider

KEY_ID = "test-key-id"
SECRET = "test-secret"


def _encode(value: str) -> str:
    # RFC 3986: everything but unreserved characters is %XX-encoded, with upper-case hex.
    return quote(value.encode("utf-8"), safe="-_.~")


def string_to_sign(method: str, params: dict[str, str]) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(_encode(k) + "=" + _encode(v) for k, v in pairs)
    return method + "&" + _encode("/") + "&" + _encode(canonical)


def expected_signature(method: str, params: dict[str, str], secret: str) -> str:
    to_sign = string_to_sign(method, params)
    mac = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


@dataclass
class Call:
    """One request the fake gateway received."""

    method: str
    query: dict[str, str]
    body: dict[str, str]
    content_type: str
    signature_ok: bool

    @property
    def params(self) -> dict[str, str]:
        return {**self.query, **self.body}

    @property
    def action(self) -> str:
        return self.params.get("Action", "")


@dataclass
class FakeDysmsapi:
    """Records every call, verifies its signature, answers from a script (default: OK)."""

    server: ThreadingHTTPServer
    calls: list[Call] = field(default_factory=list)
    script: deque[tuple[int, Any, float]] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, status: int, body: Any, *, delay: float = 0.0, times: int = 1) -> None:
        """Queue ``times`` answers; ``body`` is a dict (sent as JSON) or raw bytes."""
        self.script.extend([(status, body, delay)] * times)

    def answer_code(self, code: str, message: str = "scripted", *, status: int = 200) -> None:
        self.answer(status, {"RequestId": "REQ-ERR", "Code": code, "Message": message})

    def provider(self, **options: Any) -> AliyunProvider:
        options.setdefault("read_timeout", 2.0)
        return AliyunProvider(access_key_id=KEY_ID, access_key_secret=SECRET, endpoint=self.url, **options)


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeDysmsapi

    def serve(self, method: str) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        query = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        body = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        params = {**query, **body}
        ok = params.get("Signature") == expected_signature(method, params, SECRET)
        call = Call(method, query, body, self.headers.get("Content-Type", ""), ok)
        with self.fake.lock:
            self.fake.calls.append(call)
            scripted = self.fake.script.popleft() if self.fake.script else None
        if not ok:
            # Aliyun's wording; the SDK compares the part after ':' with its own string to sign.
            message = "Specified signature is not matched with our calculation. server string to sign is:"
            payload = {"Code": "SignatureDoesNotMatch", "Message": message + string_to_sign(method, params)}
            status, delay = 400, 0.0
        elif scripted is None:
            n = len(self.fake.calls)
            status, payload, delay = 200, {"RequestId": f"REQ-{n}", "Code": "OK", "BizId": f"BIZ-{n}"}, 0.0
        else:
            status, payload, delay = scripted
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        time.sleep(delay)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def do_GET(self) -> None:
        self.serve("GET")

    def do_POST(self) -> None:
        self.serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[ThreadingHTTPServer]:
    """Run ``handler`` on a free loopback port in a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def running_fake_dysmsapi() -> Iterator[FakeDysmsapi]:
    handler = type("Handler", (FakeHandler,), {})
    with serve(handler) as server:
        handler.fake = FakeDysmsapi(server)
        yield handler.fake


@dataclass
class CallbackReceiver:
    """Collects webhook POST bodies by path (``/report``, ``/reply``)."""

    server: ThreadingHTTPServer
    bodies: dict[str, list[bytes]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{path}"


class ReceiverHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    receiver: CallbackReceiver

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.receiver.lock:
            self.receiver.bodies.setdefault(self.path, []).append(raw)
        data = json.dumps({"code": 0, "msg": "接收成功"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def running_callback_receiver() -> Iterator[CallbackReceiver]:
    handler = type("Receiver", (ReceiverHandler,), {})
    with serve(handler) as server:
        handler.receiver = CallbackReceiver(server)
        yield handler.receiver
