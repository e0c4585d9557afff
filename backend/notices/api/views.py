"""notices/: post, read, confirm, receipts, reminders, recall (API.md "Notices").

Views translate HTTP to services/selectors and back; scope lives in the selectors."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.audit.services import client_ip
from backend.conventions.errors import ApiError
from backend.conventions.idempotency import idempotent
from backend.conventions.pagination import IdCursorPagination
from backend.conventions.schema import error_responses
from backend.notices.models import NoticeReceipt
from backend.notices.selectors import (
    RECEIPT_STATES,
    notice_managed,
    notice_receipts,
    notice_unread_counts,
    notice_view,
    notices_inbox,
    notices_sent,
    receipt_deliveries,
)
from backend.notices.services import (
    notice_cancel,
    notice_confirm,
    notice_create,
    notice_mark_read,
    notice_recall,
    notice_remind,
)

from .serializers import (
    NoticeCreateInput,
    NoticeOutput,
    NoticePageOutput,
    ReceiptPageOutput,
    ReceiptRowOutput,
    ReceiptStateOutput,
    ReminderInput,
    ReminderOutput,
    UnreadCountOutput,
    notice_data,
    notice_files,
    receipt_row,
)

TAGS = ["notices"]


class ReceiptPagination(IdCursorPagination):
    """Receipts in publish order (ascending recipient order), a page of 50."""

    ordering = "id"
    page_size = 50


class NoticeCollectionView(APIView):
    @extend_schema(
        operation_id="notices_list",
        summary="通知列表 / Notices: inbox or sent",
        description=(
            "Default: the caller's inbox (notices addressed to them or their children, across "
            "every class and school), newest published first, each with `my_receipt`. "
            "`?box=sent`: notices the caller wrote (scheduled and cancelled included), with "
            "`stats`. Recalled notices show recipients the title “该通知已撤回” and no body. "
            "Cursor-paginated. Unread count: GET notices/unread-count/.\n\n"
            "Errors: 400 invalid_box; 401 not_authenticated."
        ),
        parameters=[OpenApiParameter("box", str, enum=["inbox", "sent"], required=False)],
        responses={200: NoticePageOutput, **error_responses("400 invalid_box")},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        box = request.query_params.get("box") or "inbox"
        paginator = IdCursorPagination()
        if box == "sent":
            notices = paginator.paginate_queryset(notices_sent(user=request.user), request, view=self) or []
            files = notice_files(list(notices))
            rows = [notice_data(n, receipt=None, manages=True, files=files) for n in notices]
        elif box == "inbox":
            receipts = paginator.paginate_queryset(notices_inbox(user=request.user), request, view=self) or []
            files = notice_files([r.notice for r in receipts])
            rows = [notice_data(r.notice, receipt=r, manages=False, files=files) for r in receipts]
        else:
            raise ApiError("invalid_box", "box 只能是 inbox 或 sent")
        return paginator.get_paginated_response(NoticeOutput(rows, many=True).data)

    @extend_schema(
        operation_id="notices_create",
        summary="发布通知 / Post a notice",
        description=(
            "Exactly one target: `class_ids` (a teacher's own classes; admins: classes in their "
            "subtree, one school), `grade_ids` (school admin; optional `school_id` must match), "
            "`school_id` (school admin: the whole school) or `org_id` (bureau admin: every "
            "school below). Without `scheduled_at` the notice goes out now: status `published`, "
            "or `publishing` for audiences over 2,000 people (a background task completes it; "
            "GET the notice to follow). With `scheduled_at` (future) status `scheduled`; "
            "cancel with POST notices/{id}/cancel/. A guardian with several children in the "
            "audience gets one notice naming them all. Honours `Idempotency-Key` (201 first, "
            "200 replay). Urgent notices skip quiet hours and are audited.\n\n"
            "Errors: 400 invalid (title 1–50, body 1–5000, attachment_ids ≤ 9 positive ints), "
            "target_required, unknown_ids (a class/grade/school/org outside the caller's scope), "
            "several_schools, scheduled_in_past, audience_empty, invalid_idempotency_key; "
            "409 idempotency_key_reused; 401 not_authenticated."
        ),
        request=NoticeCreateInput,
        responses={
            201: NoticeOutput,
            200: NoticeOutput,
            **error_responses(
                "400 invalid target_required unknown_ids several_schools scheduled_in_past audience_empty invalid_idempotency_key",
                "409 idempotency_key_reused",
            ),
        },
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        def create() -> Response:
            data = NoticeCreateInput(data=request.data)
            data.is_valid(raise_exception=True)
            notice = notice_create(author=request.user, ip=client_ip(request), **data.validated_data)
            return Response(NoticeOutput(notice_data(notice, receipt=None, manages=True)).data, status=201)

        return idempotent(request, create)


class NoticeUnreadCountView(APIView):
    @extend_schema(
        operation_id="notices_unread_count",
        summary="未读通知数 / Unread notice count",
        description="Live (not recalled) notices in the caller's inbox not yet read, and those "
        "still awaiting the caller's confirmation.\n\nErrors: 401 not_authenticated.",
        responses={200: UnreadCountOutput},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        return Response(UnreadCountOutput(notice_unread_counts(user=request.user)).data)


class NoticeDetailView(APIView):
    @extend_schema(
        operation_id="notices_retrieve",
        summary="通知详情 / A notice",
        description=(
            "The notice with the caller's `my_receipt` (null when not a recipient) and, for the "
            "author and admins of its school (or bureau), `stats`. Reading it does not mark it "
            "read: POST notices/{id}/read/.\n\nErrors: 401 not_authenticated; 404 not_found."
        ),
        responses={200: NoticeOutput, **error_responses("404 not_found")},
        tags=TAGS,
    )
    def get(self, request: Request, notice_id: str) -> Response:
        view = notice_view(user=request.user, notice_id=notice_id)
        return Response(
            NoticeOutput(notice_data(view.notice, receipt=view.receipt, manages=view.manages)).data
        )


def _receipt_state(receipt: NoticeReceipt) -> Response:
    return Response(
        ReceiptStateOutput(
            {"notice_id": receipt.notice_id, "read_at": receipt.read_at, "confirmed_at": receipt.confirmed_at}
        ).data
    )


class NoticeReadView(APIView):
    @extend_schema(
        operation_id="notices_read",
        summary="标记已读 / Mark a notice read",
        description="Idempotent; the first read stops the escalation of the notice (unless it "
        "asks for a confirmation) and updates the author's statistics live.\n\n"
        "Errors: 401 not_authenticated; 404 not_found (not addressed to the caller); "
        "409 notice_recalled.",
        request=None,
        responses={200: ReceiptStateOutput, **error_responses("404 not_found", "409 notice_recalled")},
        tags=TAGS,
    )
    def post(self, request: Request, notice_id: str) -> Response:
        return _receipt_state(notice_mark_read(user=request.user, notice_id=notice_id))


class NoticeConfirmView(APIView):
    @extend_schema(
        operation_id="notices_confirm",
        summary="确认通知（回执） / Confirm a notice",
        description="Idempotent; implies read; stops the escalation.\n\n"
        "Errors: 400 confirmation_not_required; 401 not_authenticated; 404 not_found; "
        "409 notice_recalled.",
        request=None,
        responses={
            200: ReceiptStateOutput,
            **error_responses("400 confirmation_not_required", "404 not_found", "409 notice_recalled"),
        },
        tags=TAGS,
    )
    def post(self, request: Request, notice_id: str) -> Response:
        return _receipt_state(notice_confirm(user=request.user, notice_id=notice_id))


class NoticeReceiptsView(APIView):
    @extend_schema(
        operation_id="notices_receipts",
        summary="回执明细 / Who read and confirmed",
        description=(
            "One row per recipient (a guardian of two children is one row naming both), in "
            "publish order, 50 a page: display name (“王小明妈妈”, never a phone number), the "
            "child, read/confirm times, the channels used and the latest SMS status. The author "
            "and admins of the notice's school (or bureau) only.\n\n"
            "Errors: 400 invalid_state; 401 not_authenticated; 404 not_found."
        ),
        parameters=[OpenApiParameter("state", str, enum=list(RECEIPT_STATES), required=False)],
        responses={200: ReceiptPageOutput, **error_responses("400 invalid_state", "404 not_found")},
        tags=TAGS,
    )
    def get(self, request: Request, notice_id: str) -> Response:
        notice = notice_managed(user=request.user, notice_id=notice_id)
        state = request.query_params.get("state") or None
        if state is not None and state not in RECEIPT_STATES:
            raise ApiError("invalid_state", "state 只能是 unread、unconfirmed、read 或 confirmed")
        paginator = ReceiptPagination()
        page = list(
            paginator.paginate_queryset(notice_receipts(notice=notice, state=state), request, view=self) or []
        )
        deliveries = receipt_deliveries(notice=notice, receipts=page)
        rows = [receipt_row(r, deliveries.get(r.recipient_id)) for r in page]
        return paginator.get_paginated_response(ReceiptRowOutput(rows, many=True).data)


class NoticeRemindersView(APIView):
    @extend_schema(
        operation_id="notices_remind",
        summary="提醒未读/未确认 / Remind who has not read",
        description=(
            "The author reminds every recipient who has not read the notice (or not confirmed "
            "it, when a confirmation is asked for), at once: `auto` pushes to app users and "
            "texts the others; `push` or `sms` only that channel. Non-urgent reminders in quiet "
            "hours wait for the morning. Once per 10 minutes per notice.\n\n"
            "Errors: 400 invalid; 401 not_authenticated; 404 not_found (not the author); "
            "409 notice_recalled, notice_not_published; 429 reminder_too_soon."
        ),
        request=ReminderInput,
        responses={
            200: ReminderOutput,
            **error_responses(
                "400 invalid",
                "404 not_found",
                "409 notice_recalled notice_not_published",
                "429 reminder_too_soon",
            ),
        },
        tags=TAGS,
    )
    def post(self, request: Request, notice_id: str) -> Response:
        data = ReminderInput(data=request.data)
        data.is_valid(raise_exception=True)
        reminded = notice_remind(
            user=request.user, notice_id=notice_id, channel=data.validated_data["channel"]
        )
        return Response(ReminderOutput({"reminded": reminded}).data)


class NoticeRecallView(APIView):
    @extend_schema(
        operation_id="notices_recall",
        summary="撤回通知 / Recall a notice",
        description=(
            "Author or an admin above the notice. Recipients then see “该通知已撤回” with no "
            "body or attachments and receive `notice.recalled`; reminders and escalation stop. "
            "Idempotent; audited.\n\nErrors: 401 not_authenticated; 404 not_found; "
            "409 notice_not_published (a scheduled notice: cancel it instead)."
        ),
        request=None,
        responses={200: NoticeOutput, **error_responses("404 not_found", "409 notice_not_published")},
        tags=TAGS,
    )
    def post(self, request: Request, notice_id: str) -> Response:
        notice = notice_recall(user=request.user, notice_id=notice_id, ip=client_ip(request))
        return Response(NoticeOutput(notice_data(notice, receipt=None, manages=True)).data)


class NoticeCancelView(APIView):
    @extend_schema(
        operation_id="notices_cancel",
        summary="取消定时通知 / Cancel a scheduled notice",
        description="Author or an admin above the notice, before it goes out. Audited.\n\n"
        "Errors: 401 not_authenticated; 404 not_found; 409 notice_not_scheduled.",
        request=None,
        responses={200: NoticeOutput, **error_responses("404 not_found", "409 notice_not_scheduled")},
        tags=TAGS,
    )
    def post(self, request: Request, notice_id: str) -> Response:
        notice = notice_cancel(user=request.user, notice_id=notice_id, ip=client_ip(request))
        return Response(NoticeOutput(notice_data(notice, receipt=None, manages=True)).data)
