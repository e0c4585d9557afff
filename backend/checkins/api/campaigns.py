"""checkin-campaigns/: create, list, read, edit, close; stats, streaks and ranking.

Views translate HTTP to services/selectors and back; scope lives in the selectors."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.audit.services import client_ip
from backend.checkins.models import CheckinCampaign
from backend.checkins.schedule import local_date
from backend.checkins.selectors import (
    CampaignAccess,
    campaign_access,
    campaign_day_stats,
    campaign_ranking,
    campaign_student_class,
    campaigns_visible_to,
    campaigns_with_classes,
    manages_campaign,
    school_admin_paths,
    student_streaks,
)
from backend.checkins.services import (
    campaign_aliases_ensure,
    campaign_close,
    campaign_create,
    campaign_update,
)
from backend.conventions.errors import ApiError
from backend.conventions.idempotency import idempotent
from backend.conventions.pagination import IdCursorPagination, page_of
from backend.conventions.schema import error_responses
from backend.conventions.scope import get_in_scope, parse_id

from .serializers import (
    CampaignCreateInput,
    CampaignOutput,
    CampaignStatsOutput,
    CampaignUpdateInput,
    CheckinRankingOutput,
    CheckinStreaksOutput,
    campaign_data,
    parse_date,
    ranking_rows,
)

TAGS = ["checkins"]


def visible_campaign(request: Request, campaign_id: str) -> CheckinCampaign:
    """The campaign if the caller may see it, else 404."""
    return get_in_scope(
        campaigns_with_classes(campaigns_visible_to(user=request.user)), campaign_id, "打卡活动不存在"
    )


def load_campaign(request: Request, campaign_id: str) -> tuple[CheckinCampaign, CampaignAccess]:
    """The campaign if the caller may see it (else 404), and what the caller is to it."""
    campaign = visible_campaign(request, campaign_id)
    return campaign, campaign_access(user=request.user, campaign=campaign)


def require_class_visibility(campaign: CheckinCampaign) -> None:
    if not campaign.school.allow_class_visibility:
        raise ApiError("class_visibility_off", "学校未开启班级内公开展示", status_code=403)


class CampaignCollectionView(APIView):
    @extend_schema(
        operation_id="checkin_campaigns_list",
        summary="打卡活动列表 / Check-in campaigns",
        description=(
            "Campaigns of every class the caller belongs to, teaches, has a child in, or (admins) "
            "administers; newest first, cursor-paginated. `?status=open|closed`, `?class_id=`.\n\n"
            "Errors: 400 invalid_status; 401 not_authenticated."
        ),
        parameters=[
            OpenApiParameter("status", str, enum=["open", "closed"], required=False),
            OpenApiParameter("class_id", int, required=False),
        ],
        responses={200: page_of(CampaignOutput), **error_responses("400 invalid_status")},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        queryset = campaigns_visible_to(user=request.user)
        status = request.query_params.get("status")
        if status:
            if status not in CheckinCampaign.Status.values:
                raise ApiError("invalid_status", "status 只能是 open 或 closed")
            queryset = queryset.filter(status=status)
        class_id = request.query_params.get("class_id")
        if class_id:
            class_key = parse_id(class_id)
            if class_key is None:
                raise ApiError("invalid_class_id", "class_id 应为整数")
            queryset = queryset.filter(campaign_classes__school_class_id=class_key)
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(campaigns_with_classes(queryset), request, view=self) or []
        paths = school_admin_paths(user=request.user) if page else []
        now = timezone.now()
        rows = [
            campaign_data(
                c, can_manage=manages_campaign(user=request.user, campaign=c, admin_paths=paths), now=now
            )
            for c in page
        ]
        return paginator.get_paginated_response(CampaignOutput(rows, many=True).data)

    @extend_schema(
        operation_id="checkin_campaigns_create",
        summary="发起打卡活动 / Start a check-in campaign",
        description=(
            "A teacher starts a habit campaign for one or more classes they teach (one school). "
            "Days are calendar days in Asia/Shanghai; `weekdays` are ISO (1 = Monday … 7 = Sunday, "
            "default every day); `content_types` is what every check-in must contain "
            "(text/photo/voice/video; [] = a tap is enough); `makeup_days` 0–7 calendar days for "
            "make-ups (补卡); `remind_at` HH:MM: students still missing that day, and their "
            "guardians, get a push (never an SMS). Honours `Idempotency-Key` (201, then 200).\n\n"
            "Errors: 400 invalid, class_ids_required, unknown_ids (a class the caller does not "
            "teach), classes_in_different_schools, title_required, start_date_in_past, "
            "end_before_start, campaign_too_long (> 366 days), invalid_weekdays, no_campaign_days, "
            "invalid_content_types, invalid_makeup_days; 409 idempotency_key_reused; "
            "401 not_authenticated."
        ),
        request=CampaignCreateInput,
        responses={
            201: CampaignOutput,
            200: CampaignOutput,
            **error_responses(
                "400 invalid class_ids_required unknown_ids classes_in_different_schools title_required start_date_in_past end_before_start campaign_too_long invalid_weekdays no_campaign_days invalid_content_types invalid_makeup_days invalid_idempotency_key",
                "409 idempotency_key_reused",
            ),
        },
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        def create() -> Response:
            data = CampaignCreateInput(data=request.data)
            data.is_valid(raise_exception=True)
            campaign = campaign_create(teacher=request.user, ip=client_ip(request), **data.validated_data)
            campaign = campaigns_with_classes(CheckinCampaign.objects.filter(pk=campaign.pk)).get()
            return Response(
                CampaignOutput(campaign_data(campaign, can_manage=True, now=timezone.now())).data, status=201
            )

        return idempotent(request, create)


class CampaignDetailView(APIView):
    @extend_schema(
        operation_id="checkin_campaigns_retrieve",
        summary="打卡活动详情 / A check-in campaign",
        description="The campaign, whether today is a campaign day, and whether the caller may manage "
        "it.\n\nErrors: 401 not_authenticated; 404 not_found.",
        responses={200: CampaignOutput, **error_responses("404 not_found")},
        tags=TAGS,
    )
    def get(self, request: Request, campaign_id: str) -> Response:
        campaign, access = load_campaign(request, campaign_id)
        return Response(
            CampaignOutput(campaign_data(campaign, can_manage=access.manages, now=timezone.now())).data
        )

    @extend_schema(
        operation_id="checkin_campaigns_update",
        summary="修改打卡活动 / Edit a check-in campaign",
        description=(
            "Its creator or a school admin of its school edits an open campaign; omitted fields stay. "
            "`start_date` can move only before the campaign starts; classes cannot change. "
            "Existing check-ins stay as they are.\n\n"
            "Errors: 400 invalid, title_required, campaign_started, start_date_in_past, "
            "end_before_start, campaign_too_long, invalid_weekdays, no_campaign_days, "
            "invalid_content_types, invalid_makeup_days; 403 not_campaign_owner; 404 not_found; "
            "409 campaign_closed."
        ),
        request=CampaignUpdateInput,
        responses={
            200: CampaignOutput,
            **error_responses(
                "400 invalid title_required campaign_started start_date_in_past end_before_start campaign_too_long invalid_weekdays no_campaign_days invalid_content_types invalid_makeup_days",
                "403 not_campaign_owner",
                "404 not_found",
                "409 campaign_closed",
            ),
        },
        tags=TAGS,
    )
    def patch(self, request: Request, campaign_id: str) -> Response:
        campaign, access = load_campaign(request, campaign_id)
        data = CampaignUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        campaign_update(
            actor=request.user,
            campaign=campaign,
            access=access,
            changes=data.validated_data,
            ip=client_ip(request),
        )
        campaign, access = load_campaign(request, campaign_id)
        return Response(
            CampaignOutput(campaign_data(campaign, can_manage=access.manages, now=timezone.now())).data
        )


class CampaignCloseView(APIView):
    @extend_schema(
        operation_id="checkin_campaigns_close",
        summary="结束打卡活动 / Close a check-in campaign",
        description="Ends the campaign now: no more check-ins, make-ups or reminders. Idempotent.\n\n"
        "Errors: 403 not_campaign_owner; 404 not_found.",
        request=None,
        responses={200: CampaignOutput, **error_responses("403 not_campaign_owner", "404 not_found")},
        tags=TAGS,
    )
    def post(self, request: Request, campaign_id: str) -> Response:
        campaign, access = load_campaign(request, campaign_id)
        campaign_close(actor=request.user, campaign=campaign, access=access, ip=client_ip(request))
        campaign, access = load_campaign(request, campaign_id)
        return Response(
            CampaignOutput(campaign_data(campaign, can_manage=access.manages, now=timezone.now())).data
        )


class CampaignStatsView(APIView):
    @extend_schema(
        operation_id="checkin_campaigns_stats",
        summary="打卡统计 / Who checked in on a day",
        description=(
            "For teachers of the campaign's classes (their own classes) and school admins of its school "
            "(all classes): how many students were expected on `date` (default today, Asia/"
            "Shanghai), how many checked in (make-ups count), and who is missing. A day the "
            "campaign does not run answers `campaign_day: false` and zeros.\n\n"
            "Errors: 400 invalid_date; 403 teachers_only (students and guardians); 404 not_found."
        ),
        parameters=[OpenApiParameter("date", str, required=False, description="YYYY-MM-DD")],
        responses={
            200: CampaignStatsOutput,
            **error_responses("400 invalid_date", "403 teachers_only", "404 not_found"),
        },
        tags=TAGS,
    )
    def get(self, request: Request, campaign_id: str) -> Response:
        campaign, access = load_campaign(request, campaign_id)
        if not access.is_staff:
            raise ApiError("teachers_only", "只有班级教师或学校管理员可以查看统计", status_code=403)
        day = parse_date(request.query_params.get("date")) or local_date(timezone.now())
        stats = campaign_day_stats(campaign=campaign, class_ids=access.staff_class_ids, day=day)
        return Response(
            CampaignStatsOutput(
                {
                    "date": stats.date,
                    "campaign_day": stats.campaign_day,
                    "expected": stats.expected,
                    "done": stats.done,
                    "missing": [{"id": s.id, "name": s.name, "class_id": s.class_id} for s in stats.missing],
                }
            ).data
        )


class CampaignStreaksView(APIView):
    @extend_schema(
        operation_id="checkin_campaigns_streaks",
        summary="连续打卡 / Streaks of a student",
        description=(
            "`current` consecutive campaign days checked in (days the campaign does not run do not "
            "break it; a make-up fills its day; today's missing check-in does not break it yet), "
            "`longest` and `total`. `student_id`: the caller (a student of the campaign, the "
            "default), their child, or for teachers/admins a student of their classes.\n\n"
            "Errors: 400 student_id_required, invalid_student_id; 404 not_found (campaign or student)."
        ),
        parameters=[OpenApiParameter("student_id", int, required=False)],
        responses={
            200: CheckinStreaksOutput,
            **error_responses("400 student_id_required invalid_student_id", "404 not_found"),
        },
        tags=TAGS,
    )
    def get(self, request: Request, campaign_id: str) -> Response:
        campaign, access = load_campaign(request, campaign_id)
        raw = request.query_params.get("student_id")
        if raw:
            if not raw.isdigit():
                raise ApiError("invalid_student_id", "student_id 应为整数")
            student_id = int(raw)
        elif access.user_id in access.family_classes:
            student_id = access.user_id
        else:
            raise ApiError("student_id_required", "请指定 student_id")
        class_id = access.family_classes.get(student_id)
        if class_id is None and access.is_staff:
            found = campaign_student_class(campaign=campaign, student_id=student_id)
            class_id = found if found in access.staff_class_ids else None
        if class_id is None:
            raise ApiError("not_found", "学生不存在或不在您的范围内", status_code=404)
        streaks = student_streaks(campaign=campaign, student_id=student_id, today=local_date(timezone.now()))
        return Response(
            CheckinStreaksOutput(
                {
                    "student_id": student_id,
                    "current": streaks.current,
                    "longest": streaks.longest,
                    "total": streaks.total,
                }
            ).data
        )


class CampaignRankingView(APIView):
    @extend_schema(
        operation_id="checkin_campaigns_ranking",
        summary="打卡排行 / Ranking of a class",
        description=(
            "Exists only when the school allows class-wide display (allow_class_visibility); "
            "rankings are private by default (MOE 2021). Students of the caller's classes in the "
            "campaign (a student's or child's class; a teacher's classes; all for admins), by "
            "days checked in, then current and longest streak; ties share a rank. Other "
            "children are shown as “同学A” (stable in the campaign, id null) unless the school "
            "allows names in public; teachers and admins always see names.\n\n"
            "Errors: 403 class_visibility_off; 404 not_found."
        ),
        responses={200: CheckinRankingOutput, **error_responses("403 class_visibility_off", "404 not_found")},
        tags=TAGS,
    )
    def get(self, request: Request, campaign_id: str) -> Response:
        campaign, access = load_campaign(request, campaign_id)
        require_class_visibility(campaign)
        today = local_date(timezone.now())
        if access.is_staff:
            rows = campaign_ranking(campaign=campaign, class_ids=access.staff_class_ids, today=today)
            data = ranking_rows(rows, full_ids=None, aliases=None)
        else:
            class_ids = sorted(set(access.family_classes.values()))
            rows = campaign_ranking(campaign=campaign, class_ids=class_ids, today=today)
            aliases = None
            if not campaign.school.allow_names_public:
                aliases = campaign_aliases_ensure(campaign=campaign, student_ids=[r.student.id for r in rows])
            data = ranking_rows(rows, full_ids=set(access.family_ids), aliases=aliases)
        return Response(
            CheckinRankingOutput(
                {"results": data, "next": None, "names_public": campaign.school.allow_names_public}
            ).data
        )
