"""What a push transport is given, what it answers, and the interface every transport implements."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

# FCM rejects a message whose data uses these keys (or prefixes); catching it here turns a
# caller bug into an immediate ValueError instead of a per-message INVALID_ARGUMENT later.
RESERVED_DATA_KEYS = frozenset({"from", "notification", "message_type"})
RESERVED_DATA_PREFIXES = ("google", "gcm")
MAX_TTL_SECONDS = 2_419_200  # FCM's limit: four weeks
MAX_COLLAPSE_KEY_BYTES = 64  # APNs refuses a longer apns-collapse-id


class PushOutcome(StrEnum):
    SENT = "sent"
    UNREGISTERED = "unregistered"  # the token is gone: delete the device
    INVALID_TOKEN = "invalid_token"  # the token is malformed/foreign: delete the device
    INVALID_PAYLOAD = "invalid_payload"  # our message is wrong: keep the token, do not retry
    RETRY = "retry"  # transient (unavailable, internal, quota, network): try again later
    FAILED = "failed"  # permanent for this message (sender mismatch, APNs auth, unknown)


@dataclass(frozen=True)
class PushMessage:
    """One notification to one device. `data` carries the event type and the ids the app
    needs to deep-link; FCM only accepts string values."""

    token: str
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)
    collapse_key: str | None = None
    urgent: bool = False
    ttl_seconds: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.token, str) or not self.token:
            raise ValueError("PushMessage.token must be a non-empty string")
        for key, value in self.data.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError(f"PushMessage.data must map str to str (key {key!r})")
            if key in RESERVED_DATA_KEYS or key.startswith(RESERVED_DATA_PREFIXES):
                raise ValueError(f"PushMessage.data key {key!r} is reserved by FCM")
        if self.collapse_key is not None and len(self.collapse_key.encode()) > MAX_COLLAPSE_KEY_BYTES:
            raise ValueError(f"PushMessage.collapse_key must be at most {MAX_COLLAPSE_KEY_BYTES} bytes")
        if self.ttl_seconds is not None and not 0 <= self.ttl_seconds <= MAX_TTL_SECONDS:
            raise ValueError(f"PushMessage.ttl_seconds must be within 0..{MAX_TTL_SECONDS}")


@dataclass(frozen=True)
class PushResult:
    token: str
    outcome: PushOutcome
    message_id: str | None = None
    error_code: str | None = None  # FCM's code (UNREGISTERED, QUOTA_EXCEEDED, …) when not SENT
    retry_after: float | None = None  # seconds, from Retry-After, only for RETRY

    @property
    def drop_token(self) -> bool:
        """True when the caller should delete the device registration."""
        return self.outcome in (PushOutcome.UNREGISTERED, PushOutcome.INVALID_TOKEN)


class PushBackend(abc.ABC):
    """A push transport. `send` never raises for delivery problems: every message gets a
    result, in the order given, whatever the number of messages (backends batch)."""

    name: str = "abstract"

    @abc.abstractmethod
    def send(self, messages: Sequence[PushMessage]) -> list[PushResult]: ...

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections; the backend is not used afterwards."""
