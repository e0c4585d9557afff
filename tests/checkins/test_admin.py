"""Admin pages (Chinese, read-mostly): scoped to the admin's school; closing and removing
go through services and are audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from backend.audit.models import AuditRecord
from backend.checkins.models import Checkin, CheckinCampaign
from backend.checkins.services import checkin_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_schools(world: Any, make_campaign: Any) -> tuple[Any, Any]:
    mine, theirs = make_campaign(0, title="本校阅读"), make_campaign(2, title="外校跳绳")
    for campaign, student in ((mine, world.students[0][0]), (theirs, world.students[2][0])):
        checkin_submit(user=student, campaign=campaign, student_id=student.pk, text="打卡内容", client_id="a")
    return mine, theirs


def admin_client(user: Any, *perms: str) -> Client:
    type(user).objects.filter(pk=user.pk).update(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="checkins", codename__in=perms)
    )
    client = Client()
    client.force_login(user)
    return client


def test_superuser_sees_everything_in_chinese(world: Any, two_schools: Any) -> None:
    from backend.accounts.models import User

    root = User.objects.create_superuser("13999999999", "pw-123456", name="平台管理员")
    client = Client()
    client.force_login(root)
    campaigns = client.get("/admin/checkins/checkincampaign/")
    checkins = client.get("/admin/checkins/checkin/")
    assert campaigns.status_code == checkins.status_code == 200
    html = campaigns.content.decode()
    assert "打卡活动" in html
    assert "本校阅读" in html
    assert "外校跳绳" in html
    assert "打卡记录" in checkins.content.decode()
    checkin = Checkin.objects.first()
    detail = client.get(f"/admin/checkins/checkin/{checkin.pk}/change/")
    assert detail.status_code == 200
    assert "打卡内容" in detail.content.decode()
    assert client.get("/admin/checkins/checkin/add/").status_code == 403


def test_school_admin_sees_only_their_school(world: Any, two_schools: Any) -> None:
    client = admin_client(world.school_admins[0], "view_checkincampaign", "view_checkin")
    html = client.get("/admin/checkins/checkincampaign/").content.decode()
    assert "本校阅读" in html
    assert "外校跳绳" not in html
    foreign = Checkin.objects.get(campaign=two_schools[1])
    assert client.get(f"/admin/checkins/checkin/{foreign.pk}/change/").status_code == 302  # "does not exist"


def test_removing_a_checkin_is_audited(world: Any, two_schools: Any) -> None:
    client = admin_client(world.school_admins[0], "view_checkin", "delete_checkin")
    checkin = Checkin.objects.get(campaign=two_schools[0])
    response = client.post(f"/admin/checkins/checkin/{checkin.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Checkin.objects.filter(pk=checkin.pk).exists()
    record = AuditRecord.objects.get(action="checkins.checkin_remove")
    assert record.actor_id == world.school_admins[0].pk
    assert record.detail["student_id"] == world.students[0][0].pk


def test_closing_from_the_admin(world: Any, two_schools: Any) -> None:
    client = admin_client(world.school_admins[0], "view_checkincampaign", "change_checkincampaign")
    mine, theirs = two_schools
    response = client.post(
        "/admin/checkins/checkincampaign/",
        {"action": "close_campaigns", "_selected_action": [mine.pk, theirs.pk]},
    )
    assert response.status_code == 302
    statuses = dict(CheckinCampaign.objects.values_list("pk", "status"))
    # The other school's campaign is outside the admin's queryset: untouched.
    assert statuses == {mine.pk: "closed", theirs.pk: "open"}
    assert AuditRecord.objects.filter(action="checkins.campaign_close").count() == 1


def test_viewing_admins_cannot_close(world: Any, two_schools: Any) -> None:
    # A staff member with view rights only (outside the 学校管理员 group, which may close).
    world.school_admins[0].groups.clear()
    client = admin_client(world.school_admins[0], "view_checkincampaign")
    client.post(
        "/admin/checkins/checkincampaign/",
        {"action": "close_campaigns", "_selected_action": [two_schools[0].pk]},
    )
    assert CheckinCampaign.objects.get(pk=two_schools[0].pk).status == "open"
