"""Check-ins of a campaign (submit, list), one check-in, teacher comments and likes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.checkins.models import Checkin
from backend.checkins.selectors import (
    campaign_checkins,
    campaign_class_checkins,
    campaign_visible_to,
    checkin_likes_count,
    checkins_visible_to,
    checkins_with_feedback,
    submission_context,
)
from backend.checkins.services import (
    campaign_aliases_ensure,
    checkin_comment_add,
    checkin_like,
    checkin_submit,
    checkin_unlike,
)
from backend.conventions.errors import ApiError, not_found
from backend.conventions.idempotency import idempotent
from backend.conventions.pagination import IdCursorPagination, page_of
from backend.conventions.schema import error_responses
from backend.conventions.scope import get_in_scope, parse_id
from backend.privacy.selectors import privacy_hide_withdrawn
from backend.privacy.services import privacy_audit_read

from .campaigns import TAGS, load_campaign, require_class_visibility
from .serializers import (
    CheckinCommentInput,
    CheckinCommentOutput,
    CheckinCreateInput,
    CheckinOutput,
    checkin_rows,
    comment_data,
    parse_date,
)


class CheckinLikeOutput(serializers.Serializer):
    liked = serializers.BooleanField()
    likes = serializers.IntegerField()


CAMPAIGN_NOT_FOUND = "打卡活动不存在"


def _require_visible(user: Any, campaign_id: int) -> None:
    if not campaign_visible_to(user=user, campaign_id=campaign_id):
        raise not_found(CAMPAIGN_NOT_FOUND)


def _visible_checkin(request: Request, checkin_id: str) -> Checkin:
    return get_in_scope(
        checkins_visible_to(user=request.user).select_related("campaign"), checkin_id, "打卡不存在"
    )


class CampaignCheckinsView(APIView):
    @extend_schema(
        operation_id="checkin_campaigns_checkins_list",
        summary="打卡记录 / Check-ins of a campaign",
        description=(
            "What the caller may see, newest first, cursor-paginated: a student their own, a "
            "guardian their children's, a teacher those of the classes they teach, an admin all; "
            "with attachments (signed URLs), likes and teacher comments. Filters `?student_id=`, "
            "`?date=YYYY-MM-DD`. `?scope=class` (only when the school allows class-wide display) "
            "adds classmates' check-ins: other children appear as “同学A” (id null, no submitter, "
            "no comments) unless the school allows names in public.\n\n"
            "Errors: 400 invalid_date, invalid_student_id, invalid_scope; 403 class_visibility_off; "
            "404 not_found."
        ),
        parameters=[
            OpenApiParameter("student_id", int, required=False),
            OpenApiParameter("date", str, required=False, description="YYYY-MM-DD"),
            OpenApiParameter("scope", str, enum=["private", "class"], required=False),
        ],
        responses={
            200: page_of(CheckinOutput),
            **error_responses(
                "400 invalid_date invalid_student_id invalid_scope",
                "403 class_visibility_off",
                "404 not_found",
            ),
        },
        tags=TAGS,
    )
    def get(self, request: Request, campaign_id: str) -> Response:
        campaign, access = load_campaign(request, campaign_id)
        scope = request.query_params.get("scope") or "private"
        if scope == "class":
            require_class_visibility(campaign)
            queryset = privacy_hide_withdrawn(campaign_class_checkins(campaign=campaign, access=access))
        elif scope == "private":
            queryset = campaign_checkins(campaign=campaign, access=access)
        else:
            raise ApiError("invalid_scope", "scope 只能是 private 或 class")
        raw_student = request.query_params.get("student_id")
        if raw_student:
            if not raw_student.isdigit():
                raise ApiError("invalid_student_id", "student_id 应为整数")
            queryset = queryset.filter(student_id=int(raw_student))
        day = parse_date(request.query_params.get("date"))
        if day is not None:
            queryset = queryset.filter(date=day)
        paginator = IdCursorPagination()
        page: list[Checkin] = list(
            paginator.paginate_queryset(
                checkins_with_feedback(queryset, user=request.user), request, view=self
            )
            or []
        )
        privacy_audit_read(
            actor=request.user,
            student_ids=[c.student_id for c in page],
            what="checkins",
            request=request,
            class_ids={c.school_class_id for c in page},
            staff=access.is_staff,
        )
        full_ids: set[int] | None = None
        aliases = None
        if scope == "class" and not access.is_staff:
            full_ids = set(access.family_ids)
            others = [c.student_id for c in page if c.student_id not in full_ids]
            if others and not campaign.school.allow_names_public:
                aliases = campaign_aliases_ensure(campaign=campaign, student_ids=others)
        rows = checkin_rows(page, full_ids=full_ids, aliases=aliases)
        return paginator.get_paginated_response(CheckinOutput(rows, many=True).data)

    @extend_schema(
        operation_id="checkin_campaigns_checkins_create",
        summary="打卡 / Check in",
        description=(
            "A student checks in for themself, or a guardian for their child (recorded as "
            "`submitted_by`). One check-in per student per campaign day: a second one for the "
            "same day is refused (409 already_checked_in), never merged. `date` defaults to "
            "today (Asia/Shanghai); a past campaign day within `makeup_days` is a make-up "
            "(`is_makeup`). The content the campaign requires must be there (text, or "
            "attachments of kind image/voice/video uploaded by the caller). `client_id` makes "
            "retries safe: the same client_id returns the first check-in with 200; with other "
            "content, 409. The class's teachers receive `checkin.created` in the app (no push).\n\n"
            "Errors: 400 invalid, date_in_future, outside_campaign, not_a_campaign_day, "
            "makeup_window_passed, content_required, unknown_attachments, "
            "attachment_type_not_allowed, too_many_attachments; 404 not_found (campaign), "
            "student_not_found (not in the campaign's classes, or not the caller nor their child); "
            "409 already_checked_in, client_id_reused, campaign_closed."
        ),
        request=CheckinCreateInput,
        responses={
            201: CheckinOutput,
            200: CheckinOutput,
            **error_responses(
                "400 invalid date_in_future outside_campaign not_a_campaign_day makeup_window_passed content_required unknown_attachments attachment_type_not_allowed too_many_attachments invalid_idempotency_key",
                "404 not_found student_not_found",
                "409 already_checked_in client_id_reused campaign_closed idempotency_key_reused",
            ),
        },
        tags=TAGS,
    )
    def post(self, request: Request, campaign_id: str) -> Response:
        def create() -> Response:
            # The evening rush (bench/ checkin_burst): consent, one read of everything
            # else (campaign, the student's class in it, guardianship, an earlier
            # check-in with this client_id) and the INSERT; the answer of a new
            # check-in is built from what is in hand.
            user = request.user
            key = parse_id(campaign_id)
            if key is None:
                raise not_found(CAMPAIGN_NOT_FOUND)
            data = CheckinCreateInput(data=request.data)
            if not data.is_valid():
                _require_visible(user, key)  # an unseen campaign is 404 before bad input is 400
                raise serializers.ValidationError(data.errors)
            values: dict[str, Any] = data.validated_data
            found = submission_context(
                user=user, campaign_id=key, student_id=values["student_id"], client_id=values["client_id"]
            )
            if found is None:
                raise not_found(CAMPAIGN_NOT_FOUND)
            campaign, context = found
            if not context.allowed(user=user):
                _require_visible(user, key)
            checkin, created = checkin_submit(
                user=user,
                campaign=campaign,
                student_id=values["student_id"],
                day=values["date"],
                text=values["text"],
                attachment_ids=values["attachment_ids"],
                client_id=values["client_id"],
                context=context,
            )
            if created:
                names = {checkin.student_id: context.student_name(user=user)}
                row = checkin_rows([checkin], fresh=True, student_names=names)[0]
                return Response(CheckinOutput(row).data, status=201)
            loaded = checkins_with_feedback(Checkin.objects.filter(pk=checkin.pk), user=user).get()
            return Response(CheckinOutput(checkin_rows([loaded])[0]).data, status=200)

        return idempotent(request, create)


class CheckinDetailView(APIView):
    @extend_schema(
        operation_id="checkins_retrieve",
        summary="一条打卡 / A check-in",
        description="The check-in with attachments, likes and comments, for the student, their "
        "guardians, the class's teachers and school admins (not bureau admins; what `checkin.created` points at)."
        "\n\nErrors: 404 not_found.",
        responses={200: CheckinOutput, **error_responses("404 not_found")},
        tags=TAGS,
    )
    def get(self, request: Request, checkin_id: str) -> Response:
        checkin = get_in_scope(
            checkins_with_feedback(checkins_visible_to(user=request.user), user=request.user),
            checkin_id,
            "打卡不存在",
        )
        return Response(CheckinOutput(checkin_rows([checkin])[0]).data)


class CheckinCommentsView(APIView):
    @extend_schema(
        operation_id="checkins_comments_create",
        summary="点评打卡 / Comment on a check-in",
        description=(
            "A teacher of the student's class comments; the student and their guardians receive "
            "`checkin.commented` (and a push, held during quiet hours). Honours `Idempotency-Key`."
            "\n\nErrors: 400 invalid, comment_required; 403 teachers_only; 404 not_found; "
            "409 idempotency_key_reused."
        ),
        request=CheckinCommentInput,
        responses={
            201: CheckinCommentOutput,
            **error_responses(
                "400 invalid comment_required invalid_idempotency_key",
                "403 teachers_only",
                "404 not_found",
                "409 idempotency_key_reused",
            ),
        },
        tags=TAGS,
    )
    def post(self, request: Request, checkin_id: str) -> Response:
        def create() -> Response:
            checkin = _visible_checkin(request, checkin_id)
            data = CheckinCommentInput(data=request.data)
            data.is_valid(raise_exception=True)
            comment = checkin_comment_add(
                author=request.user, checkin=checkin, text=data.validated_data["text"]
            )
            return Response(CheckinCommentOutput(comment_data(comment)).data, status=201)

        return idempotent(request, create)


class CheckinLikesView(APIView):
    @extend_schema(
        operation_id="checkins_likes_create",
        summary="点赞打卡 / Like a check-in",
        description=(
            "A teacher of the student's class likes it: 201 when this call liked it, 200 when it was "
            "already liked (idempotent). The family is told (`checkin.commented`, kind like) on the "
            "first like only.\n\nErrors: 403 teachers_only; 404 not_found."
        ),
        request=None,
        responses={
            201: CheckinLikeOutput,
            200: CheckinLikeOutput,
            **error_responses("403 teachers_only", "404 not_found"),
        },
        tags=TAGS,
    )
    def post(self, request: Request, checkin_id: str) -> Response:
        checkin = _visible_checkin(request, checkin_id)
        _, changed = checkin_like(user=request.user, checkin=checkin)
        body = CheckinLikeOutput({"liked": True, "likes": checkin_likes_count(checkin=checkin)}).data
        return Response(body, status=201 if changed else 200)

    @extend_schema(
        operation_id="checkins_likes_delete",
        summary="取消点赞 / Unlike a check-in",
        description="Withdraws the caller's like; idempotent (204 either way).\n\n"
        "Errors: 403 teachers_only; 404 not_found.",
        request=None,
        responses={
            204: OpenApiResponse(description="unliked"),
            **error_responses("403 teachers_only", "404 not_found"),
        },
        tags=TAGS,
    )
    def delete(self, request: Request, checkin_id: str) -> Response:
        checkin = _visible_checkin(request, checkin_id)
        checkin_unlike(user=request.user, checkin=checkin)
        return Response(status=204)
