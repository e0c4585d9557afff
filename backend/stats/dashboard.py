"""The admin dashboard: weekly trend, this week's points by row, and read rates, as
inline SVG drawn from the stored scores."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from backend.schools.models import Org, SchoolClass
from backend.schools.selectors import orgs_administered

from .charts import bar_chart, line_chart
from .models import ScoreRow
from .overview import school_quarter
from .selectors import ROWS, class_reach, school_teacher_totals, subtree_school_totals, weekly_school_trend
from .weeks import current_week

TREND_WEEKS = 12
TREND_SERIES = 8


def dashboard_orgs(*, user: Any) -> QuerySet[Org]:
    orgs = Org.objects.all() if user.is_superuser else orgs_administered(user=user)
    return orgs.exclude(kind=Org.Kind.SCHOOL).order_by("path") | orgs.filter(kind=Org.Kind.SCHOOL).order_by(
        "path"
    )


def dashboard_context(*, user: Any, org_id: str | None) -> dict[str, Any]:
    orgs = list(dashboard_orgs(user=user).order_by("depth", "name")[:500])
    org = next((o for o in orgs if str(o.pk) == (org_id or "")), orgs[0] if orgs else None)
    if org is None:
        return {"orgs": [], "org": None}
    this_week = current_week()
    weeks = [this_week - timedelta(days=7 * k) for k in range(TREND_WEEKS - 1, -1, -1)]
    trend = weekly_school_trend(org=org, weeks=weeks)
    schools = dict(
        Org.objects.filter(path__startswith=org.path, kind=Org.Kind.SCHOOL).values_list("id", "name")
    )
    ranked = sorted(schools, key=lambda s: -sum(trend.get(s, {}).values()))[:TREND_SERIES]
    trend_svg = line_chart(
        title="每周积分趋势（按学校）",
        labels=[w.strftime("%m-%d") for w in weeks],
        series={schools[s]: [trend.get(s, {}).get(w, 0) for w in weeks] for s in ranked},
    )
    if org.kind == Org.Kind.SCHOOL:
        table = school_teacher_totals(school=org, weeks=[this_week])
        classes = SchoolClass.objects.filter(school=org).select_related("school").order_by("name")
        now = timezone.now()
        reach = class_reach(classes=classes, start=now - timedelta(days=30), end=now)
        reach_svg = bar_chart(
            title="各班最近30天通知阅读率",
            labels=[r.class_name for r in reach],
            values=[r.read_rate for r in reach],
            percent=True,
        )
    else:
        table = subtree_school_totals(org=org, weeks=[this_week])
        start = timezone.localdate() - timedelta(days=30)
        figures = school_quarter(org=org, start=start, end=timezone.localdate() + timedelta(days=1), weeks=[])
        figures = [f for f in figures if f.recipients][:30]
        reach_svg = bar_chart(
            title="各校最近30天通知阅读率",
            labels=[f.name for f in figures],
            values=[f.read_rate for f in figures],
            percent=True,
        )
    row_totals = [sum(r.rows[key] for r in table) for key in ROWS]
    rows_svg = bar_chart(title="本周各项积分", labels=[r.label for r in ScoreRow], values=row_totals)
    return {
        "orgs": orgs,
        "org": org,
        "weeks": weeks,
        "trend_svg": trend_svg,
        "rows_svg": rows_svg,
        "reach_svg": reach_svg,
        "row_labels": [r.label for r in ScoreRow],
        "table": [{"name": r.name, "points": [r.rows[k] for k in ROWS], "total": r.total} for r in table],
    }
