"""stats/: usage scores (seed 003), teacher evidence, household reach, quarterly XLSX."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.conventions.errors import ApiError
from backend.conventions.schema import error_responses
from backend.conventions.scope import get_in_scope
from backend.schools.models import Org
from backend.stats.models import ScoreRow
from backend.stats.report import build_quarterly_report
from backend.stats.selectors import (
    ROWS,
    TotalsRow,
    class_reach,
    classes_for_reach,
    orgs_for_stats,
    school_teacher_totals,
    subtree_school_totals,
    teacher_week_detail,
    teachers_visible_for_stats,
)
from backend.stats.weeks import current_week, parse_quarter

from .serializers import ReachOutput, ScoresOutput, TeacherScoresOutput

TAG = ["stats"]
ORG_NOT_FOUND = "机构不存在"
ROW_LABELS = {r.value: r.label for r in ScoreRow}


def parse_week(raw: str | None) -> date:
    if not raw:
        return current_week()
    try:
        week = date.fromisoformat(raw)
    except ValueError:
        raise ApiError(
            "invalid_week", "周格式应为 YYYY-MM-DD（周一）", fields={"week": ["日期无效"]}
        ) from None
    if week.weekday() != 0:
        raise ApiError("week_not_monday", "周应以周一的日期表示", fields={"week": ["不是周一"]})
    return week


def scoped_org(request: Request) -> Org:
    raw = request.query_params.get("org_id")
    if not raw:
        raise ApiError("org_id_required", "请指定机构", fields={"org_id": ["必填"]})
    return get_in_scope(orgs_for_stats(user=request.user), raw, ORG_NOT_FOUND)


def _row_dict(row: TotalsRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "total": row.total, "rows": row.rows}


WEEK_PARAM = OpenApiParameter("week", str, description="周一日期 YYYY-MM-DD，默认本周")
ORG_PARAM = OpenApiParameter(
    "org_id", int, required=True, description="管理范围内的机构（学校、区县、市、省）"
)


class ScoresView(APIView):
    @extend_schema(
        tags=TAG,
        summary="应用积分汇总 / Usage scores of an org",
        parameters=[ORG_PARAM, WEEK_PARAM],
        responses={
            200: ScoresOutput,
            **error_responses("400 org_id_required invalid_week week_not_monday", "404 not_found"),
        },
        description="学校：每位教师各项得分；上级机构：下属每所学校各项得分。"
        "Errors: 400 org_id_required, invalid_week, week_not_monday; 404 not_found (机构不在管理范围).",
    )
    def get(self, request: Request) -> Response:
        org = scoped_org(request)
        week = parse_week(request.query_params.get("week"))
        if org.kind == Org.Kind.SCHOOL:
            level, rows = "teacher", school_teacher_totals(school=org, weeks=[week])
        else:
            level, rows = "school", subtree_school_totals(org=org, weeks=[week])
        totals = TotalsRow(org.pk, org.name)
        for r in rows:
            totals.total += r.total
            for key in ROWS:
                totals.rows[key] += r.rows[key]
        body = {
            "org": {"id": org.pk, "name": org.name, "kind": org.kind},
            "week": week,
            "level": level,
            "row_labels": ROW_LABELS,
            "totals": _row_dict(totals),
            "results": [_row_dict(r) for r in rows],
        }
        return Response(ScoresOutput(body).data)


class TeacherScoresView(APIView):
    @extend_schema(
        tags=TAG,
        summary="教师积分明细 / A teacher's scores with evidence",
        parameters=[WEEK_PARAM],
        responses={
            200: TeacherScoresOutput,
            **error_responses("400 invalid_week week_not_monday", "404 not_found"),
        },
        description="每项得分及其依据（哪条通知、哪个打卡活动、哪份作业），超出上限的也列出（capped）。"
        "Errors: 400 invalid_week, week_not_monday; 404 not_found.",
    )
    def get(self, request: Request, teacher_id: str) -> Response:
        teacher = get_in_scope(teachers_visible_for_stats(user=request.user), teacher_id, "教师不存在")
        week = parse_week(request.query_params.get("week"))
        rows = teacher_week_detail(teacher=teacher, week=week)
        body = {
            "teacher": {"id": teacher.pk, "name": teacher.name},
            "week": week,
            "total": sum(r["points"] for r in rows),
            "rows": rows,
        }
        return Response(TeacherScoresOutput(body).data)


class ReachView(APIView):
    @extend_schema(
        tags=TAG,
        summary="家庭触达 / Household reach of a class",
        parameters=[
            OpenApiParameter("class_id", int, required=True),
            OpenApiParameter("days", int, description="统计最近多少天的通知，默认 30，最多 366"),
        ],
        responses={
            200: ReachOutput,
            **error_responses("400 class_id_required invalid_days", "404 not_found"),
        },
        description="班级家长的阅读率，以及无法触达的家庭（未装应用且短信不可达：无号码、退订、号码失效、发送失败）。"
        "Errors: 400 class_id_required, invalid_days; 404 not_found.",
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("class_id")
        if not raw:
            raise ApiError("class_id_required", "请指定班级", fields={"class_id": ["必填"]})
        school_class = get_in_scope(
            classes_for_reach(user=request.user).select_related("school"), raw, "班级不存在"
        )
        try:
            days = int(request.query_params.get("days", "30"))
        except ValueError:
            days = 0
        if not 1 <= days <= 366:
            raise ApiError("invalid_days", "天数应在 1 到 366 之间", fields={"days": ["无效"]})
        end = timezone.now()
        start = end - timedelta(days=days)
        reach = class_reach(classes=[school_class], start=start, end=end)[0]
        body = {**reach.__dict__, "read_rate": reach.read_rate, "since": start}
        return Response(ReachOutput(body).data)


class QuarterlyReportView(APIView):
    @extend_schema(
        tags=TAG,
        summary="季度报表 / Quarterly report (XLSX)",
        parameters=[ORG_PARAM, OpenApiParameter("quarter", str, required=True, description="例如 2026Q4")],
        responses={
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiResponse(
                description="工作表：概览、教师积分、家庭触达、周趋势（含图表）"
            ),
            **error_responses("400 org_id_required invalid_quarter", "404 not_found"),
        },
        description="Errors: 400 org_id_required, invalid_quarter; 404 not_found.",
    )
    def get(self, request: Request) -> HttpResponse:
        org = scoped_org(request)
        quarter = request.query_params.get("quarter", "")
        bounds = parse_quarter(quarter)
        if bounds is None:
            raise ApiError("invalid_quarter", "季度格式应为 2026Q4", fields={"quarter": ["格式无效"]})
        content = build_quarterly_report(org=org, start=bounds[0], end=bounds[1])
        response = HttpResponse(
            content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        filename = f"quarterly-{org.pk}-{quarter.upper()}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
