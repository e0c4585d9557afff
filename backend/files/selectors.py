"""Rendering attachments with signed, time-limited download URLs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core import signing
from django.urls import reverse

from .models import File

URL_TTL_SECONDS = 3600
_SALT = "files.download"


def download_token(file_id: int) -> str:
    return signing.TimestampSigner(salt=_SALT).sign(str(file_id))


def download_token_check(token: str) -> int | None:
    """The file id a token grants, or None when forged or older than the TTL."""
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=URL_TTL_SECONDS)
    except signing.BadSignature:
        return None
    return int(value)


def file_payloads(*, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """{id: {"id", "url", "content_type", "size", "name", "kind"}} in one query."""
    wanted = list({int(i) for i in ids})
    if not wanted:
        return {}
    return {
        f.pk: {
            "id": f.pk,
            "url": reverse("file-download", args=[download_token(f.pk)]),
            "content_type": f.content_type,
            "size": f.size,
            "name": f.name,
            "kind": f.kind,
        }
        for f in File.objects.filter(pk__in=wanted).only("id", "content_type", "size", "name", "kind")
    }
