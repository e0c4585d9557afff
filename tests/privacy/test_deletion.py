"""A guardian erases the family's data: names, numbers, content and files go; anonymous
ids, counters and the audit log stay; other families are untouched."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from backend.accounts.models import Device, User
from backend.checkins.models import Checkin
from backend.files.models import File
from backend.homework.models import Submission
from backend.privacy.models import DataDeletion
from backend.schools.models import ClassMembership, Guardianship

from .conftest import audit_rows, checkin_post, consent, submission_post

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60


def _login(api: Any, login: str) -> Any:
    return api.post("/api/v1/auth/token/", {"login": login, "password": "pw-123456"}, format="json")


def test_wrong_confirmation_is_refused_and_nothing_is_queued(world: Any, as_user: Any) -> None:
    response = as_user(world.guardians[0][0]).post(
        "/api/v1/privacy/deletions/", {"confirm": "delete"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "confirmation_required"
    assert not DataDeletion.objects.exists()


def test_foreign_student_is_404_and_nothing_is_queued(world: Any, as_user: Any) -> None:
    response = as_user(world.guardians[0][0]).post(
        "/api/v1/privacy/deletions/",
        {"confirm": "删除", "student_ids": [world.students[0][1].pk]},
        format="json",
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "student_not_found"
    assert not DataDeletion.objects.exists()


def test_family_deletion_erases_the_family_and_nobody_else(
    world: Any,
    as_user: Any,
    api: Any,
    campaign: Any,
    assignment: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    from backend.files.services import file_upload

    guardian, child = world.guardians[0][0], world.students[0][0]
    other_guardian, other_child = world.guardians[0][1], world.students[0][1]
    guardian_phone, guardian_name, child_name = guardian.phone, guardian.name, child.name
    photo = file_upload(owner=guardian, upload=SimpleUploadedFile("a.jpg", JPEG, content_type="image/jpeg"))
    blob_name = photo.blob.name
    consent(as_user(guardian), child)
    assert checkin_post(as_user(guardian), campaign, child, attachment_ids=[photo.pk]).status_code == 201
    assert submission_post(as_user(child), assignment, child).status_code == 201
    assert checkin_post(as_user(other_guardian), campaign, other_child).status_code == 201
    Device.objects.create(user=guardian, platform="android", token="tok-family")
    refresh = _login(api, guardian_phone).json()["refresh"]

    with django_capture_on_commit_callbacks(execute=True):
        queued = as_user(guardian).post("/api/v1/privacy/deletions/", {"confirm": "删除"}, format="json")

    assert queued.status_code == 202
    assert queued.json()["student_ids"] == [child.pk]
    deletion = DataDeletion.objects.get(pk=queued.json()["id"])
    assert deletion.status == "ready"
    assert deletion.summary["checkins"] == 1
    assert deletion.summary["submissions"] == 1
    # The family cannot log in any more, with a password or an old refresh token.
    assert _login(api, guardian_phone).status_code in (400, 401)
    assert _login(api, child.student_number).status_code in (400, 401)
    assert api.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json").status_code == 401
    for user in User.objects.filter(pk__in=[guardian.pk, child.pk]):
        assert user.name == "已删除用户"
        assert user.phone is None
        assert not user.is_active
    assert not Checkin.objects.filter(student=child).exists()
    assert not Submission.objects.filter(student=child).exists()
    assert not File.objects.filter(pk=photo.pk).exists()
    assert not default_storage.exists(blob_name)
    assert not Device.objects.filter(token="tok-family").exists()
    assert not Guardianship.objects.filter(student=child).exists()
    # The school sees the child left the class; the audit trail names ids, not people.
    assert not ClassMembership.objects.filter(user=child).exists()
    removed = audit_rows("role.class_membership_removed")
    assert [(r.detail["user_id"], r.detail["class_id"]) for r in removed] == [(child.pk, world.classes[0].pk)]
    labels = " ".join(r.actor_label for r in [*removed, *audit_rows("privacy.deletion_completed")])
    assert guardian_name not in labels
    assert child_name not in labels
    # The other family is untouched.
    other_guardian.refresh_from_db()
    other_child.refresh_from_db()
    assert other_guardian.is_active
    assert other_guardian.name.startswith("家长")
    assert Checkin.objects.filter(student=other_child).count() == 1
    assert Guardianship.objects.filter(guardian=other_guardian, student=other_child).exists()
    assert _login(api, other_guardian.phone).status_code == 200


def test_deleting_one_child_keeps_the_guardian_and_the_other_child(
    world: Any, as_user: Any, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from backend.schools.services import guardianship_link

    guardian, first, second = world.guardians[0][0], world.students[0][0], world.students[1][0]
    guardianship_link(guardian=guardian, student=second, relation="母亲")

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(guardian).post(
            "/api/v1/privacy/deletions/", {"confirm": "删除", "student_ids": [first.pk]}, format="json"
        )

    assert response.status_code == 202
    guardian.refresh_from_db()
    second.refresh_from_db()
    assert guardian.is_active
    assert guardian.name != "已删除用户"
    assert _login(api, guardian.phone).status_code == 200
    assert second.name != "已删除用户"
    assert Guardianship.objects.filter(guardian=guardian, student=second).exists()
    assert User.objects.get(pk=first.pk).name == "已删除用户"
    status = as_user(guardian).get(f"/api/v1/privacy/deletions/{response.json()['id']}/")
    assert status.json()["status"] == "ready"
    assert (
        as_user(world.guardians[0][1]).get(f"/api/v1/privacy/deletions/{response.json()['id']}/").status_code
        == 404
    )
