"""Cursor pagination: {"results": [...], "next": url-or-null} as API.md says."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response


class IdCursorPagination(CursorPagination):
    """Newest first by id; stable under inserts, which matters for live lists."""

    ordering = "-id"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"results": data, "next": self.get_next_link()})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "nullable": True, "format": "uri"},
            },
        }


_pages: dict[type[serializers.Serializer], type[serializers.Serializer]] = {}


def page_of(item: type[serializers.Serializer]) -> serializers.Serializer:
    """The schema of one cursor page of `item` rows, for views that paginate by hand
    (APIView): {"results": [item, …], "next": url or null}."""
    page = _pages.get(item)
    if page is None:
        name = item.__name__.removesuffix("Serializer").removesuffix("Output")
        page = type(
            f"{name}PageOutput",
            (serializers.Serializer,),
            {
                "results": item(many=True),
                "next": serializers.URLField(allow_null=True, help_text="下一页地址；没有更多时为 null"),
            },
        )
        _pages[item] = page
    return page()
