"""Texts and replies over the API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.conventions.pagination import IdCursorPagination, page_of
from backend.conventions.schema import error_responses
from backend.conventions.scope import get_in_scope
from backend.schools.selectors import admin_org_paths
from backend.sms.models import SmsMessage
from backend.sms.selectors import messages_visible_to, replies_visible_to
from backend.sms.services import sms_reply_mark_handled

from .serializers import MessageOutput, MessageQueryInput, ReplyOutput, ReplyQueryInput

TAGS = ["sms"]


def masked(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "****"


def _message_data(message: SmsMessage, full_phone: bool) -> dict[str, Any]:
    return {
        "id": message.pk,
        "job_id": message.job_id,
        "source": message.source,
        "recipient_id": message.user_id,
        "phone": message.phone if full_phone else masked(message.phone),
        "template_id": message.template,
        "text": message.text,
        "segments": message.segments,
        "status": message.state,
        "billing": message.billing,
        "error_code": message.error_code,
        "created_at": message.queued_at,
        "submitted_at": message.submitted_at,
        "delivered_at": message.delivered_at,
        "failed_at": message.failed_at,
    }


class MessageListView(APIView):
    @extend_schema(
        operation_id="sms_messages_list",
        summary="短信发送记录 / Texts sent",
        description=(
            "Texts the caller sent (mass texts, notices, replies) and, for admins, every text of "
            "their subtree. Filter with `job`, `notice` (texts about that notice) and `status`. "
            "Phone numbers are shown in full to school admins only.\n\nErrors: `invalid` (400)."
        ),
        parameters=[MessageQueryInput],
        responses={200: page_of(MessageOutput), **error_responses("400 invalid")},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        query = MessageQueryInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        messages = messages_visible_to(user=request.user).select_related("account__org")
        if "job" in filters:
            messages = messages.filter(job_id=filters["job"])
        if "notice" in filters:
            messages = messages.filter(source__startswith=f"notice:{filters['notice']}:")
        if "status" in filters:
            messages = messages.filter(state=filters["status"])
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(messages, request, self) or []
        paths = admin_org_paths(user=request.user)
        return paginator.get_paginated_response(
            [_message_data(m, any(m.account.org.path.startswith(p) for p in paths)) for m in page]
        )


class ReplyListView(APIView):
    @extend_schema(
        operation_id="sms_replies_list",
        summary="家长短信回复 / Parents' SMS replies",
        description=(
            "Replies to the accounts of the admin's subtree; `routed_to` says which app took "
            'each ("unsubscribe" for T/TD/退订), `handled=false` lists those nobody dealt with '
            "yet. Others see an empty list.\n\nErrors: `invalid` (400)."
        ),
        parameters=[ReplyQueryInput],
        responses={200: page_of(ReplyOutput), **error_responses("400 invalid")},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        query = ReplyQueryInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        replies = replies_visible_to(user=request.user)
        if query.validated_data["handled"] is not None:
            replies = replies.filter(handled=query.validated_data["handled"])
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(replies, request, self) or []
        return paginator.get_paginated_response(ReplyOutput(page, many=True).data)


class ReplyHandledView(APIView):
    @extend_schema(
        operation_id="sms_replies_handled",
        summary="标记回复已处理 / Mark a reply as dealt with",
        description="Idempotent.\n\nErrors: `not_found` (404).",
        request=None,
        responses={200: ReplyOutput, **error_responses("404 not_found")},
        tags=TAGS,
    )
    def post(self, request: Request, reply_id: int) -> Response:
        reply = get_in_scope(replies_visible_to(user=request.user), reply_id, "回复不存在")
        sms_reply_mark_handled(reply=reply, actor=request.user)
        return Response(ReplyOutput(reply).data)
