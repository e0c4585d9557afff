"""Scope helpers: an object outside the caller's scope answers 404, never 403."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

from .errors import ApiError, not_found

M = TypeVar("M", bound=Model)

# Primary keys are 64-bit: a larger number cannot name anything (and SQLite would raise).
MAX_ID = 2**63 - 1


def parse_id(value: object) -> int | None:
    """An object id from a path or query parameter, or None when it cannot be one."""
    try:
        key = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return key if 1 <= key <= MAX_ID else None


def get_in_scope(queryset: QuerySet[M], pk: object, message: str = "对象不存在") -> M:
    """Fetch `pk` from an already-scoped queryset or raise a 404 ApiError.

    Non-integer ids are treated as missing rather than as a server error."""
    key = parse_id(pk)
    if key is None:
        raise not_found(message)
    obj = queryset.filter(pk=key).first()
    if obj is None:
        raise not_found(message)
    return obj


def ids_in_scope(queryset: QuerySet[M], ids: list[int], field: str = "ids") -> list[M]:
    """Resolve a list of ids against a scoped queryset; any foreign or unknown id fails
    the whole request (nothing half-applies)."""
    wanted = list(dict.fromkeys(ids))
    found = {obj.pk: obj for obj in queryset.filter(pk__in=[i for i in wanted if 1 <= i <= MAX_ID])}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ApiError(
            "unknown_ids",
            "包含不存在或无权访问的对象",
            status_code=400,
            fields={field: [f"无效的编号：{i}" for i in missing]},
        )
    return [found[i] for i in wanted]
