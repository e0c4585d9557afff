"""The admin site for school admins: Chinese, scoped to their school, audited role changes."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from backend.accounts.models import User
from backend.audit.models import AuditRecord
from backend.schools.models import ClassMembership, Guardianship, Org, OrgAdmin, RosterImport
from backend.schools.services import SCHOOL_ADMIN_GROUP, org_admin_grant, org_admin_revoke

from .conftest import roster_rows, xlsx_bytes


@pytest.fixture
def admin_client(admin_of: Any) -> Client:
    client = Client()
    client.force_login(admin_of)
    return client


def test_org_admin_grant_opens_the_admin_site_and_revoke_closes_it(world: Any) -> None:
    group = Group.objects.get(name=SCHOOL_ADMIN_GROUP)
    codes = {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }
    assert {"schools.add_rosterimport", "schools.change_org", "accounts.change_user"} <= codes
    assert "schools.delete_schoolclass" not in codes

    user = world.teachers[0]
    grant = org_admin_grant(
        org=world.schools[0], user=user, role=OrgAdmin.Role.SCHOOL_ADMIN, actor=world.school_admins[0]
    )
    user.refresh_from_db()
    assert user.is_staff
    assert user.groups.filter(name=SCHOOL_ADMIN_GROUP).exists()
    assert AuditRecord.objects.filter(action="role.org_admin_granted", actor=world.school_admins[0]).exists()

    org_admin_revoke(grant=grant, actor=world.school_admins[0])
    user.refresh_from_db()
    assert not user.is_staff
    assert not user.groups.exists()
    assert AuditRecord.objects.filter(action="role.org_admin_revoked", object_id=str(grant.pk)).exists()


@pytest.mark.parametrize(
    "path",
    [
        "",
        "schools/org/",
        "schools/grade/",
        "schools/schoolclass/",
        "schools/classmembership/",
        "schools/guardianship/",
        "schools/orgadmin/",
        "schools/rosterimport/",
        "accounts/user/",
        "accounts/device/",
        "schools/classmembership/add/",
        "schools/guardianship/add/",
        "schools/orgadmin/add/",
        "schools/schoolclass/add/",
        "accounts/user/add/",
    ],
)
def test_admin_pages_render_for_a_school_admin_without_other_schools(
    world: Any, admin_client: Client, path: str
) -> None:
    response = admin_client.get(f"/admin/{path}")

    assert response.status_code == 200
    html = response.content.decode()
    assert "老城区" not in html  # the other district's school, people and classes
    assert "学生11" not in html


def test_class_list_shows_only_their_classes(world: Any, admin_client: Client) -> None:
    response = admin_client.get("/admin/schools/schoolclass/")
    assert list(response.context["cl"].result_list) == world.classes[:2]
    assert "班级" in response.content.decode()
    assert admin_client.get(f"/admin/schools/schoolclass/{world.classes[2].pk}/change/").status_code == 302
    assert admin_client.get(f"/admin/schools/schoolclass/{world.classes[0].pk}/change/").status_code == 200


def test_users_listed_are_their_schools_people(world: Any, admin_client: Client) -> None:
    response = admin_client.get("/admin/accounts/user/?all=")
    shown = set(response.context["cl"].queryset)
    mine = {
        *world.teachers[:2],
        *sum(world.students[:2], []),
        *sum(world.guardians[:2], []),
        world.school_admins[0],
    }
    assert shown == mine
    other = world.students[2][0]
    assert admin_client.get(f"/admin/accounts/user/{other.pk}/change/").status_code == 302
    assert admin_client.get(f"/admin/accounts/user/{world.school_admins[1].pk}/change/").status_code == 302


def test_platform_superuser_sees_the_tree_and_every_page(world: Any) -> None:
    root = User.objects.create_superuser("13312345678", "pw-123456", name="平台")
    client = Client()
    client.force_login(root)
    response = client.get("/admin/schools/org/")
    assert response.status_code == 200
    assert "tree-context" in response.content.decode()
    assert list(response.context["cl"].result_list) == [world.province]
    for path in ("schools/org/add/", "accounts/user/add/", "schools/rosterimport/add/", "accounts/user/"):
        assert client.get(f"/admin/{path}").status_code == 200
    assert "老城区第一小学" in client.get("/admin/schools/schoolclass/").content.decode()


def test_school_admin_edits_school_settings_but_cannot_add_or_move_orgs(
    world: Any, school: Any, admin_client: Client
) -> None:
    listing = admin_client.get("/admin/schools/org/")
    assert list(listing.context["cl"].result_list) == [school]
    response = admin_client.post(
        f"/admin/schools/org/{school.pk}/change/",
        {
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "06:30",
            "escalation_delay_minutes": "45",
            "allow_class_visibility": "on",
            "name": "改名",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    school.refresh_from_db()
    assert (str(school.quiet_hours_start), school.escalation_delay_minutes, school.name) == (
        "22:00:00",
        45,
        "西工区第一小学",
    )
    assert admin_client.get("/admin/schools/org/add/").status_code == 403
    assert (
        admin_client.post(
            "/admin/schools/org/move/", {"node": school.pk, "target": world.province.pk, "relation": "child"}
        ).status_code
        == 403
    )
    assert admin_client.get(f"/admin/schools/org/{world.schools[1].pk}/change/").status_code == 302


def test_adding_a_teacher_by_phone_creates_the_account_and_audits(
    world: Any, admin_of: Any, admin_client: Client
) -> None:
    response = admin_client.post(
        "/admin/schools/classmembership/add/",
        {
            "login": "13712340000",
            "new_name": "周老师",
            "school_class": world.classes[1].pk,
            "role": "teacher",
            "subject": "英语",
        },
    )

    assert response.status_code == 302
    teacher = User.objects.get(phone="13712340000")
    membership = ClassMembership.objects.get(user=teacher)
    assert (membership.school_class, membership.role, membership.subject) == (
        world.classes[1],
        "teacher",
        "英语",
    )
    audit = AuditRecord.objects.get(action="role.class_membership_set")
    assert (audit.actor, audit.object_id) == (admin_of, str(membership.pk))


def test_a_foreign_class_or_a_nameless_new_person_is_refused(world: Any, admin_client: Client) -> None:
    foreign = admin_client.post(
        "/admin/schools/classmembership/add/",
        {"login": "13712340001", "new_name": "某人", "school_class": world.classes[2].pk, "role": "teacher"},
    )
    nameless = admin_client.post(
        "/admin/schools/classmembership/add/",
        {"login": "13712340002", "school_class": world.classes[0].pk, "role": "teacher"},
    )

    assert foreign.status_code == nameless.status_code == 200
    assert "school_class" in foreign.context["adminform"].form.errors
    assert "new_name" in nameless.context["adminform"].form.errors
    assert not User.objects.filter(phone__in=["13712340001", "13712340002"]).exists()
    assert not AuditRecord.objects.filter(action__startswith="role.").exists()


def test_class_inline_adds_and_removes_members_through_services(world: Any, admin_client: Client) -> None:
    school_class = world.classes[0]
    initial = list(ClassMembership.objects.filter(school_class=school_class).order_by("role", "id"))
    data: dict[str, Any] = {
        "school": school_class.school_id,
        "grade": school_class.grade_id,
        "name": school_class.name,
        "memberships-TOTAL_FORMS": str(len(initial) + 1),
        "memberships-INITIAL_FORMS": str(len(initial)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, membership in enumerate(initial):
        data.update(
            {
                f"memberships-{i}-id": membership.pk,
                f"memberships-{i}-school_class": school_class.pk,
                f"memberships-{i}-role": membership.role,
                f"memberships-{i}-subject": membership.subject,
            }
        )
        if membership.is_head_teacher:
            data[f"memberships-{i}-is_head_teacher"] = "on"
    removed = initial[0]
    assert removed.role == "student"
    data["memberships-0-DELETE"] = "on"
    n = len(initial)
    data.update(
        {
            f"memberships-{n}-school_class": school_class.pk,
            f"memberships-{n}-login": "13712349999",
            f"memberships-{n}-new_name": "吴老师",
            f"memberships-{n}-role": "teacher",
            f"memberships-{n}-subject": "美术",
        }
    )

    response = admin_client.post(f"/admin/schools/schoolclass/{school_class.pk}/change/", data)

    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    assert not ClassMembership.objects.filter(pk=removed.pk).exists()
    assert ClassMembership.objects.get(user__phone="13712349999").subject == "美术"
    assert AuditRecord.objects.filter(action="role.class_membership_removed").count() == 1
    assert AuditRecord.objects.filter(action="role.class_membership_set").count() == 1


def test_guardianship_is_added_only_for_their_students(world: Any, admin_client: Client) -> None:
    mine, foreign = world.students[0][1], world.students[2][1]
    ok = admin_client.post(
        "/admin/schools/guardianship/add/",
        {
            "student_login": mine.student_number,
            "login": "13712345555",
            "new_name": "爷爷",
            "relation": "爷爷",
        },
    )
    refused = admin_client.post(
        "/admin/schools/guardianship/add/",
        {
            "student_login": foreign.student_number,
            "login": "13712345556",
            "new_name": "x",
            "relation": "父亲",
        },
    )

    assert ok.status_code == 302
    assert Guardianship.objects.get(guardian__phone="13712345555").student == mine
    assert AuditRecord.objects.filter(action="role.guardianship_linked").count() == 1
    assert refused.status_code == 200
    assert "student_login" in refused.context["adminform"].form.errors
    assert not User.objects.filter(phone="13712345556").exists()


def test_school_admin_grants_admins_only_in_their_school(world: Any, admin_client: Client) -> None:
    granted = admin_client.post(
        "/admin/schools/orgadmin/add/",
        {"login": "13712346666", "new_name": "副校长", "org": world.schools[0].pk, "role": "school_admin"},
    )
    other_school = admin_client.post(
        "/admin/schools/orgadmin/add/",
        {"login": "13712346667", "new_name": "x", "org": world.schools[1].pk, "role": "school_admin"},
    )
    county = admin_client.post(
        "/admin/schools/orgadmin/add/",
        {"login": "13712346668", "new_name": "x", "org": world.counties[0].pk, "role": "bureau_admin"},
    )

    assert granted.status_code == 302
    deputy = User.objects.get(phone="13712346666")
    assert deputy.is_staff
    assert OrgAdmin.objects.filter(user=deputy, org=world.schools[0]).exists()
    for refused in (other_school, county):
        assert refused.status_code == 200
        assert "org" in refused.context["adminform"].form.errors
    assert not User.objects.filter(phone__in=["13712346667", "13712346668"]).exists()
    listing = admin_client.get("/admin/schools/orgadmin/")
    assert {g.org for g in listing.context["cl"].result_list} == {world.schools[0]}


def test_school_admin_cannot_make_anyone_staff_or_superuser(world: Any, admin_client: Client) -> None:
    teacher = world.teachers[0]
    response = admin_client.post(
        f"/admin/accounts/user/{teacher.pk}/change/",
        {
            "phone": teacher.phone,
            "student_number": "",
            "name": "教师01改",
            "avatar": "",
            "is_staff": "on",
            "is_superuser": "on",
            "is_active": "",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    teacher.refresh_from_db()
    assert (teacher.name, teacher.is_staff, teacher.is_superuser, teacher.is_active) == (
        "教师01改",
        False,
        False,
        True,
    )


def test_add_user_puts_them_in_a_class(world: Any, admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "phone": "137 1234 7777",
            "name": "郑老师",
            "password1": "",
            "password2": "",
            "school_class": world.classes[0].pk,
            "role": "teacher",
            "subject": "体育",
        },
    )
    without_class = admin_client.post("/admin/accounts/user/add/", {"phone": "13712347778", "name": "x"})

    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(phone="13712347777")
    assert ClassMembership.objects.filter(user=user, school_class=world.classes[0], role="teacher").exists()
    assert without_class.status_code == 200
    assert not User.objects.filter(phone="13712347778").exists()


def test_deactivate_action_uses_the_service_and_stays_in_scope(world: Any, admin_client: Client) -> None:
    mine, foreign = world.guardians[0][0], world.guardians[2][0]
    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "deactivate_users", "index": "0", "_selected_action": [mine.pk, foreign.pk]},
    )

    assert response.status_code == 302
    mine.refresh_from_db()
    foreign.refresh_from_db()
    assert (mine.is_active, foreign.is_active) == (False, True)
    assert AuditRecord.objects.filter(action="account.deactivated", object_id=str(mine.pk)).exists()


def test_roster_upload_in_the_admin(world: Any, school: Any, admin_client: Client) -> None:
    page = admin_client.get("/admin/schools/rosterimport/add/")
    assert page.status_code == 200
    assert list(page.context["form"].fields["school"].queryset) == [school]

    preview = admin_client.post(
        "/admin/schools/rosterimport/add/",
        {
            "school": school.pk,
            "dry_run": "on",
            "file": SimpleUploadedFile("r.xlsx", xlsx_bytes(roster_rows(2))),
        },
    )
    assert preview.status_code == 200
    assert "预览（未写入）" in preview.content.decode()
    assert not RosterImport.objects.exists()

    done = admin_client.post(
        "/admin/schools/rosterimport/add/",
        {"school": school.pk, "file": SimpleUploadedFile("r.xlsx", xlsx_bytes(roster_rows(2)))},
    )
    record = RosterImport.objects.get()
    assert done.status_code == 302
    assert done["Location"] == f"/admin/schools/rosterimport/{record.pk}/change/"
    detail = admin_client.get(done["Location"]).content.decode()
    assert "新增学生" in detail
    assert "R00001" in detail

    broken = admin_client.post(
        "/admin/schools/rosterimport/add/",
        {"school": school.pk, "file": SimpleUploadedFile("r.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 10)},
    )
    assert broken.status_code == 200
    assert "unsupported_format" in broken.content.decode()
    other = admin_client.post(
        "/admin/schools/rosterimport/add/",
        {
            "school": world.schools[1].pk,
            "file": SimpleUploadedFile("r.xlsx", xlsx_bytes(roster_rows(2, start=5))),
        },
    )
    assert other.status_code == 200
    assert RosterImport.objects.count() == 1
    assert Org.objects.get(pk=world.schools[1].pk).roster_imports.count() == 0


def test_demo_school_admin_reaches_their_classes(demo: Any) -> None:
    client = Client()
    client.force_login(demo.admin)
    response = client.get("/admin/schools/schoolclass/")
    assert response.status_code == 200
    assert [c.name for c in response.context["cl"].result_list] == ["三年级(1)班", "三年级(2)班"]
    assert [row._students for row in response.context["cl"].result_list] == [30, 30]
