"""The SMS admin pages: operators top up; school admins see their subtree only and
transfer, freeze and open allowances through the services."""

from __future__ import annotations

import pytest
from django.test import Client

from backend.accounts.models import User
from backend.audit.models import AuditRecord
from backend.sms.models import LedgerEntry, SmsAccount

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def operator(db):
    return User.objects.create_superuser("13312345678", "pw-123456", name="平台运营")


def test_every_sms_page_renders_for_operators(world, funded, operator):
    client = browser(operator)
    for model in ("smsaccount", "ledgerentry", "smsjob", "smsmessage", "smsunsubscribe", "smsreply"):
        response = client.get(f"/admin/sms/{model}/")
        assert response.status_code == 200, model
    page = client.get("/admin/sms/smsaccount/").content.decode()
    assert "西工区第一小学短信账户" in page
    assert "老城区第一小学短信账户" in page
    assert "开通短信账户" in page


def test_operator_tops_up_through_the_form(world, funded, operator):
    client = browser(operator)
    url = f"/admin/sms/smsaccount/{funded.other_school.pk}/top-up/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"segments": "250", "memo": "2026 合同"})
    assert response.status_code == 302
    funded.other_school.refresh_from_db()
    assert funded.other_school.balance == 750
    assert LedgerEntry.objects.filter(account=funded.other_school, kind="top_up", memo="2026 合同").exists()
    refused = client.post(url, {"segments": "0"})
    assert refused.status_code == 200  # the form again, with the error
    funded.other_school.refresh_from_db()
    assert funded.other_school.balance == 750


def test_school_admin_sees_and_manages_only_their_subtree(world, funded):
    admin_user = world.school_admins[0]
    assert admin_user.is_staff
    client = browser(admin_user)
    page = client.get("/admin/sms/smsaccount/").content.decode()
    assert "西工区第一小学短信账户" in page
    assert "老城区第一小学短信账户" not in page
    assert "西工区教育局" not in page
    # no top-up for school admins, no pages for other schools' accounts
    assert client.get(f"/admin/sms/smsaccount/{funded.school.pk}/top-up/").status_code == 404
    assert client.get(f"/admin/sms/smsaccount/{funded.other_school.pk}/transfer/").status_code == 404
    # open a teacher's allowance and fund it
    opened = client.post(
        "/admin/sms/smsaccount/open/",
        {"org": world.schools[0].pk, "teacher_phone": world.teachers[0].phone},
    )
    assert opened.status_code == 302
    allowance = SmsAccount.objects.get(owner=world.teachers[0])
    moved = client.post(
        f"/admin/sms/smsaccount/{funded.school.pk}/transfer/", {"target": allowance.pk, "segments": "30"}
    )
    assert moved.status_code == 302
    allowance.refresh_from_db()
    assert allowance.balance == 30
    # freeze: allowed on the allowance, refused on the school's own account
    client.post(
        "/admin/sms/smsaccount/",
        {"action": "freeze", "_selected_action": [allowance.pk, funded.school.pk]},
    )
    allowance.refresh_from_db()
    funded.school.refresh_from_db()
    assert (allowance.frozen, funded.school.frozen) == (True, False)
    assert AuditRecord.objects.filter(action="sms.account_frozen").count() == 1


def test_people_without_admin_roles_see_no_sms_pages(world, funded):
    teacher = world.teachers[0]
    User.objects.filter(pk=teacher.pk).update(is_staff=True)
    teacher.refresh_from_db()
    assert browser(teacher).get("/admin/sms/smsaccount/").status_code == 403
