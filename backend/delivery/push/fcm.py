"""Push through Firebase Cloud Messaging (HTTP v1) with firebase-admin's `send_each`."""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import firebase_admin
import google.auth.credentials
import google.auth.exceptions
import google.auth.transport.requests
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from firebase_admin import credentials, exceptions, messaging
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .base import PushBackend, PushMessage, PushOutcome, PushResult
from .retry import parse_retry_after

BATCH_SIZE = 500  # send_each's limit
DEFAULT_APP_NAME = "jiaxiao-push"
DEFAULT_TIMEOUT = 10.0  # firebase-admin's own default (120 s) would stall a worker
FCM_HOST = "https://fcm.googleapis.com"
GOOD_PAYLOADS_SIZE = 1024

# Only a refused connection is retried in place (nothing reached FCM). 5xx/429 come back to
# us as RETRY and the delivery task reschedules with backoff_delay: firebase-admin's default
# adapter would instead retry 500/503 four times and *sleep* out Retry-After in the worker.
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

    @classmethod
    def from_settings(cls) -> FcmConfig:
        endpoint = getattr(settings, "FCM_ENDPOINT", None) or None
        return cls(
            project_id=getattr(settings, "FCM_PROJECT_ID", None) or None,
            credentials_file=getattr(settings, "FCM_CREDENTIALS_FILE", None) or None,
            endpoint=str(endpoint).rstrip("/") if endpoint else None,
            timeout=float(getattr(settings, "FCM_HTTP_TIMEOUT", DEFAULT_TIMEOUT)),
        )


class FcmPushBackend(PushBackend):
    """Sends in batches of 500 and maps every answer to a PushOutcome; never raises for
    delivery problems. Urgent messages get Android priority high and apns-priority 10 (with
    the default sound); others normal / 5."""

    name = "fcm"

    def __init__(self, config: FcmConfig | None = None) -> None:
        self.config = config or FcmConfig.from_settings()
        if self.config.endpoint and not self.config.project_id:
            raise ImproperlyConfigured("FCM_ENDPOINT needs FCM_PROJECT_ID")

    def send(self, messages: Sequence[PushMessage]) -> list[PushResult]:
        results: list[PushResult] = []
        invalid: list[int] = []  # INVALID_ARGUMENT answers, attributed once all are in
        for start in range(0, len(messages), BATCH_SIZE):
            batch = messages[start : start + BATCH_SIZE]
            for offset, (result, is_invalid_argument) in enumerate(self._send_batch(batch)):
                results.append(result)
                if is_invalid_argument:
                    invalid.append(start + offset)
        fingerprints = [_fingerprint(m) for m in messages]
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

    def _send_batch(self, batch: Sequence[PushMessage]) -> list[tuple[PushResult, bool]]:
        try:
            app = _firebase_app(self.config)
            _fresh_token(app)
            response = messaging.send_each([_to_fcm(m) for m in batch], app=app)
        except Exception as exc:  # noqa: BLE001 - credentials, config, threads: never crash the task
            outcome, code = _classify_batch_failure(exc)
            return [(PushResult(m.token, outcome, error_code=code), False) for m in batch]
        answers: list[tuple[PushResult, bool]] = []
        for message, reply in zip(batch, response.responses, strict=True):
            if reply.success:
                answers.append(
                    (PushResult(message.token, PushOutcome.SENT, message_id=reply.message_id), False)
                )
            elif isinstance(reply.exception, exceptions.InvalidArgumentError):
                answers.append((PushResult(message.token, PushOutcome.INVALID_PAYLOAD), True))
            else:
                answers.append((_classify_error(message.token, reply.exception), False))
        return answers


def _to_fcm(message: PushMessage) -> messaging.Message:
    apns_headers = {"apns-priority": "10" if message.urgent else "5", "apns-push-type": "alert"}
    if message.collapse_key:
        apns_headers["apns-collapse-id"] = message.collapse_key
    ttl = None
    if message.ttl_seconds is not None:
        ttl = timedelta(seconds=message.ttl_seconds)
        # APNs wants an expiry instant; "0" means deliver now or never, as ttl 0 does on FCM.
        expires = 0 if message.ttl_seconds == 0 else int(time.time()) + message.ttl_seconds
        apns_headers["apns-expiration"] = str(expires)
    sound = "default" if message.urgent else None
    fcm_message = messaging.Message(
        notification=messaging.Notification(title=message.title, body=message.body),
        data=dict(message.data) or None,
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
    # The apps register FCM registration tokens. firebase-admin 7.7 deprecates
    # Message(token=...) in favour of Firebase installation IDs, warning from __init__ once per
    # message; the attribute itself is still encoded as "token", so it is set afterwards.
    fcm_message.token = message.token
    return fcm_message


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


def _fingerprint(message: PushMessage) -> str:
    # Everything but the token: the part of the request that could be the payload's fault.
    parts = [
        message.title,
        message.body,
        sorted(message.data.items()),
        message.collapse_key,
        message.urgent,
        message.ttl_seconds,
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


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
    # send_each gives up the whole batch's answers when one thread fails outside HTTP (an
    # OAuth refresh, say) although others were sent; refreshing here, before anything goes
    # out, keeps such failures all-or-nothing. get_credential() returns the very object the
    # messaging client authorises with.
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
    # firebase-admin has no public endpoint or transport option. `_fcm_url` and
    # `_client.session` are private attributes of messaging._MessagingService (7.x); if they
    # move, this fails loudly at first send rather than silently reaching the real FCM.
    if not hasattr(service, "_fcm_url") or not hasattr(service, "_client"):
        raise RuntimeError(f"firebase-admin {firebase_admin.__version__}: messaging service layout changed")
    prefix = FCM_HOST
    if config.endpoint:
        service._fcm_url = f"{config.endpoint}/v1/projects/{config.project_id}/messages:send"
        prefix = config.endpoint
    # send_each runs one thread per message of a batch: size the keep-alive pool to match.
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=BATCH_SIZE, max_retries=_TRANSPORT_RETRY)
    service._client.session.mount(prefix, adapter)


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
    # ValueError: already gone; RuntimeError: its async client cannot close inside a running
    # event loop. The app is unregistered either way; idle connections go with the GC.
    with contextlib.suppress(ValueError, RuntimeError):
        firebase_admin.delete_app(app)
