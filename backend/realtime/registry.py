"""The registry of realtime event types.

Every app declares the events it emits in its own `events.py` with `register_event`
(type name, JSON Schema of `data`, description, audience). `send_event_on_commit`
refuses types nobody registered, and validates payloads when
settings.REALTIME_VALIDATE_EVENTS is on (tests). The AsyncAPI document is generated
from `registered_events()`."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.exceptions import ValidationError as SchemaValidationError

# "notice.created", "notice.receipt_updated": at least two dotted lowercase parts, so
# an event type can never collide with a protocol frame ("ping", "resumed", "error").
EVENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
MAX_EVENT_TYPE_LENGTH = 64  # UserEvent.type


@dataclass(frozen=True)
class EventType:
    name: str
    schema: Mapping[str, Any]
    description: str
    audience: str
    validator: Draft202012Validator = field(compare=False, repr=False)

    def validate(self, data: Mapping[str, Any]) -> None:
        """Raise ValueError when `data` does not match the schema."""
        try:
            self.validator.validate(data)
        except SchemaValidationError as exc:
            path = "/".join(str(p) for p in exc.absolute_path) or "(root)"
            raise ValueError(
                f"event {self.name!r}: data does not match its schema at {path}: {exc.message}"
            ) from exc


_lock = threading.Lock()
_registry: dict[str, EventType] = {}


def register_event(event_type: str, *, schema: dict[str, Any], description: str, audience: str) -> EventType:
    """Declare an event type. Registering the same definition twice is a no-op (modules
    may be imported more than once); a different definition under the same name is an
    error, because two apps would be sending different payloads under one type."""
    if len(event_type) > MAX_EVENT_TYPE_LENGTH or not EVENT_TYPE_PATTERN.match(event_type):
        raise ValueError(f"event type {event_type!r} must look like 'notice.created' (≤ 64 chars)")
    if not description.strip() or not audience.strip():
        raise ValueError(f"event type {event_type!r} needs a description and an audience")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValueError(f"event type {event_type!r}: invalid JSON Schema: {exc.message}") from exc
    definition = EventType(
        name=event_type,
        schema=MappingProxyType(dict(schema)),
        description=description,
        audience=audience,
        validator=Draft202012Validator(schema),
    )
    with _lock:
        existing = _registry.get(event_type)
        if existing is not None:
            if existing != definition:
                raise ValueError(f"event type {event_type!r} is already registered with another definition")
            return existing
        _registry[event_type] = definition
    return definition


def registered_events() -> Mapping[str, EventType]:
    """Every registered event type by name (a read-only snapshot)."""
    with _lock:
        return MappingProxyType(dict(_registry))


def event_type_get(event_type: str) -> EventType:
    """The registered definition, or ValueError for a type nobody registered."""
    definition = _registry.get(event_type)
    if definition is None:
        raise ValueError(
            f"unregistered realtime event type {event_type!r}; register it in your app's events.py"
        )
    return definition
