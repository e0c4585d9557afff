"""A tiny API used only by the conventions tests: one create, one list."""

from __future__ import annotations

from django.urls import path
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.audit.models import AuditRecord
from backend.conventions.errors import ApiError
from backend.conventions.idempotency import idempotent
from backend.conventions.pagination import IdCursorPagination


class NoteIn(serializers.Serializer):
    text = serializers.CharField(max_length=50)


class CreateNote(APIView):
    """Stands in for a create a phone may retry; writes an AuditRecord as its object."""

    def post(self, request: Request) -> Response:
        def create() -> Response:
            data = NoteIn(data=request.data)
            data.is_valid(raise_exception=True)
            if data.validated_data["text"] == "refuse":
                raise ApiError("refused", "不允许", status_code=400)
            record = AuditRecord.objects.create(
                action="test.note", detail={"text": data.validated_data["text"]}
            )
            return Response({"id": record.pk, "text": data.validated_data["text"]}, status=201)

        return idempotent(request, create)


class ListNotes(APIView):
    def get(self, request: Request) -> Response:
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(AuditRecord.objects.filter(action="test.note"), request, self)
        return paginator.get_paginated_response([{"id": r.pk} for r in page or []])


urlpatterns = [
    path("api/v1/notes/", CreateNote.as_view()),
    path("api/v1/notes/list/", ListNotes.as_view()),
]
