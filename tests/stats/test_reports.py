"""Quarterly XLSX (figures and charts), household reach, and the admin dashboard."""

from __future__ import annotations

from io import BytesIO
from typing import Any
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook

from backend.stats.services import stats_compute_week

from .conftest import (
    NOW,
    WEEK,
    add_students,
    at,
    make_assignment,
    make_campaign,
    make_checkins,
    make_discussion,
    make_notice,
    make_submissions,
)

REPORT = "/api/v1/stats/reports/quarterly.xlsx"
REACH = "/api/v1/stats/reach/"


def _text_sms(user: Any, state: str, n: int = 1) -> None:
    from backend.sms.models import SmsAccount, SmsMessage

    account = SmsAccount.objects.first()
    for k in range(n):
        SmsMessage.objects.create(
            account=account,
            source=f"test:{user.pk}:{k}",
            phone=user.phone,
            user=user,
            template="notice",
            template_code="SMS_1",
            text="【学校】通知",
            signature="【学校】",
            segments=1,
            state=state,
        )


@pytest.fixture
def school_year(world: Any) -> Any:
    """Class 0: 13 families, 10 read a notice (sent at 22:00, in quiet hours); 2 corrected works."""
    from backend.sms.models import SmsAccount

    teacher, klass = world.teachers[0], world.classes[0]
    families = [g for _, g in add_students(klass, 10)]
    make_notice(teacher, klass, families, others=world.guardians[0], at=at(WEEK, 22), confirm=True)
    make_checkins(make_campaign(teacher, klass), klass, world.students[0], day=WEEK)
    make_discussion(teacher, klass, world.guardians[0], at=at(WEEK, 22))  # 3 posters: no points
    homework = make_assignment(teacher, klass, at=at(WEEK))
    make_submissions(homework, klass, world.students[0][:2], at=at(WEEK), corrected_by=teacher)
    SmsAccount.objects.create(name="西工区第一小学", org=world.schools[0], signature="【西工区第一小学】")
    stats_compute_week(week=WEEK, now=NOW)
    return world


def test_quarterly_report_holds_figures_and_charts(client_for: Any, school_year: Any) -> None:
    response = client_for(school_year.bureau_admins[0]).get(
        REPORT, {"org_id": school_year.counties[0].pk, "quarter": "2026q4"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["概览", "教师积分", "家庭触达", "周趋势"]
    overview = [list(r) for r in book["概览"].iter_rows(values_only=True)]
    assert overview[0][:7] == ["学校", "教师数", "活跃教师", "通知数", "通知接收人次", "已读率", "回执确认率"]
    assert overview[1][:7] == ["西工区第一小学", 2, 1, 1, 13, round(10 / 13, 4), round(10 / 13, 4)]
    assert overview[1][7] == 1  # one class discussion
    assert overview[1][8:11] == [3, 3, 2]  # check-ins, students checking in, works corrected
    scores = [list(r) for r in book["教师积分"].iter_rows(values_only=True)]
    assert scores[0][-4:] == ["合计", "免打扰时段发布通知", "免打扰时段发出消息", "免打扰时段收到消息"]
    assert scores[1][:2] == ["教师01", "西工区第一小学"]
    # 5 (notice) + 1 (habit); the 22:00 notice and the 22:00 discussion are after hours.
    assert scores[1][-4:] == [6, 1, 1, 3]
    reach = [list(r) for r in book["家庭触达"].iter_rows(values_only=True)]
    assert reach[1][:6] == ["西工区第一小学", "三年级(1)班", 13, 0, 1, round(10 / 13, 4)]
    trend = [list(r) for r in book["周趋势"].iter_rows(values_only=True)]
    assert trend[0] == ["周（周一）", "西工区第一小学"]
    assert len(trend) == 1 + 13  # the 13 Mondays of 2026Q4
    assert ["2026-11-23", 6] in trend
    assert len(book["周趋势"]._charts) == 1
    assert len(book["家庭触达"]._charts) == 1


def test_quarterly_report_rejects_a_bad_quarter(client_for: Any, school_year: Any) -> None:
    response = client_for(school_year.school_admins[0]).get(
        REPORT, {"org_id": school_year.schools[0].pk, "quarter": "2026Q5"}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_quarter")


def test_reach_lists_families_nobody_reaches(client_for: Any, school_year: Any) -> None:
    from backend.accounts.models import Device
    from backend.sms.models import SmsUnsubscribe

    g = school_year.guardians[0]
    Device.objects.create(user=g[0], platform="android", token="tok-1")  # has the app: reached
    g[0].first_app_login_at = NOW
    g[0].save(update_fields=["first_app_login_at"])
    _text_sms(g[0], "failed")
    _text_sms(g[1], "failed", n=2)  # two failures in a row: a stale number
    SmsUnsubscribe.objects.create(phone=g[2].phone)
    _text_sms(g[2], "delivered")
    response = client_for(school_year.teachers[0]).get(REACH, {"class_id": school_year.classes[0].pk})
    assert response.status_code == 200
    body = response.json()
    assert (body["families"], body["with_app"], body["notices"], body["receipts"], body["read"]) == (
        13,
        1,
        1,
        13,
        10,
    )
    assert body["read_rate"] == round(10 / 13, 4)
    assert body["unreached"] == [
        {"guardian_id": g[1].pk, "display_name": "学生011妈妈", "reason": "stale_number"},
        {"guardian_id": g[2].pk, "display_name": "学生012妈妈", "reason": "unsubscribed"},
    ]
    assert "phone" not in str(body)


def test_reach_is_scoped(client_for: Any, school_year: Any) -> None:
    klass = school_year.classes[0]
    assert client_for(school_year.teachers[1]).get(REACH, {"class_id": klass.pk}).status_code == 404
    assert client_for(school_year.guardians[0][0]).get(REACH, {"class_id": klass.pk}).status_code == 404
    assert client_for(school_year.bureau_admins[1]).get(REACH, {"class_id": klass.pk}).status_code == 404
    assert client_for(school_year.school_admins[0]).get(REACH, {"class_id": klass.pk}).status_code == 200


def test_admin_dashboard_renders_well_formed_svg_charts(client: Any, school_year: Any) -> None:
    from backend.accounts.models import User

    boss = User.objects.create_superuser(phone="13600000000", password="pw-123456", name="平台")
    client.force_login(boss)
    response = client.get("/admin/stats/dashboard/", {"org_id": school_year.counties[0].pk})
    assert response.status_code == 200
    html = response.content.decode()
    marker = '<svg xmlns="http://www.w3.org/2000/svg" width='
    svgs = [html[i : html.index("</svg>", i) + 6] for i in range(len(html)) if html.startswith(marker, i)]
    assert len(svgs) == 3
    for svg in svgs:
        ElementTree.fromstring(svg)  # well-formed XML
    assert "每周积分趋势（按学校）" in svgs[0]
    assert "西工区第一小学" in svgs[0]
    assert "班级通知" in svgs[1]
    assert "77%" in svgs[2]  # the school's read rate, 10 of 13


def test_admin_dashboard_is_scoped_for_org_admins(client: Any, school_year: Any) -> None:
    admin = school_year.bureau_admins[1]
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    client.force_login(admin)
    response = client.get("/admin/stats/dashboard/", {"org_id": school_year.counties[0].pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert "老城区" in html
    assert "西工区第一小学" not in html
