"""conversations/{id}/messages/ (history, send), messages/{id}/ (delete), reports."""

from __future__ import annotations

from urllib.parse import urlencode

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.conventions.errors import ApiError
from backend.conventions.schema import error_responses
from backend.messaging.selectors import message_for_member, message_rows, messages_visible
from backend.messaging.services import membership_for, message_delete, message_send, report_create

from .serializers import ChatMessageOutput, ChatMessagePageOutput

TAG = ["conversations"]
PAGE = 50


def _cursor(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(str(raw))
    except ValueError:
        raise ApiError(f"invalid_{name}", f"{name} 需为消息编号", fields={name: ["需为整数"]}) from None
    if value < 0:
        raise ApiError(f"invalid_{name}", f"{name} 需为消息编号", fields={name: ["需为非负整数"]})
    return value


class MessageCollectionView(APIView):
    class MessageSendInput(serializers.Serializer):
        body = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=2000, default="")
        client_id = serializers.CharField(max_length=64)
        attachment_ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1), required=False, default=list, max_length=9
        )
        reply_to = serializers.IntegerField(min_value=1, required=False, allow_null=True)

    Input = MessageSendInput

    @extend_schema(
        operation_id="conversations_messages_list",
        summary="消息记录 / Message history",
        description=(
            "Up to 50 messages in chat order (oldest first). Without parameters: the latest; "
            "`?before=<id>`: older ones; `?after=<id>`: newer ones (catch-up). `next` continues in the "
            "same direction. Deleted messages have `deleted: true` and no body; the caller's own held "
            "messages show `pending: true`.\n\nErrors: 400 invalid_before, invalid_after; 404 not_found."
        ),
        parameters=[
            OpenApiParameter("before", int, required=False),
            OpenApiParameter("after", int, required=False),
        ],
        responses={
            200: ChatMessagePageOutput,
            **error_responses("400 invalid_before invalid_after", "404 not_found"),
        },
        tags=TAG,
    )
    def get(self, request: Request, conversation_id: str) -> Response:
        member = membership_for(user=request.user, conversation_id=conversation_id)
        before, after = _cursor(request, "before"), _cursor(request, "after")
        qs = messages_visible(member=member)
        if after is not None:
            rows = list(qs.filter(id__gt=after).order_by("id")[: PAGE + 1])
            more = len(rows) > PAGE
            rows = rows[:PAGE]
            params = {"after": rows[-1].pk} if more and rows else None
        else:
            if before is not None:
                qs = qs.filter(id__lt=before)
            rows = list(qs.order_by("-id")[: PAGE + 1])
            more = len(rows) > PAGE
            rows = list(reversed(rows[:PAGE]))
            params = {"before": rows[0].pk} if more and rows else None
        next_url = request.build_absolute_uri(f"{request.path}?{urlencode(params)}") if params else None
        results = message_rows(messages=rows, viewer_id=request.user.pk or 0)
        return Response({"results": ChatMessageOutput(results, many=True).data, "next": next_url})

    @extend_schema(
        operation_id="conversations_messages_send",
        summary="发送消息 / Send a message",
        description=(
            "`body` 1–2,000 characters (may be empty with attachments: images and voice from POST files/). "
            "Idempotent by `client_id`: the same content again answers 200 with the first message. "
            "Sensitive words are masked with ＊ or hold the message for review (the sender sees it as "
            "pending); phone and ID-card numbers typed by students are masked.\n\n"
            "Errors: 400 empty_body, body_too_long, unknown_attachments, attachment_type_not_allowed, "
            "unknown_reply_to; 403 muted_until, students_read_only; 404 not_found; 409 conversation_closed, "
            "client_id_reused."
        ),
        request=Input,
        responses={
            201: ChatMessageOutput,
            200: ChatMessageOutput,
            **error_responses(
                "400 empty_body body_too_long unknown_attachments attachment_type_not_allowed unknown_reply_to invalid_idempotency_key",
                "403 muted_until students_read_only",
                "404 not_found",
                "409 conversation_closed client_id_reused idempotency_key_reused",
            ),
        },
        tags=TAG,
    )
    def post(self, request: Request, conversation_id: str) -> Response:
        member = membership_for(user=request.user, conversation_id=conversation_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        message, created = message_send(
            member=member,
            body=v["body"],
            client_id=v["client_id"],
            attachment_ids=v["attachment_ids"],
            reply_to=v.get("reply_to"),
        )
        row = message_rows(messages=[message], viewer_id=request.user.pk or 0)[0]
        return Response(
            ChatMessageOutput(row).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class MessageDetailView(APIView):
    @extend_schema(
        operation_id="messages_delete",
        summary="删除消息 / Delete a message",
        description=(
            "The sender within 2 minutes of sending, or a moderator (a teacher of the conversation, a "
            "school admin). Members receive `message.deleted`.\n\nErrors: 403 cannot_delete; 404 not_found."
        ),
        responses={204: None, **error_responses("403 cannot_delete", "404 not_found")},
        tags=TAG,
    )
    def delete(self, request: Request, message_id: str) -> Response:
        message, member = message_for_member(user=request.user, message_id=message_id)
        message_delete(user=request.user, message=message, member=member)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReportCreateView(APIView):
    class MessageReportInput(serializers.Serializer):
        reason = serializers.CharField(max_length=200)

    Input = MessageReportInput

    @extend_schema(
        operation_id="messages_report",
        summary="举报消息 / Report a message",
        description=(
            "Files the message into the review queue of the conversation's teachers and the school's "
            "admins; reporting again answers 200.\n\nErrors: 400 invalid, empty_reason; 404 not_found; "
            "409 message_deleted."
        ),
        request=Input,
        responses={
            201: inline_serializer(
                "ReportCreated", {"id": serializers.IntegerField(), "status": serializers.CharField()}
            ),
            **error_responses("400 invalid empty_reason", "404 not_found", "409 message_deleted"),
        },
        tags=TAG,
    )
    def post(self, request: Request, message_id: str) -> Response:
        message, _ = message_for_member(user=request.user, message_id=message_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        report, created = report_create(
            user=request.user, message=message, reason=data.validated_data["reason"]
        )
        return Response(
            {"id": report.pk, "status": report.status},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
