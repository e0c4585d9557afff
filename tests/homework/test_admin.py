"""The admin pages: read-only, Chinese, a school admin sees only their subtree."""

from __future__ import annotations

import pytest
from django.test import Client

from backend.accounts.models import User
from backend.homework.models import Assignment

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_schools(world, assign, submit):
    mine = assign(world.teachers[0], [world.classes[0].pk], title="本校作业")
    theirs = assign(world.teachers[2], [world.classes[2].pk], title="外校作业")
    submit(world.students[0][0], mine["id"], world.students[0][0], text="本校学生的作业")
    submit(world.students[2][0], theirs["id"], world.students[2][0], text="外校学生的作业")
    return mine, theirs


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_school_admin_sees_only_their_school_read_only(world, two_schools):
    mine, theirs = two_schools
    client = logged_in(world.school_admins[0])

    listing = client.get("/admin/homework/assignment/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "本校作业" in page
    assert "外校作业" not in page
    assert "作业" in page

    own = client.get(f"/admin/homework/assignment/{mine['id']}/change/")
    assert own.status_code == 200
    assert 'name="_save"' not in own.content.decode()  # view only
    foreign = client.get(f"/admin/homework/assignment/{theirs['id']}/change/")
    assert foreign.status_code == 302  # "does not exist", never "forbidden"

    submissions = client.get("/admin/homework/submission/").content.decode()
    assert world.students[0][0].name in submissions
    assert world.students[2][0].name not in submissions
    assert client.get("/admin/homework/assignment/add/").status_code == 403


def test_platform_staff_close_assignments_through_the_service(world, two_schools):
    mine, theirs = two_schools
    root = User.objects.create_superuser("13000000000", "pw-123456", name="平台")
    client = logged_in(root)
    page = client.get("/admin/homework/assignment/").content.decode()
    assert "本校作业" in page
    assert "外校作业" in page
    response = client.post(
        "/admin/homework/assignment/",
        {"action": "close_assignments", "_selected_action": [mine["id"]]},
    )
    assert response.status_code == 302
    closed = dict(Assignment.objects.values_list("title", "closed_by"))
    assert closed == {"本校作业": root.pk, "外校作业": None}
