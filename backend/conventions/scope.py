"""Scope helpers: an object outside the caller's scope answers 404, never 403."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

from .errors import ApiError, not_found

M = TypeVar("M", bound=Model)


def get_in_scope(queryset: QuerySet[M], pk: object, message: str = "对象不存在") -> M:
    """Fetch `pk` from an already-scoped queryset or raise a 404 ApiError.

    Non-integer ids are treated as missing rather than as a server error."""
    try:
        key = int(str(pk))
    except (TypeError, ValueError):
        raise not_found(message) from None
    obj = queryset.filter(pk=key).first()
    if obj is None:
        raise not_found(message)
    return obj


def ids_in_scope(queryset: QuerySet[M], ids: list[int], field: str = "ids") -> list[M]:
    """Resolve a list of ids against a scoped queryset; any foreign or unknown id fails
    the whole request (nothing half-applies)."""
    wanted = list(dict.fromkeys(ids))
    found = {obj.pk: obj for obj in queryset.filter(pk__in=wanted)}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ApiError(
            "unknown_ids",
            "包含不存在或无权访问的对象",
            status_code=400,
            fields={field: [f"无效的编号：{i}" for i in missing]},
        )
    return [found[i] for i in wanted]
