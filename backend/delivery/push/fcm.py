"""Push through Firebase Cloud Messaging (HTTP v1) with firebase-admin's `send_each_async`.

firebase-admin builds, validates and sends every message, authenticates and maps FCM's
answers to its exceptions; what it runs on is ours, once per worker process: an event loop
on its own thread, and one httpx client whose transport keeps HTTP/1.1 connections alive
for the life of the process (_Http11Transport; httpx's own cost ~0.8 ms of CPU per request
here). Messages go out in chunks of `CHUNK_SIZE` (one `send_each_async` call each), at most
`FCM_CONCURRENCY` requests in flight, started at most `FCM_MAX_PER_SECOND` a second (FCM's
project quota is 10,000/s). The SDK's own transports would retry 500/503 four times in
place and sleep out Retry-After in the worker; ours retries only a connection that could
not be made (nothing reached FCM). Every other failure comes back as RETRY with FCM's
Retry-After, and the delivery task reschedules it with backoff_delay.

Measured with bench/scenarios/push.py's mock (50 ms, 1 % UNREGISTERED, 0.5 % 503): 0.32-0.45
ms of CPU per push in the sending process, where `send_each` (a thread per message, a new
thread pool per batch of 500, requests) took 0.74-1.1 ms."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import ssl
import threading
import time
import urllib.request
from collections import OrderedDict
from collections.abc import Coroutine, Generator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import certifi
import firebase_admin
import google.auth.credentials
import google.auth.exceptions
import google.auth.transport.requests
import h11
import httpx
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from firebase_admin import credentials, exceptions, messaging
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .base import PushBackend, PushMessage, PushOutcome, PushResult
from .retry import parse_retry_after

BATCH_SIZE = 500  # send_each_async's limit per call
# Messages per send_each_async call. A call ends with its slowest answer, so small chunks
# in a sliding window keep the pipe full where one call of 500 would idle on a straggler.
CHUNK_SIZE = 100
DEFAULT_APP_NAME = "jiaxiao-push"
DEFAULT_TIMEOUT = 10.0  # firebase-admin's own default (120 s) would stall a worker
DEFAULT_CONCURRENCY = 500  # requests in flight per process (and pooled connections)
# Requests started per second per process. FCM's quota is 10,000/s per project: keep
# push processes x FCM_MAX_PER_SECOND (+ one chunk each) at or under it.
DEFAULT_MAX_PER_SECOND = 4_000
FCM_HOST = "https://fcm.googleapis.com"
GOOD_PAYLOADS_SIZE = 1024
# Only a connection that could not be made is retried in place (httpx: connect error or
# connect timeout): nothing reached FCM. 5xx/429 come back to us as RETRY and the delivery
# task reschedules with backoff_delay; firebase-admin's own transports would instead retry
# 500/503 four times and sleep out Retry-After in the worker.
_CONNECT_RETRIES = 1
# The same for the SDK's synchronous requests session, which nothing here sends through
# (send_each_async is async), so that no path of this app ever retries 5xx in place.
_TRANSPORT_RETRY = Retry(
    total=1,
    connect=1,
    read=False,
    status=0,
    other=0,
    redirect=0,
    allowed_methods=None,
    respect_retry_after_header=False,
    raise_on_status=False,
)
_T = TypeVar("_T")

_RETRYABLE_ERRORS = (
    exceptions.UnavailableError,
    exceptions.InternalError,
    exceptions.DeadlineExceededError,
    exceptions.ResourceExhaustedError,  # includes messaging.QuotaExceededError
)
_NETWORK_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    httpx.TransportError,
    google.auth.exceptions.TransportError,
    ConnectionError,
    TimeoutError,
)
# FCM's own error codes, more telling than the HTTP-level ones the exceptions carry.
_FCM_CODES: tuple[tuple[type[Exception], str], ...] = (
    (messaging.UnregisteredError, "UNREGISTERED"),
    (messaging.QuotaExceededError, "QUOTA_EXCEEDED"),
    (messaging.SenderIdMismatchError, "SENDER_ID_MISMATCH"),
    (messaging.ThirdPartyAuthError, "THIRD_PARTY_AUTH_ERROR"),
)


@dataclass(frozen=True)
class FcmConfig:
    """Where and as whom to send. With `endpoint` (a local mock) and no credentials file the
    requests are anonymous; with neither, Google's application-default credentials apply."""

    project_id: str | None = None
    credentials_file: str | None = None
    endpoint: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    app_name: str = DEFAULT_APP_NAME
    concurrency: int = DEFAULT_CONCURRENCY
    max_per_second: float = DEFAULT_MAX_PER_SECOND

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ImproperlyConfigured("FCM_CONCURRENCY must be at least 1")
        if not self.max_per_second > 0:
            raise ImproperlyConfigured("FCM_MAX_PER_SECOND must be above 0")

    @classmethod
    def from_settings(cls) -> FcmConfig:
        endpoint = getattr(settings, "FCM_ENDPOINT", None) or None
        return cls(
            project_id=getattr(settings, "FCM_PROJECT_ID", None) or None,
            credentials_file=getattr(settings, "FCM_CREDENTIALS_FILE", None) or None,
            endpoint=str(endpoint).rstrip("/") if endpoint else None,
            timeout=float(getattr(settings, "FCM_HTTP_TIMEOUT", DEFAULT_TIMEOUT)),
            concurrency=int(getattr(settings, "FCM_CONCURRENCY", DEFAULT_CONCURRENCY)),
            max_per_second=float(getattr(settings, "FCM_MAX_PER_SECOND", DEFAULT_MAX_PER_SECOND)),
        )


class FcmPushBackend(PushBackend):
    """Sends in chunks of CHUNK_SIZE, several at once, and maps every answer to a
    PushOutcome, in the order given; never raises for delivery problems. Urgent messages get Android priority high and apns-priority 10 (with
    the default sound); others normal / 5."""

    name = "fcm"

    def __init__(self, config: FcmConfig | None = None) -> None:
        self.config = config or FcmConfig.from_settings()
        if self.config.endpoint and not self.config.project_id:
            raise ImproperlyConfigured("FCM_ENDPOINT needs FCM_PROJECT_ID")

    def send(self, messages: Sequence[PushMessage]) -> list[PushResult]:
        if not messages:
            return []
        results: list[PushResult] = []
        invalid: list[int] = []  # INVALID_ARGUMENT answers, attributed once all are in
        for index, (result, is_invalid_argument) in enumerate(self._send_all(messages)):
            results.append(result)
            if is_invalid_argument:
                invalid.append(index)
        fingerprints = _fingerprints(messages)
        sent_ok = {fp for fp, r in zip(fingerprints, results, strict=True) if r.outcome == PushOutcome.SENT}
        _good_payloads.add_all(sent_ok)
        for index in invalid:
            # INVALID_ARGUMENT does not say whether the token or the payload is wrong: blame
            # the token only when the very same payload reached some other device.
            known_good = fingerprints[index] in sent_ok or _good_payloads.contains(fingerprints[index])
            outcome = PushOutcome.INVALID_TOKEN if known_good else PushOutcome.INVALID_PAYLOAD
            results[index] = PushResult(messages[index].token, outcome, error_code="INVALID_ARGUMENT")
        return results

    def close(self) -> None:
        _release_app(self.config)

    def _send_all(self, messages: Sequence[PushMessage]) -> list[tuple[PushResult, bool]]:
        try:
            app = _firebase_app(self.config)
            _fresh_token(app)
            runtime = _runtime(app, self.config)
            fcm_messages = _to_fcm_all(messages)
        except Exception as exc:  # noqa: BLE001 - credentials, config, threads: never crash the task
            outcome, code = _classify_batch_failure(exc)
            return [(PushResult(m.token, outcome, error_code=code), False) for m in messages]
        size = runtime.chunk_size
        starts = range(0, len(messages), size)
        replies = runtime.run(_send_chunks(app, [fcm_messages[i : i + size] for i in starts], runtime))
        answers: list[tuple[PushResult, bool]] = []
        for start, reply in zip(starts, replies, strict=True):
            answers.extend(_answers(messages[start : start + size], reply))
        return answers


async def _send_chunks(
    app: firebase_admin.App, chunks: list[list[messaging.Message]], runtime: _Runtime
) -> list[messaging.BatchResponse | Exception]:
    """Every chunk through send_each_async, as many at once as keep at most `concurrency`
    requests in flight in the process; a chunk waits for the pace (`max_per_second`)."""

    async def one(chunk: list[messaging.Message]) -> messaging.BatchResponse | Exception:
        async with runtime.window:
            await runtime.pace.wait(len(chunk))
            try:
                return await messaging.send_each_async(chunk, app=app)
            except Exception as exc:  # noqa: BLE001 - answered per message by the caller
                return exc

    return list(await asyncio.gather(*(one(chunk) for chunk in chunks)))


def _answers(
    chunk: Sequence[PushMessage], reply: messaging.BatchResponse | Exception
) -> list[tuple[PushResult, bool]]:
    if isinstance(reply, Exception):
        outcome, code = _classify_batch_failure(reply)
        return [(PushResult(m.token, outcome, error_code=code), False) for m in chunk]
    answers: list[tuple[PushResult, bool]] = []
    for message, response in zip(chunk, reply.responses, strict=True):
        if response.success:
            answers.append(
                (PushResult(message.token, PushOutcome.SENT, message_id=response.message_id), False)
            )
        elif isinstance(response.exception, exceptions.InvalidArgumentError):
            answers.append((PushResult(message.token, PushOutcome.INVALID_PAYLOAD), True))
        else:
            answers.append((_classify_error(message.token, response.exception), False))
    return answers


def _to_fcm_all(messages: Sequence[PushMessage]) -> list[messaging.Message]:
    """The SDK's messages. The notification and the Android and APNs blocks depend only on
    title, body, collapse key, urgency and TTL, so messages that share them (a dispatch's
    recipients) share the objects; only the data and the token are per message."""
    shared: dict[tuple[str, str, str | None, bool, int | None], _Parts] = {}
    now = int(time.time())
    out: list[messaging.Message] = []
    for message in messages:
        key = (message.title, message.body, message.collapse_key, message.urgent, message.ttl_seconds)
        parts = shared.get(key)
        if parts is None:
            parts = shared[key] = _parts(message, now)
        fcm_message = messaging.Message(
            notification=parts.notification,
            data=dict(message.data) or None,
            android=parts.android,
            apns=parts.apns,
        )
        # The apps register FCM registration tokens. firebase-admin 7.7 deprecates
        # Message(token=...) in favour of Firebase installation IDs, warning from __init__ once
        # per message; the attribute itself is still encoded as "token", so it is set afterwards.
        fcm_message.token = message.token
        out.append(fcm_message)
    return out


@dataclass(frozen=True)
class _Parts:
    notification: messaging.Notification
    android: messaging.AndroidConfig
    apns: messaging.APNSConfig


def _parts(message: PushMessage, now: int) -> _Parts:
    apns_headers = {"apns-priority": "10" if message.urgent else "5", "apns-push-type": "alert"}
    if message.collapse_key:
        apns_headers["apns-collapse-id"] = message.collapse_key
    ttl = None
    if message.ttl_seconds is not None:
        ttl = timedelta(seconds=message.ttl_seconds)
        # APNs wants an expiry instant; "0" means deliver now or never, as ttl 0 does on FCM.
        expires = 0 if message.ttl_seconds == 0 else now + message.ttl_seconds
        apns_headers["apns-expiration"] = str(expires)
    sound = "default" if message.urgent else None
    return _Parts(
        notification=messaging.Notification(title=message.title, body=message.body),
        android=messaging.AndroidConfig(
            priority="high" if message.urgent else "normal",
            ttl=ttl,
            collapse_key=message.collapse_key,
            notification=messaging.AndroidNotification(sound=sound) if sound else None,
        ),
        apns=messaging.APNSConfig(
            headers=apns_headers,
            payload=messaging.APNSPayload(aps=messaging.Aps(sound=sound)) if sound else None,
        ),
    )


def _classify_error(token: str, error: Exception | None) -> PushResult:
    code = _error_code(error)
    if isinstance(error, messaging.UnregisteredError):
        return PushResult(token, PushOutcome.UNREGISTERED, error_code=code)
    if isinstance(error, _RETRYABLE_ERRORS) or _caused_by_network(error):
        return PushResult(token, PushOutcome.RETRY, error_code=code, retry_after=_retry_after(error))
    return PushResult(token, PushOutcome.FAILED, error_code=code)


def _classify_batch_failure(error: Exception) -> tuple[PushOutcome, str]:
    if isinstance(error, _RETRYABLE_ERRORS) or _caused_by_network(error):
        return PushOutcome.RETRY, _error_code(error)
    for cause in _causes(error):
        if isinstance(cause, google.auth.exceptions.RefreshError):
            # An OAuth refresh that Google marks retryable is an outage, not a bad key.
            retryable = bool(getattr(cause, "retryable", False))
            return (PushOutcome.RETRY if retryable else PushOutcome.FAILED), "UNAUTHENTICATED"
        if isinstance(cause, google.auth.exceptions.DefaultCredentialsError | OSError | ValueError):
            return PushOutcome.FAILED, "CONFIGURATION"
    return PushOutcome.FAILED, _error_code(error)


def _error_code(error: BaseException | None) -> str:
    for cls, code in _FCM_CODES:
        if isinstance(error, cls):
            return code
    if isinstance(error, exceptions.FirebaseError) and not isinstance(error, exceptions.UnknownError):
        return str(error.code)
    return "UNAVAILABLE" if _caused_by_network(error) else "UNKNOWN"


def _causes(error: BaseException | None) -> list[BaseException]:
    chain: list[BaseException] = []
    while error is not None and error not in chain and len(chain) < 8:
        chain.append(error)
        cause = getattr(error, "cause", None) if isinstance(error, exceptions.FirebaseError) else None
        error = cause if isinstance(cause, BaseException) else error.__cause__ or error.__context__
    return chain


def _caused_by_network(error: BaseException | None) -> bool:
    return any(isinstance(e, _NETWORK_ERRORS) for e in _causes(error))


def _retry_after(error: Exception | None) -> float | None:
    response = getattr(error, "http_response", None)
    headers = getattr(response, "headers", None)
    return parse_retry_after(headers.get("Retry-After")) if headers is not None else None


def _payload(message: PushMessage) -> tuple[Any, ...]:
    # Everything but the token: the part of the request that could be the payload's fault.
    return (
        message.title,
        message.body,
        tuple(sorted(message.data.items())),
        message.collapse_key,
        message.urgent,
        message.ttl_seconds,
    )


def _fingerprint(message: PushMessage) -> str:
    return hashlib.sha256(json.dumps(_payload(message), ensure_ascii=False).encode()).hexdigest()


def _fingerprints(messages: Sequence[PushMessage]) -> list[str]:
    """_fingerprint of each message, computed once per distinct payload."""
    memo: dict[tuple[Any, ...], str] = {}
    out: list[str] = []
    for message in messages:
        payload = _payload(message)
        fingerprint = memo.get(payload)
        if fingerprint is None:
            fingerprint = memo[payload] = _fingerprint(message)
        out.append(fingerprint)
    return out


class _FingerprintLru:
    """Payload fingerprints FCM accepted recently in this process."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def add_all(self, fingerprints: set[str]) -> None:
        with self._lock:
            for fingerprint in fingerprints:
                self._items[fingerprint] = None
                self._items.move_to_end(fingerprint)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def contains(self, fingerprint: str) -> bool:
        with self._lock:
            return fingerprint in self._items


_good_payloads = _FingerprintLru(GOOD_PAYLOADS_SIZE)


# -- the named firebase app, one per process and configuration ------------------------------


class _NoTokenCredentials(google.auth.credentials.AnonymousCredentials):  # type: ignore[misc]
    # On a 401 (THIRD_PARTY_AUTH_ERROR) google-auth's session refreshes the credentials and
    # resends once, as it does with real ones; plain anonymous credentials would raise there
    # and sink the whole batch.
    def refresh(self, request: Any) -> None:
        return None


class _AnonymousCredential(credentials.Base):  # type: ignore[misc]
    """No OAuth token: for a local mock that does not check one."""

    def get_credential(self) -> google.auth.credentials.Credentials:
        return _NoTokenCredentials()


_apps_lock = threading.Lock()
_app_configs: dict[str, FcmConfig] = {}


def _firebase_app(config: FcmConfig) -> firebase_admin.App:
    """The named app for `config`, initialised on first use; a changed configuration (tests
    pointing at another mock) replaces it."""
    with _apps_lock:
        try:
            app = firebase_admin.get_app(config.app_name)
        except ValueError:
            app = None
        if app is not None and _app_configs.get(config.app_name) == config:
            return app
        if app is not None:
            _delete_app(app)
        options: dict[str, Any] = {"httpTimeout": config.timeout}
        if config.project_id:
            options["projectId"] = config.project_id
        app = firebase_admin.initialize_app(_credential(config), options, name=config.app_name)
        try:
            _configure_transport(messaging._get_messaging_service(app), config)
        except BaseException:
            _delete_app(app)
            raise
        _app_configs[config.app_name] = config
        return app


def _fresh_token(app: firebase_admin.App) -> None:
    # An OAuth refresh inside send_each_async would block the event loop and fail chunks
    # piecemeal although others were sent; refreshing here, before anything goes out, keeps
    # such failures all-or-nothing. get_credential() returns the very object the messaging
    # client authorises with.
    google_credential = app.credential.get_credential()
    if not google_credential.valid:
        google_credential.refresh(google.auth.transport.requests.Request())


def _credential(config: FcmConfig) -> credentials.Base:
    if config.credentials_file:
        return credentials.Certificate(config.credentials_file)
    if config.endpoint:
        return _AnonymousCredential()
    return credentials.ApplicationDefault()


def _configure_transport(service: Any, config: FcmConfig) -> None:
    # firebase-admin has no public endpoint or transport option. `_fcm_url`, `_client.session`
    # and `_async_client._async_client` are private attributes of messaging._MessagingService
    # (7.x); if they move, this fails loudly at first send rather than silently reaching the
    # real FCM or retrying 5xx in place.
    if not (
        hasattr(service, "_fcm_url")
        and hasattr(service, "_client")
        and isinstance(
            getattr(getattr(service, "_async_client", None), "_async_client", None), httpx.AsyncClient
        )
    ):
        raise RuntimeError(f"firebase-admin {firebase_admin.__version__}: messaging service layout changed")
    prefix = FCM_HOST
    if config.endpoint:
        service._fcm_url = f"{config.endpoint}/v1/projects/{config.project_id}/messages:send"
        prefix = config.endpoint
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=_TRANSPORT_RETRY)
    service._client.session.mount(prefix, adapter)


class _Pace:
    """At most `rate` requests started per second, evenly: a chunk waits until the bucket
    (which holds at most one chunk's worth) has room, so any one-second window sees at most
    `rate` + one chunk. Used on the runtime's event loop only."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.allowance = float(burst)
        self.stamp = time.monotonic()

    async def wait(self, count: int) -> None:
        while True:
            now = time.monotonic()
            self.allowance = min(self.burst, self.allowance + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.allowance >= count or self.allowance >= self.burst:
                self.allowance -= count
                return
            await asyncio.sleep((min(count, self.burst) - self.allowance) / self.rate)


class _CredentialAuth(httpx.Auth):
    """What firebase-admin's GoogleAuthCredentialFlow does (the credential's headers on each
    request; on a 401 refresh and resend, twice at most), with one google-auth transport for
    refreshes instead of a new requests.Session per request."""

    max_refreshes = 2

    def __init__(self, credential: google.auth.credentials.Credentials) -> None:
        self._credential = credential
        self._auth_request = google.auth.transport.requests.Request()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        for refreshes in range(self.max_refreshes + 1):
            self._credential.before_request(
                self._auth_request, request.method, str(request.url), request.headers
            )
            response = yield request
            if response.status_code != 401 or refreshes == self.max_refreshes:
                return
            self._credential.refresh(self._auth_request)


class _Connection:
    """One keep-alive HTTP/1.1 connection: asyncio streams, h11 for the protocol."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.protocol = h11.Connection(h11.CLIENT)

    @property
    def usable(self) -> bool:
        # An idle connection the server closed has seen EOF (the loop reads it promptly).
        return not (self.reader.at_eof() or self.writer.is_closing())

    async def exchange(
        self, request: httpx.Request, body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        protocol = self.protocol
        data = protocol.send(
            h11.Request(method=request.method, target=request.url.raw_path, headers=request.headers.raw)
        )
        if body:
            data = (data or b"") + (protocol.send(h11.Data(data=body)) or b"")
        self.writer.write((data or b"") + (protocol.send(h11.EndOfMessage()) or b""))
        await self.writer.drain()
        status, headers, chunks = 0, [], []
        while True:
            event = protocol.next_event()
            if event is h11.NEED_DATA:
                protocol.receive_data(await self.reader.read(65536))
            elif isinstance(event, h11.Response):
                status, headers = event.status_code, list(event.headers.raw_items())
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return status, headers, b"".join(chunks)
            elif isinstance(event, h11.ConnectionClosed):
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a response.", request=request
                )
            # InformationalResponse (1xx): keep reading.

    def reuse(self) -> bool:
        """Ready the connection for its next request; False when it cannot take one."""
        protocol = self.protocol
        if protocol.our_state is h11.DONE and protocol.their_state is h11.DONE:
            protocol.start_next_cycle()
            return self.usable
        return False

    def close(self) -> None:
        self.writer.close()


class _Http11Transport(httpx.AsyncBaseTransport):
    """Keep-alive HTTP/1.1 (TLS for https) over asyncio streams, at most `connections` at
    once, for the requests firebase-admin's send_each_async makes. httpcore, httpx's own
    transport, cost ~0.8 ms of CPU per request here (per-operation anyio cancel scopes and
    timers, and a pool that walks all its connections, O(n²), on every request and answer):
    most of a push. h11 does the HTTP; a connection that cannot be made is retried once, and
    nothing else is retried in place."""

    def __init__(self, connections: int) -> None:
        self._slots = asyncio.Semaphore(connections)
        self._idle: dict[tuple[bytes, bytes, int], list[_Connection]] = {}
        self._ssl: ssl.SSLContext | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        body = await request.aread()
        async with self._slots:
            url = request.url
            origin = (url.raw_scheme, url.raw_host, url.port or (443 if url.scheme == "https" else 80))
            connection = self._idle_connection(origin) or await self._connect(
                request, origin, timeouts.get("connect")
            )
            try:
                async with asyncio.timeout(timeouts.get("read")):
                    status, headers, content = await connection.exchange(request, body)
            except BaseException as exc:
                connection.close()
                if isinstance(exc, TimeoutError):
                    raise httpx.ReadTimeout("Timed out waiting for FCM's answer.", request=request) from None
                if isinstance(exc, h11.ProtocolError):
                    raise httpx.RemoteProtocolError(str(exc), request=request) from exc
                if isinstance(exc, OSError):
                    raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
                raise
            if connection.reuse():
                self._idle.setdefault(origin, []).append(connection)
            else:
                connection.close()
        return httpx.Response(
            status, headers=headers, content=content, extensions={"http_version": b"HTTP/1.1"}
        )

    def _idle_connection(self, origin: tuple[bytes, bytes, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.usable:
                return connection
            connection.close()
        return None

    async def _connect(
        self, request: httpx.Request, origin: tuple[bytes, bytes, int], seconds: float | None
    ) -> _Connection:
        scheme, host, port = origin
        context = self._ssl_context() if scheme == b"https" else None
        error: httpx.TransportError | None = None
        for _ in range(1 + _CONNECT_RETRIES):
            try:
                async with asyncio.timeout(seconds):
                    reader, writer = await asyncio.open_connection(
                        host.decode("ascii"),
                        port,
                        ssl=context,
                        server_hostname=host.decode("ascii") if context else None,
                    )
                return _Connection(reader, writer)
            except TimeoutError:
                error = httpx.ConnectTimeout("Timed out connecting to FCM.", request=request)
            except OSError as exc:
                error = httpx.ConnectError(str(exc) or type(exc).__name__, request=request)
        assert error is not None
        raise error

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context(cafile=certifi.where())
            self._ssl.set_alpn_protocols(["http/1.1"])
        return self._ssl

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()


def _transport(config: FcmConfig) -> httpx.AsyncBaseTransport:
    """Direct connections, or httpx's own transport through an egress proxy when the
    environment names one for FCM's host (as the SDK's client would use)."""
    host = httpx.URL(config.endpoint or FCM_HOST).host
    proxy = urllib.request.getproxies().get(
        "https" if (config.endpoint or FCM_HOST).startswith("https") else "http"
    )
    if proxy and not urllib.request.proxy_bypass(host):
        limits = httpx.Limits(
            max_connections=config.concurrency, max_keepalive_connections=config.concurrency
        )
        return httpx.AsyncHTTPTransport(http2=True, retries=_CONNECT_RETRIES, limits=limits, proxy=proxy)
    return _Http11Transport(config.concurrency)


class _Runtime:
    """What sends for one firebase app in one process: an event loop on its own thread and
    one httpx client installed in the app's messaging service, kept for the life of the
    process (keep-alive connections, HTTP/2 to FCM), with connect-only retries and a pool
    as large as the requests allowed in flight."""

    def __init__(self, app: firebase_admin.App, config: FcmConfig) -> None:
        self.app = app
        self.pid = os.getpid()
        self.concurrency = config.concurrency
        self.chunk_size = min(CHUNK_SIZE, config.concurrency)
        self.pace = _Pace(config.max_per_second, self.chunk_size)
        self.window = asyncio.Semaphore(max(1, config.concurrency // self.chunk_size))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=f"fcm-{app.name}", daemon=True)
        self.thread.start()
        service = messaging._get_messaging_service(app)
        sdk_client: httpx.AsyncClient = service._async_client._async_client
        self.client = httpx.AsyncClient(
            timeout=config.timeout,
            headers=sdk_client.headers,
            auth=_CredentialAuth(app.credential.get_credential()),
            transport=_transport(config),
        )
        service._async_client._async_client = self.client

    @property
    def alive(self) -> bool:
        return self.pid == os.getpid() and self.thread.is_alive()

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            # The caller gave up (a task's time limit, a signal): stop its requests rather
            # than let them finish unseen (their answers would never be recorded).
            future.cancel()
            raise

    def retire(self) -> None:
        """Close, or, in a process forked from the one that made it, leave it alone for good.
        A forked child shares the parent's epoll instance: closing (or garbage-collecting) the
        inherited loop or connections would unregister the parent's sockets from it."""
        if self.pid == os.getpid():
            self.close()
            return
        _inherited.append(self)
        service = messaging._get_messaging_service(self.app)
        if service._async_client._async_client is self.client:
            # firebase_admin.delete_app() closes the service's client: give it an unused one
            # (with the SDK's headers, which the next runtime copies).
            service._async_client._async_client = httpx.AsyncClient(headers=self.client.headers)

    def close(self) -> None:
        if not self.alive:
            return
        with contextlib.suppress(Exception):
            self.run(self.client.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()


_runtimes: dict[str, _Runtime] = {}
# Runtimes inherited through a fork, kept referenced (never closed, never collected) for the
# life of the process: see _Runtime.retire.
_inherited: list[_Runtime] = []


def _runtime(app: firebase_admin.App, config: FcmConfig) -> _Runtime:
    """This process's runtime for `app`; a new one after a fork or when the app changed."""
    with _apps_lock:
        runtime = _runtimes.get(app.name)
        if runtime is not None and runtime.app is app and runtime.alive:
            return runtime
        if runtime is not None:
            runtime.retire()
        runtime = _runtimes[app.name] = _Runtime(app, config)
        return runtime


def _release_app(config: FcmConfig) -> None:
    with _apps_lock:
        if _app_configs.get(config.app_name) != config:
            return
        try:
            app = firebase_admin.get_app(config.app_name)
        except ValueError:
            app = None
        if app is not None:
            _delete_app(app)


def _delete_app(app: firebase_admin.App) -> None:
    _app_configs.pop(app.name, None)
    runtime = _runtimes.pop(app.name, None)
    if runtime is not None:
        runtime.retire()
    # ValueError: already gone; RuntimeError: its async client cannot close inside a running
    # event loop. The app is unregistered either way; idle connections go with the GC.
    with contextlib.suppress(ValueError, RuntimeError):
        firebase_admin.delete_app(app)
