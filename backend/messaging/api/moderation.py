"""moderation/reports/ (the review queue), schools/{id}/sensitive-words/, me/office-hours/."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.conventions.pagination import IdCursorPagination, page_of
from backend.conventions.schema import error_responses
from backend.conventions.scope import get_in_scope
from backend.messaging.models import Report, SensitiveWord
from backend.messaging.office_hours import label
from backend.messaging.selectors import office_hours_get, reports_for_moderator, school_words
from backend.messaging.services import office_hours_set, report_resolve, school_words_set
from backend.schools.selectors import schools_administered, taught_classes

TAG = ["moderation"]


class ReportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    reason = serializers.CharField()
    by_filter = serializers.BooleanField(help_text="敏感词拦截（而非成员举报）")
    conversation_id = serializers.IntegerField()
    message = serializers.DictField(help_text="{id, sender: {id, display_name}, body (原文), deleted}")
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


def _report_row(report: Report) -> dict[str, Any]:
    m = report.message
    return {
        "id": report.pk,
        "status": report.status,
        "reason": report.reason,
        "by_filter": report.reporter_id is None,
        "conversation_id": m.conversation_id,
        "message": {
            "id": m.pk,
            "sender": {"id": m.sender_id, "display_name": m.sender_name},
            # Moderators review what was typed, before masking.
            "body": m.original_body or m.body,
            "deleted": m.deleted_at is not None,
            "pending": m.status == m.Status.HELD,
        },
        "created_at": report.created_at,
        "resolved_at": report.resolved_at,
    }


class ReportQueueView(APIView):
    @extend_schema(
        operation_id="moderation_reports_list",
        summary="举报与待审队列 / Review queue",
        description=(
            "Reports and filter holds on messages in conversations the caller teaches in, or in the "
            "schools they administer; newest first. `?status=open|deleted|kept` (default open).\n\nErrors: 401."
        ),
        parameters=[OpenApiParameter("status", str, required=False)],
        responses={200: page_of(ReportOutput)},
        tags=TAG,
    )
    def get(self, request: Request) -> Response:
        state = request.query_params.get("status") or Report.Status.OPEN
        qs = reports_for_moderator(user=request.user)
        if state in Report.Status.values:
            qs = qs.filter(status=state)
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        return paginator.get_paginated_response(ReportOutput([_report_row(r) for r in page], many=True).data)


class ReportResolveView(APIView):
    class ReportResolveInput(serializers.Serializer):
        action = serializers.ChoiceField(choices=["delete", "keep"])

    Input = ReportResolveInput

    @extend_schema(
        operation_id="moderation_reports_resolve",
        summary="处理举报 / Resolve a report",
        description=(
            "`delete` removes the message for everyone; `keep` leaves it (a held message is released "
            "to the members). Resolves every open report of the message.\n\nErrors: 400 invalid; 404 "
            "not_found; 409 report_resolved."
        ),
        request=Input,
        responses={
            200: ReportOutput,
            **error_responses("400 invalid", "404 not_found", "409 report_resolved"),
        },
        tags=TAG,
    )
    def post(self, request: Request, report_id: str) -> Response:
        report = get_in_scope(reports_for_moderator(user=request.user), report_id, "举报不存在")
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        report = report_resolve(user=request.user, report=report, action=data.validated_data["action"])
        return Response(ReportOutput(_report_row(report)).data)


class WordSerializer(serializers.Serializer):
    word = serializers.CharField(max_length=50)
    policy = serializers.ChoiceField(choices=SensitiveWord.Policy.choices, default=SensitiveWord.Policy.MASK)


class SchoolWordsView(APIView):
    class SchoolWordsInput(serializers.Serializer):
        words = serializers.ListField(child=WordSerializer(), max_length=500)

    class SchoolWordsOutput(serializers.Serializer):
        words = WordSerializer(many=True)

    Input = SchoolWordsInput

    Output = SchoolWordsOutput

    @extend_schema(
        operation_id="schools_sensitive_words_read",
        summary="学校敏感词 / School sensitive words",
        description="The school's own list (the platform defaults apply as well). School admins only.\n\nErrors: 404 not_found.",
        responses={200: Output, **error_responses("404 not_found")},
        tags=TAG,
    )
    def get(self, request: Request, school_id: str) -> Response:
        school = get_in_scope(schools_administered(user=request.user), school_id, "学校不存在")
        rows = [{"word": w.word, "policy": w.policy} for w in school_words(school_id=school.pk)]
        return Response(self.Output({"words": rows}).data)

    @extend_schema(
        operation_id="schools_sensitive_words_replace",
        summary="设置学校敏感词 / Replace school sensitive words",
        description=(
            '`{"words": [{"word", "policy": "block"|"mask"}]}` replaces the list. block: the message is '
            "held for review; mask: the word is replaced with ＊.\n\nErrors: 400 invalid, invalid_word, "
            "too_many_words; 404 not_found."
        ),
        request=Input,
        responses={
            200: Output,
            **error_responses("400 invalid invalid_word too_many_words", "404 not_found"),
        },
        tags=TAG,
    )
    def put(self, request: Request, school_id: str) -> Response:
        school = get_in_scope(schools_administered(user=request.user), school_id, "学校不存在")
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        rows = school_words_set(user=request.user, school_id=school.pk, words=data.validated_data["words"])
        return Response(self.Output({"words": [{"word": w.word, "policy": w.policy} for w in rows]}).data)


@extend_schema_field({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$", "example": "07:30"})
class HourMinuteField(serializers.TimeField):
    """A time of day written "HH:MM" (what the app shows and sends)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


class OfficeHoursView(APIView):
    class OfficeHoursInput(serializers.Serializer):
        weekdays = serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=7), max_length=7
        )
        start = HourMinuteField()
        end = HourMinuteField()

    class OfficeHoursOutput(OfficeHoursInput):
        # A field named like Field.label: DRF pops declared fields, so it is safe.
        label = serializers.CharField()  # type: ignore[assignment]

    Body = OfficeHoursInput
    Output = OfficeHoursOutput

    @extend_schema(
        operation_id="me_office_hours_read",
        summary="我的办公时间 / My office hours",
        description="Teachers only (default Mon–Fri 07:30–18:00).\n\nErrors: 403 not_teacher.",
        responses={200: Output, **error_responses("403 not_teacher")},
        tags=TAG,
    )
    def get(self, request: Request) -> Response:
        _require_teacher(request)
        hours = office_hours_get(teacher_id=request.user.pk or 0)
        return Response(
            self.Output(
                {"weekdays": hours.weekdays, "start": hours.start, "end": hours.end, "label": label(hours)}
            ).data
        )

    @extend_schema(
        operation_id="me_office_hours_set",
        summary="设置办公时间 / Set office hours",
        description=(
            "Outside these hours a guardian's direct message gets one automatic reply per chat and the "
            "teacher's push waits until the hours start.\n\nErrors: 400 invalid, invalid_weekdays, "
            "invalid_hours; 403 not_teacher."
        ),
        request=Body,
        responses={
            200: Output,
            **error_responses("400 invalid invalid_weekdays invalid_hours", "403 not_teacher"),
        },
        tags=TAG,
    )
    def put(self, request: Request) -> Response:
        _require_teacher(request)
        data = self.Body(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        hours = office_hours_set(teacher=request.user, weekdays=v["weekdays"], start=v["start"], end=v["end"])
        return Response(
            self.Output(
                {"weekdays": hours.weekdays, "start": hours.start, "end": hours.end, "label": label(hours)}
            ).data
        )


def _require_teacher(request: Request) -> None:
    from backend.conventions.errors import ApiError

    if not taught_classes(user=request.user).exists():
        raise ApiError("not_teacher", "只有教师可以设置办公时间", status_code=403)
