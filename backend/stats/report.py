"""The quarterly report as XLSX: 概览, 教师积分, 家庭触达, 周趋势, with charts a reader
can look at (weekly trend per school, read rate per class)."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from backend.schools.models import Org, SchoolClass

from .models import ScoreRow
from .overview import (
    after_hours_messages,
    discussions_available,
    discussions_by_school,
    school_quarter,
    teacher_quarter,
)
from .selectors import ROWS, class_reach, weekly_school_trend
from .weeks import day_start, weeks_between

REASONS = {
    "no_phone": "无手机号",
    "unsubscribed": "已退订",
    "stale_number": "号码失效",
    "sms_failing": "短信发送失败",
}


def _header(ws: Worksheet, titles: list[str]) -> None:
    ws.append(titles)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"


def build_quarterly_report(*, org: Org, start: date, end: date) -> bytes:
    weeks = weeks_between(start, end)
    wb = Workbook()
    overview = wb.active
    assert overview is not None
    overview.title = "概览"
    _header(
        overview,
        [
            "学校",
            "教师数",
            "活跃教师",
            "通知数",
            "通知接收人次",
            "已读率",
            "回执确认率",
            "班级讨论",
            "打卡次数",
            "参与打卡学生",
            "批改作业份数",
            "短信消耗（条）",
            "短信余额（条）",
        ],
    )
    # Without the messaging app there is nothing to count: say so rather than show 0.
    discussions = discussions_by_school(org=org, start=start, end=end) if discussions_available() else None
    for s in school_quarter(org=org, start=start, end=end, weeks=weeks):
        overview.append(
            [
                s.name,
                s.teachers,
                s.active_teachers,
                s.notices,
                s.recipients,
                s.read_rate,
                s.confirm_rate,
                "未统计" if discussions is None else discussions.get(s.school_id, (0, 0))[0],
                s.checkins,
                s.checkin_students,
                s.corrected,
                s.sms_spent,
                s.sms_balance,
            ]
        )
    for row in overview.iter_rows(min_row=2, min_col=6, max_col=7):
        for cell in row:
            cell.number_format = "0.0%"

    scores = wb.create_sheet("教师积分")
    labels = [r.label for r in ScoreRow]
    _header(
        scores,
        ["教师", "学校", *labels, "合计", "免打扰时段发布通知", "免打扰时段发出消息", "免打扰时段收到消息"],
    )
    quiet_messages = after_hours_messages(org=org, start=start, end=end)
    for t in teacher_quarter(org=org, start=start, end=end, weeks=weeks):
        points = [t["rows"].get(r, 0) for r in ROWS]
        sent, received = quiet_messages.get(t["id"], (0, 0))
        scores.append([t["name"], t["school"], *points, sum(points), t["after_hours"], sent, received])

    reach_ws = wb.create_sheet("家庭触达")
    _header(
        reach_ws, ["学校", "班级", "家庭数", "已装应用", "通知数", "阅读率", "无法触达家庭", "无法触达明细"]
    )
    classes = SchoolClass.objects.filter(school__path__startswith=org.path).select_related("school")
    classes = classes.order_by("school__name", "name")
    reach = class_reach(classes=classes, start=day_start(start), end=day_start(end))
    for r in reach:
        detail = "；".join(
            f"{u['display_name']}（{REASONS.get(u['reason'], u['reason'])}）" for u in r.unreached
        )
        reach_ws.append(
            [
                r.school_name,
                r.class_name,
                r.families,
                r.with_app,
                r.notices,
                r.read_rate,
                len(r.unreached),
                detail,
            ]
        )
    for row in reach_ws.iter_rows(min_row=2, min_col=6, max_col=6):
        for cell in row:
            cell.number_format = "0.0%"
    if reach:
        bar = BarChart()
        bar.title = "各班通知阅读率"
        bar.y_axis.title = "阅读率"
        bar.add_data(Reference(reach_ws, min_col=6, min_row=1, max_row=len(reach) + 1), titles_from_data=True)
        bar.set_categories(Reference(reach_ws, min_col=2, min_row=2, max_row=len(reach) + 1))
        bar.width, bar.height = 18, 8
        reach_ws.add_chart(bar, "J2")

    trend_ws = wb.create_sheet("周趋势")
    trend = weekly_school_trend(org=org, weeks=weeks)
    school_rows = list(
        Org.objects.filter(path__startswith=org.path, kind=Org.Kind.SCHOOL).order_by("name", "id")
    )
    _header(trend_ws, ["周（周一）", *[s.name for s in school_rows]])
    for week in weeks:
        trend_ws.append([week.isoformat(), *[trend.get(s.pk, {}).get(week, 0) for s in school_rows]])
    if weeks and school_rows:
        line = LineChart()
        line.title = "每周积分趋势（按学校）"
        line.y_axis.title = "积分"
        line.x_axis.title = "周"
        line.add_data(
            Reference(trend_ws, min_col=2, max_col=len(school_rows) + 1, min_row=1, max_row=len(weeks) + 1),
            titles_from_data=True,
        )
        line.set_categories(Reference(trend_ws, min_col=1, min_row=2, max_row=len(weeks) + 1))
        line.width, line.height = 22, 10
        trend_ws.add_chart(line, "B" + str(len(weeks) + 4))

    out = BytesIO()
    wb.save(out)
    return out.getvalue()
