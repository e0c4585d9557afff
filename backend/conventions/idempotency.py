"""`Idempotency-Key` handling for creates a phone may retry.

The key's record is inserted in the same transaction as the create. A concurrent copy
with the same key blocks on the unique index until the first commits, then replays the
first result; if the first rolled back, the copy runs as new. A crash leaves nothing
half-done because the record and the object commit together."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from rest_framework.request import Request
from rest_framework.response import Response

from .errors import ApiError
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 128


def _fingerprint(request: Request) -> str:
    try:
        body: Any = request.data
    except Exception:  # noqa: BLE001 - an unparsable body is fingerprinted by its bytes
        body = request.body.decode("utf-8", "replace")
    if hasattr(body, "dict"):
        body = body.dict()
    payload = json.dumps(body, sort_keys=True, cls=DjangoJSONEncoder, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{payload}".encode()).hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise ApiError(
            "idempotency_key_reused",
            "该 Idempotency-Key 已用于内容不同的请求",
            status_code=409,
        )
    status_code = 200 if record.status_code == 201 else record.status_code
    response = Response(record.response_body, status=status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(request: Request, create: Callable[[], Response]) -> Response:
    """Run `create` at most once per (user, key, endpoint); replay the first result."""
    key = request.headers.get(HEADER)
    user = request.user
    if not key or user is None or not user.is_authenticated:
        return create()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ApiError("invalid_idempotency_key", "Idempotency-Key 需为 1–128 个字符")
    fingerprint = _fingerprint(request)
    endpoint = request.path[:200]

    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user, key=key, endpoint=endpoint, fingerprint=fingerprint, status_code=0
                )
        except IntegrityError:
            record = None
        if record is not None:
            response = create()
            if response.status_code >= 400:
                # A refused create leaves no trace, so a corrected retry can succeed.
                transaction.set_rollback(True)
                return response
            record.status_code = response.status_code
            record.response_body = response.data
            record.save(update_fields=["status_code", "response_body"])
            return response

    existing = IdempotencyRecord.objects.get(user=user, key=key, endpoint=endpoint)
    return _replay(existing, fingerprint)
