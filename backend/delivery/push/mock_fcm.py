"""A local stand-in for the FCM HTTP v1 API, for tests and benchmarks (never the internet).

It answers `POST /v1/projects/{project}/messages:send` like FCM does, with Google API error
bodies carrying the FcmError detail that firebase-admin maps to its exception classes, and
`POST /token` like Google's OAuth2 token endpoint (so a service-account credentials file
whose token_uri points here works end to end).

Standalone, for benchmarks (its own process, so it does not share the client's GIL):
    python -m backend.delivery.push.mock_fcm --port 9099 --latency 0.02 --unavailable-rate 0.01

The server is asyncio with a minimal HTTP/1.1 keep-alive parser on a background thread:
stdlib only, and several thousand requests per second on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import itertools
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from types import TracebackType
from typing import Any

FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_SEND_PATH = re.compile(r"^/v1/projects/(?P<project>[^/]+)/messages:send$")
_MAX_HEAD = 64 * 1024


class Reply(StrEnum):
    """What the mock answers for one message; `scripted` lists these per token."""

    OK = "OK"
    UNREGISTERED = "UNREGISTERED"
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    SENDER_ID_MISMATCH = "SENDER_ID_MISMATCH"
    THIRD_PARTY_AUTH_ERROR = "THIRD_PARTY_AUTH_ERROR"
    STALL = "STALL"  # accepted, but answered only after `stall_seconds` (a client timeout)


# reply -> (HTTP status, google.rpc status, message), as FCM sends them.
_ERRORS: dict[Reply, tuple[int, str, str]] = {
    Reply.UNREGISTERED: (404, "NOT_FOUND", "Requested entity was not found."),
    Reply.INVALID_ARGUMENT: (
        400,
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
    ),
    Reply.UNAVAILABLE: (503, "UNAVAILABLE", "The service is currently unavailable."),
    Reply.INTERNAL: (500, "INTERNAL", "Internal error encountered."),
    Reply.QUOTA_EXCEEDED: (429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Send requests'."),
    Reply.SENDER_ID_MISMATCH: (403, "PERMISSION_DENIED", "SenderId mismatch"),
    Reply.THIRD_PARTY_AUTH_ERROR: (401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"),
}
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
_REASONS |= {411: "Length Required", 429: "Too Many Requests", 500: "Internal Server Error"}
_REASONS |= {503: "Service Unavailable"}


def _error_body(status: int, rpc_status: str, message: str, fcm_code: str | None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": status, "message": message, "status": rpc_status}
    if fcm_code:
        error["details"] = [{"@type": FCM_ERROR_TYPE, "errorCode": fcm_code}]
    return {"error": error}


class MockFcm:
    """FCM on loopback. Per message, the first rule that applies answers:
    1. the token's next `scripted` reply (consumed; then the rules below apply again);
    2. over `quota_per_second` in the current one-second window → 429 QUOTA_EXCEEDED;
    3. a token starting with "bad-" → 400 INVALID_ARGUMENT;
    4. `unregistered_rate`: a fixed share of tokens (by hash) is always UNREGISTERED;
    5. `unavailable_rate`: a share of (token, attempt) pairs answers 503 UNAVAILABLE, so a
       retry of the same token may pass;
    6. 200 with `{"name": "projects/<p>/messages/<n>"}`.
    A scripted STALL accepts the message like 6 but answers only after `stall_seconds`, so
    a client with a shorter timeout never learns that it went out. `accepted` lists what
    was accepted (OK and STALL), i.e. what a device would have been sent.
    Rates hash the token with `seed`: the same run gives the same answers whatever the
    arrival order. `retry_after` (seconds, or an HTTP-date string) is sent as Retry-After on
    429 and 503; None sends none. `received` lists (token, message) in arrival order."""

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        latency: float = 0.0,
        unregistered_rate: float = 0.0,
        unavailable_rate: float = 0.0,
        scripted: Mapping[str, Iterable[Reply | str]] | None = None,
        quota_per_second: int | None = None,
        retry_after: float | str | None = None,
        seed: int = 0,
        record: bool = True,
        stall_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.port = port
        self.latency = latency
        self.unregistered_rate = unregistered_rate
        self.unavailable_rate = unavailable_rate
        self.quota_per_second = quota_per_second
        self.retry_after = retry_after
        self.seed = seed
        self.record = record
        self.stall_seconds = stall_seconds
        self.clock = clock  # drives the quota window; tests pass a fake one
        self._scripted = {token: [Reply(r) for r in replies] for token, replies in (scripted or {}).items()}
        self._lock = threading.Lock()
        self._received: list[tuple[str, dict[str, Any]]] = []
        self._accepted: list[tuple[str, dict[str, Any]]] = []
        self._replies: Counter[str] = Counter()
        self._attempts: Counter[str] = Counter()
        self._ids = itertools.count(1)
        self._window = (0, 0)  # (second, admitted requests in it)
        self.token_requests = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    # -- lifecycle -------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL to put in FCM_ENDPOINT, e.g. http://127.0.0.1:40123."""
        if self._server is None:
            raise RuntimeError("MockFcm was never started")
        return f"http://{self.host}:{self.port}"

    def start(self) -> MockFcm:
        if self._thread is not None:
            raise RuntimeError("MockFcm already started")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._serve, self.host, self.port, backlog=2048, limit=_MAX_HEAD)
                )
                self.port = self._server.sockets[0].getsockname()[1]
                self._loop = loop
            except BaseException as exc:  # noqa: BLE001 - handed to start(), which raises it
                failure.append(exc)
                loop.close()
                return
            finally:
                ready.set()
            try:
                loop.run_forever()
            finally:
                # Connections still being served are cancelled, not left pending.
                # Handlers that outlived shutdown's grace period are cancelled, not leaked.
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.wait(pending))
                loop.close()

        self._thread = threading.Thread(target=run, name=f"mock-fcm-{self.port}", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Close the listening socket and every open connection (clients then see
        'connection refused'); idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            # Closing the transports ends the handlers (they read EOF); cancelling them
            # instead trips an asyncio 3.11 callback that logs every cancelled handler.
            for writer in list(self._writers):
                writer.close()
            if self._handlers:
                await asyncio.wait(list(self._handlers), timeout=max(1.0, 2 * self.latency))
            loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        thread.join(timeout=5)
        self._thread = None
        self._loop = None

    def __enter__(self) -> MockFcm:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- what FCM saw ------------------------------------------------------------------

    @property
    def received(self) -> list[tuple[str, dict[str, Any]]]:
        """(token, message) of every send request, in arrival order (a snapshot)."""
        with self._lock:
            return list(self._received)

    @property
    def accepted(self) -> list[tuple[str, dict[str, Any]]]:
        """(token, message) of every message accepted (OK or STALL), in arrival order."""
        with self._lock:
            return list(self._accepted)

    @property
    def replies(self) -> dict[str, int]:
        """How many times each Reply was given (a snapshot)."""
        with self._lock:
            return dict(self._replies)

    @property
    def request_count(self) -> int:
        with self._lock:
            return sum(self._replies.values())

    def script(self, token: str, replies: Iterable[Reply | str]) -> None:
        with self._lock:
            self._scripted.setdefault(token, []).extend(Reply(r) for r in replies)

    # -- HTTP --------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, version = [*lines[0].split(" ", 2), "", ""][:3]
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    writer.write(_response(411, {}, {"error": {"code": 411, "message": "Length Required"}}))
                    await writer.drain()
                    return
                length = int(headers.get("content-length") or 0)
                try:
                    body = await reader.readexactly(length) if length else b""
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                status, extra, payload = self._handle(method, target.split("?", 1)[0], body)
                stall = self.stall_seconds if extra.pop("X-Mock-Stall", None) else 0.0
                if self.latency or stall:
                    await asyncio.sleep(self.latency + stall)
                writer.write(_response(status, extra, payload))
                await writer.drain()
                if version != "HTTP/1.1" or headers.get("connection", "").lower() == "close":
                    return
        except ConnectionError:
            return
        finally:
            self._writers.discard(writer)
            if task is not None:
                self._handlers.discard(task)
            writer.close()

    def _handle(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
        if method == "POST" and path == "/token":
            with self._lock:
                self.token_requests += 1
            return 200, {}, {"access_token": "mock-access-token", "expires_in": 3600, "token_type": "Bearer"}
        match = _SEND_PATH.match(path)
        if method != "POST" or match is None:
            return 404, {}, _error_body(404, "NOT_FOUND", f"No route for {method} {path}", None)
        try:
            message = json.loads(body)["message"]
            token = message.get("token") or ""
        except (ValueError, KeyError, TypeError, AttributeError):
            return 400, {}, _error_body(400, "INVALID_ARGUMENT", "Invalid JSON payload received.", None)
        data = message.get("data") or {}
        payload_ok = token and all(isinstance(v, str) for v in data.values())
        with self._lock:
            if self.record:
                self._received.append((token, message))
            reply = self._decide(token) if payload_ok else Reply.INVALID_ARGUMENT
            self._replies[reply] += 1
            name = f"projects/{match['project']}/messages/{next(self._ids)}"
            if reply in (Reply.OK, Reply.STALL) and self.record:
                self._accepted.append((token, message))
        if reply == Reply.OK:
            return 200, {}, {"name": name}
        if reply == Reply.STALL:
            return 200, {"X-Mock-Stall": "1"}, {"name": name}
        status, rpc_status, text = _ERRORS[reply]
        extra: dict[str, str] = {}
        if reply in (Reply.UNAVAILABLE, Reply.QUOTA_EXCEEDED) and self.retry_after is not None:
            extra["Retry-After"] = _retry_after_value(self.retry_after)
        return status, extra, _error_body(status, rpc_status, text, str(reply))

    def _decide(self, token: str) -> Reply:
        # Called under self._lock.
        attempt = self._attempts[token]
        self._attempts[token] = attempt + 1
        queue = self._scripted.get(token)
        if queue:
            return queue.pop(0)
        if self.quota_per_second is not None:
            second = int(self.clock())
            window, count = self._window if self._window[0] == second else (second, 0)
            if count >= self.quota_per_second:
                return Reply.QUOTA_EXCEEDED
            self._window = (window, count + 1)
        if token.startswith("bad-"):
            return Reply.INVALID_ARGUMENT
        if self.unregistered_rate and self._fraction("unregistered", token) < self.unregistered_rate:
            return Reply.UNREGISTERED
        if self.unavailable_rate and self._fraction(f"unavailable:{attempt}", token) < self.unavailable_rate:
            return Reply.UNAVAILABLE
        return Reply.OK

    def _fraction(self, kind: str, token: str) -> float:
        digest = hashlib.blake2b(f"{self.seed}:{kind}:{token}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64


def _retry_after_value(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _response(status: int, extra: dict[str, str], payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}"]
    head.append("Content-Type: application/json; charset=UTF-8")
    head.append(f"Content-Length: {len(body)}")
    head.extend(f"{k}: {v}" for k, v in extra.items())
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local mock of the FCM HTTP v1 API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9099)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--unregistered-rate", type=float, default=0.0)
    parser.add_argument("--unavailable-rate", type=float, default=0.0)
    parser.add_argument("--quota-per-second", type=int, default=None)
    parser.add_argument("--retry-after", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    mock = MockFcm(
        args.port,
        host=args.host,
        latency=args.latency,
        unregistered_rate=args.unregistered_rate,
        unavailable_rate=args.unavailable_rate,
        quota_per_second=args.quota_per_second,
        retry_after=args.retry_after,
        seed=args.seed,
        record=False,
    )
    with mock, contextlib.suppress(KeyboardInterrupt):
        print(f"mock FCM on {mock.url} (Ctrl-C to stop)", flush=True)
        while True:
            time.sleep(5)
            print(f"requests={mock.request_count} replies={mock.replies}", flush=True)


if __name__ == "__main__":
    main()
