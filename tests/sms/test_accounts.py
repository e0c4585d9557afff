"""Accounts mirror the org tree: top-ups, transfers, freezing, the ledger as the truth,
what each caller sees, the operators' command and the demo accounts."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from backend.audit.models import AuditRecord
from backend.conventions.errors import ApiError
from backend.schools.models import Org
from backend.sms.models import LedgerEntry, SmsAccount
from backend.sms.selectors import ledger_mismatches
from backend.sms.services import (
    sms_account_create,
    sms_account_set_frozen,
    sms_account_top_up,
    sms_account_transfer,
    sms_demo_accounts,
)

pytestmark = pytest.mark.django_db


def test_tree_balances_are_the_ledger_sums(world, funded):
    assert funded.school.parent == funded.bureau
    assert funded.other_school.parent is None  # 老城区 has no bureau account
    assert (funded.bureau.balance, funded.school.balance, funded.other_school.balance) == (9_000, 1_000, 500)
    kinds = list(
        LedgerEntry.objects.filter(account=funded.bureau).order_by("id").values_list("kind", "segments")
    )
    assert kinds == [("top_up", 10_000), ("transfer_out", -1_000)]
    assert ledger_mismatches() == []
    # the cache cannot drift from the ledger unnoticed
    SmsAccount.objects.filter(pk=funded.school.pk).update(balance=5)
    assert [m.account_id for m in ledger_mismatches()] == [funded.school.pk]


def test_the_database_refuses_an_overdraft_even_from_a_bug(world, funded):
    with pytest.raises(IntegrityError), transaction.atomic():
        SmsAccount.objects.filter(pk=funded.school.pk).update(reserved=1_001)


def test_extension_codes_are_unique_digits(world, funded):
    codes = [a.extension_code for a in (funded.bureau, funded.school, funded.other_school)]
    assert all(code and code.isdigit() for code in codes)
    assert len(set(codes)) == 3
    with pytest.raises(ApiError) as taken:
        sms_account_create(org=world.schools[0], owner=world.teachers[0], extension_code=codes[0])
    assert taken.value.code == "extension_code_taken"


def test_top_up_is_for_operators_only(world, funded):
    with pytest.raises(ApiError) as denied:
        sms_account_top_up(account=funded.school, segments=100, actor=world.bureau_admins[0])
    assert denied.value.status_code == 403
    for bad in (0, -5):
        with pytest.raises(ApiError) as invalid:
            sms_account_top_up(account=funded.school, segments=bad)
        assert invalid.value.code == "invalid_segments"
    funded.school.refresh_from_db()
    assert funded.school.balance == 1_000
    assert AuditRecord.objects.filter(action="sms.top_up").count() == 2  # the fixture's two


def test_transfers_only_up_and_down_one_level_by_the_parents_admin(world, funded):
    teacher = world.teachers[0]
    allowance = sms_account_create(org=world.schools[0], owner=teacher, actor=world.school_admins[0])
    assert allowance.parent == funded.school
    assert allowance.signature == "【西工区第一小学】"
    sms_account_transfer(source=funded.school, target=allowance, segments=50, actor=world.school_admins[0])
    # the teacher may not fund themselves, another school's admin sees no such account
    for actor in (teacher, world.school_admins[1]):
        with pytest.raises(ApiError) as denied:
            sms_account_transfer(source=funded.school, target=allowance, segments=1, actor=actor)
        assert denied.value.status_code == 404
    # a school admin cannot take from the bureau, nor move between schools
    with pytest.raises(ApiError) as denied:
        sms_account_transfer(
            source=funded.bureau, target=funded.school, segments=1, actor=world.school_admins[0]
        )
    assert denied.value.status_code == 404
    with pytest.raises(ApiError) as sideways:
        sms_account_transfer(source=funded.school, target=funded.other_school, segments=1)
    assert sideways.value.code == "transfer_not_allowed"
    with pytest.raises(ApiError) as short:
        sms_account_transfer(
            source=allowance, target=funded.school, segments=51, actor=world.school_admins[0]
        )
    assert (short.value.code, short.value.status_code) == ("insufficient_quota", 409)
    # reclaiming unused quota
    sms_account_transfer(source=allowance, target=funded.school, segments=20, actor=world.school_admins[0])
    allowance.refresh_from_db()
    funded.school.refresh_from_db()
    assert (allowance.balance, funded.school.balance) == (30, 970)
    audit = AuditRecord.objects.filter(action="sms.transfer").order_by("id").last()
    assert audit.detail == {**audit.detail, "from": allowance.pk, "to": funded.school.pk, "segments": 20}
    assert ledger_mismatches() == []


def test_freeze_and_unfreeze_are_audited_and_block_transfers(world, funded):
    bureau_admin = world.bureau_admins[0]
    with pytest.raises(ApiError):
        sms_account_set_frozen(account=funded.school, frozen=True, actor=world.school_admins[0])
    sms_account_set_frozen(account=funded.school, frozen=True, actor=bureau_admin, reason="超量使用")
    with pytest.raises(ApiError) as frozen:
        sms_account_transfer(source=funded.bureau, target=funded.school, segments=1, actor=bureau_admin)
    assert frozen.value.code == "account_frozen"
    sms_account_set_frozen(account=funded.school, frozen=False, actor=bureau_admin)
    actions = list(
        AuditRecord.objects.filter(object_id=str(funded.school.pk)).values_list("action", flat=True)
    )
    assert "sms.account_frozen" in actions
    assert "sms.account_unfrozen" in actions


def test_accounts_api_shows_each_caller_their_own(world, funded, client_as):
    allowance = sms_account_create(org=world.schools[0], owner=world.teachers[0])

    def ids(user):
        response = client_as(user).get("/api/v1/sms/accounts/")
        assert response.status_code == 200
        return {a["id"] for a in response.json()["results"]}

    assert ids(world.bureau_admins[0]) == {funded.bureau.pk, funded.school.pk, allowance.pk}
    assert ids(world.school_admins[0]) == {funded.school.pk, allowance.pk}
    assert ids(world.teachers[0]) == {allowance.pk}
    assert ids(world.teachers[1]) == set()
    assert ids(world.guardians[0][0]) == set()
    assert ids(world.school_admins[1]) == {funded.other_school.pk}
    one = client_as(world.school_admins[0]).get(f"/api/v1/sms/accounts/{funded.school.pk}/").json()
    assert one == {
        "id": funded.school.pk,
        "name": "西工区第一小学短信账户",
        "org": {"id": world.schools[0].pk, "name": "西工区第一小学", "kind": "school"},
        "owner": None,
        "parent_id": funded.bureau.pk,
        "signature": "【西工区第一小学】",
        "extension_code": funded.school.extension_code,
        "frozen": False,
        "balance": 1000,
        "reserved": 0,
        "available": 1000,
    }
    assert (
        client_as(world.school_admins[1]).get(f"/api/v1/sms/accounts/{funded.school.pk}/").status_code == 404
    )
    ledger = client_as(world.school_admins[0]).get(f"/api/v1/sms/accounts/{funded.school.pk}/ledger/").json()
    assert [(e["kind"], e["segments"]) for e in ledger["results"]] == [("transfer_in", 1000)]


def test_transfer_api(world, funded, client_as):
    allowance = sms_account_create(org=world.schools[0], owner=world.teachers[0])
    admin = client_as(world.school_admins[0])
    url = f"/api/v1/sms/accounts/{funded.school.pk}/transfers/"
    response = admin.post(
        url, {"to_account_id": allowance.pk, "segments": 40, "memo": "本学期额度"}, format="json"
    )
    assert response.status_code == 201
    assert (response.json()["source"]["available"], response.json()["target"]["available"]) == (960, 40)
    too_much = admin.post(url, {"to_account_id": allowance.pk, "segments": 961}, format="json")
    assert (too_much.status_code, too_much.json()["error"]["code"]) == (409, "insufficient_quota")
    # the teacher sees their allowance but the school account is not theirs
    teacher = client_as(world.teachers[0])
    assert teacher.post(url, {"to_account_id": allowance.pk, "segments": 1}, format="json").status_code == 404
    back = f"/api/v1/sms/accounts/{allowance.pk}/transfers/"
    assert (
        teacher.post(back, {"to_account_id": funded.school.pk, "segments": 1}, format="json").status_code
        == 404
    )
    allowance.refresh_from_db()
    assert allowance.balance == 40


def test_templates_endpoint(world, client_as):
    data = client_as(world.school_admins[0]).get("/api/v1/sms/templates/").json()
    assert data["free_text"] is True
    meeting = next(t for t in data["templates"] if t["id"] == "parent_meeting")
    assert meeting["slots"] == {"class": 16, "time": 20, "place": 20}
    assert "notice" not in {t["id"] for t in data["templates"]}


def test_operator_command_tops_up_an_org_account(world, funded):
    call_command("sms_account_topup", "--org", str(world.schools[1].pk), "--segments", "300", verbosity=0)
    funded.other_school.refresh_from_db()
    assert funded.other_school.balance == 800
    with pytest.raises(CommandError):
        call_command("sms_account_topup", "--org", str(world.counties[1].pk), "--segments", "5", verbosity=0)
    call_command(
        "sms_account_topup",
        "--org",
        str(world.counties[1].pk),
        "--segments",
        "5",
        "--create",
        "--signature",
        "老城区教育局",
        verbosity=0,
    )
    created = SmsAccount.objects.get(org=world.counties[1])
    assert (created.balance, created.signature) == (5, "【老城区教育局】")
    with pytest.raises(CommandError):
        call_command("sms_account_topup", "--org", str(world.schools[1].pk), "--segments", "0", verbosity=0)


def test_demo_accounts_are_idempotent(db):
    from backend.schools.services import org_create

    province = org_create(name="河南省", kind=Org.Kind.PROVINCE)
    city = org_create(name="洛阳市", kind=Org.Kind.CITY, parent=province)
    county = org_create(name="西工区", kind=Org.Kind.COUNTY, parent=city)
    school = org_create(name="洛阳市西工区示范小学", kind=Org.Kind.SCHOOL, parent=county)
    first = sms_demo_accounts(school=school)
    second = sms_demo_accounts(school=school)
    assert first.pk == second.pk
    assert (second.signature, second.balance) == ("【洛阳市西工区示范小学】", 20_000)
    bureau = SmsAccount.objects.get(org=county)
    assert (bureau.balance, bureau.signature) == (80_000, "【西工区教育局】")
    assert LedgerEntry.objects.count() == 3
