"""优秀作业: shown to the class only when the school allows it, names only when allowed."""

from __future__ import annotations

import pytest

from backend.schools.models import Org

pytestmark = pytest.mark.django_db


@pytest.fixture
def showcase(world, assign, submit, client_for):
    """Students 0 and 2 of class 0 marked excellent, student 1 corrected normally; one
    excellent piece in class 1 of the same assignment (its teacher also teaches class 0)."""
    from backend.schools.services import membership_set

    teacher = world.teachers[0]
    membership_set(school_class=world.classes[1], user=teacher, role="teacher")
    hw = assign(teacher, [world.classes[0].pk, world.classes[1].pk], grading="none")
    for i, excellent in ((0, True), (1, False), (2, True)):
        student = world.students[0][i]
        work = submit(student, hw["id"], student, text=f"作品{i}").json()
        client_for(teacher).post(
            f"/api/v1/submissions/{work['id']}/feedback/",
            {"comment": "好", "excellent": excellent},
            format="json",
        )
    other = world.students[1][0]
    work = submit(other, hw["id"], other, text="二班作品").json()
    client_for(teacher).post(
        f"/api/v1/submissions/{work['id']}/feedback/", {"excellent": True}, format="json"
    )
    return hw


def school_allows(world, *, visibility: bool, names: bool) -> None:
    Org.objects.filter(pk=world.schools[0].pk).update(
        allow_class_visibility=visibility, allow_names_public=names
    )


def excellent(client_for, user, hw):
    return client_for(user).get(f"/api/v1/assignments/{hw['id']}/excellent/")


def test_private_by_default(world, showcase, client_for):
    for user in (world.students[0][1], world.guardians[0][1], world.teachers[0], world.school_admins[0]):
        response = excellent(client_for, user, showcase)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "class_visibility_off"


def test_shown_to_classmates_under_pseudonyms(world, showcase, client_for):
    school_allows(world, visibility=True, names=False)
    response = excellent(client_for, world.guardians[0][1], showcase)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert response.json()["next"] is None
    assert [(r["student"], r["text"], r["mine"]) for r in rows] == [
        ({"display_name": "同学A"}, "作品0", False),
        ({"display_name": "同学B"}, "作品2", False),
    ]
    # No scores, comments or ids of the students travel with showcased work.
    assert set(rows[0]) == {
        "id",
        "student",
        "class_id",
        "class_name",
        "text",
        "attachments",
        "submitted_at",
        "mine",
    }
    body = str(response.json())
    for student in world.students[0]:
        assert student.name not in body


def test_names_only_when_the_school_allows(world, showcase, client_for):
    school_allows(world, visibility=True, names=True)
    rows = excellent(client_for, world.students[0][0], showcase).json()["results"]
    assert [(r["student"]["display_name"], r["mine"]) for r in rows] == [
        (world.students[0][0].name, True),
        (world.students[0][2].name, False),
    ]


def test_each_class_sees_its_own_showcase(world, showcase, client_for):
    school_allows(world, visibility=True, names=True)
    class1 = excellent(client_for, world.guardians[1][0], showcase).json()["results"]
    assert [r["text"] for r in class1] == ["二班作品"]
    teacher = excellent(client_for, world.teachers[0], showcase).json()["results"]
    assert [r["text"] for r in teacher] == ["作品0", "作品2", "二班作品"]
    # Another school never sees it, whatever its own settings.
    Org.objects.filter(pk=world.schools[1].pk).update(allow_class_visibility=True)
    for outsider in (world.guardians[2][0], world.teachers[2], world.school_admins[1]):
        assert excellent(client_for, outsider, showcase).json()["error"]["code"] == "not_found"


def test_a_new_version_leaves_the_showcase_until_corrected_again(world, assign, submit, client_for):
    school_allows(world, visibility=True, names=True)
    teacher, student = world.teachers[0], world.students[0][0]
    hw = assign(teacher, [world.classes[0].pk], grading="none", allow_resubmit=True)
    work = submit(student, hw["id"], student).json()
    client_for(teacher).post(
        f"/api/v1/submissions/{work['id']}/feedback/", {"excellent": True}, format="json"
    )
    assert len(excellent(client_for, student, hw).json()["results"]) == 1
    submit(student, hw["id"], student, text="又改了")
    assert excellent(client_for, student, hw).json()["results"] == []
