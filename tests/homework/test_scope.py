"""Scope: every endpoint answers 404 to people outside it (never 403) and writes nothing;
lists hold only the caller's rows; what each role sees in GET assignments/."""

from __future__ import annotations

import pytest

from backend.homework.models import Assignment, Feedback, Submission
from backend.schools.models import Org
from backend.schools.services import guardianship_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(world, assign, submit, client_for):
    """Class 0's assignment with student 0's work; the school shows excellent work."""
    Org.objects.filter(pk=world.schools[0].pk).update(allow_class_visibility=True)
    hw = assign(world.teachers[0], [world.classes[0].pk])
    student = world.students[0][0]
    work = submit(student, hw["id"], student).json()
    return hw, work


def outsiders(world):
    return {
        "other_class_teacher": world.teachers[1],
        "other_school_teacher": world.teachers[2],
        "other_class_guardian": world.guardians[1][0],
        "other_class_student": world.students[1][0],
        "other_school_admin": world.school_admins[1],
        "other_bureau_admin": world.bureau_admins[1],
    }


def requests_for(hw, work, student_id):
    a, s = hw["id"], work["id"]
    return [
        ("get", f"/api/v1/assignments/{a}/", None),
        ("patch", f"/api/v1/assignments/{a}/", {"title": "改"}),
        ("post", f"/api/v1/assignments/{a}/close/", None),
        ("post", f"/api/v1/assignments/{a}/reminders/", None),
        ("get", f"/api/v1/assignments/{a}/excellent/", None),
        ("get", f"/api/v1/assignments/{a}/submissions/", None),
        (
            "post",
            f"/api/v1/assignments/{a}/submissions/",
            {"student_id": student_id, "text": "x", "client_id": "o"},
        ),
        ("get", f"/api/v1/submissions/{s}/", None),
        ("post", f"/api/v1/submissions/{s}/feedback/", {"score": 1, "excellent": True}),
    ]


@pytest.mark.parametrize(
    "who",
    [
        "other_class_teacher",
        "other_school_teacher",
        "other_class_guardian",
        "other_class_student",
        "other_school_admin",
        "other_bureau_admin",
    ],
)
def test_every_endpoint_answers_404_outside_scope(world, scene, client_for, who):
    hw, work = scene
    caller = outsiders(world)[who]
    client = client_for(caller)
    for method, url, body in requests_for(hw, work, world.students[0][0].pk):
        response = getattr(client, method)(url, body, format="json") if body else getattr(client, method)(url)
        assert response.status_code == 404, (method, url, response.json())
    assignment = Assignment.objects.get()
    assert (assignment.title, assignment.closed_at) == ("背诵《静夜思》", None)
    assert Submission.objects.count() == 1
    assert Feedback.objects.count() == 0


def test_other_family_sees_the_assignment_but_not_the_childs_work(world, scene, client_for):
    hw, work = scene
    neighbour = world.guardians[0][1]  # a child in the same class
    client = client_for(neighbour)
    assert client.get(f"/api/v1/assignments/{hw['id']}/").status_code == 200
    assert client.get(f"/api/v1/submissions/{work['id']}/").status_code == 404
    rows = client.get(f"/api/v1/assignments/{hw['id']}/submissions/").json()["results"]
    assert [r["student"]["id"] for r in rows] == [world.students[0][1].pk]
    assert (
        client.post(f"/api/v1/submissions/{work['id']}/feedback/", {"score": 1}, format="json").status_code
        == 404
    )
    classmate = client_for(world.students[0][1])
    assert classmate.get(f"/api/v1/submissions/{work['id']}/").status_code == 404
    assert [
        r["student"]["id"]
        for r in classmate.get(f"/api/v1/assignments/{hw['id']}/submissions/").json()["results"]
    ] == [world.students[0][1].pk]


def test_own_school_admin_sees_counts_never_the_work(world, scene, client_for):
    hw, work = scene
    for admin in (world.school_admins[0], world.bureau_admins[0]):
        client = client_for(admin)
        body = client.get(f"/api/v1/assignments/{hw['id']}/").json()
        assert body["stats"] == {"students": 3, "submitted": 1, "missing": 2, "late": 0, "uncorrected": 1}
        assert client.get(f"/api/v1/assignments/{hw['id']}/submissions/").status_code == 404
        assert client.get(f"/api/v1/submissions/{work['id']}/").status_code == 404
        assert client.post(f"/api/v1/assignments/{hw['id']}/reminders/").status_code == 404
        assert [a["id"] for a in client.get("/api/v1/assignments/").json()["results"]] == [hw["id"]]


def test_unknown_and_malformed_ids_are_404(world, scene, client_for):
    client = client_for(world.teachers[0])
    for url in ("/api/v1/assignments/999/", "/api/v1/assignments/abc/", "/api/v1/submissions/999/"):
        assert client.get(url).status_code == 404


def test_anonymous_is_401(api, scene):
    hw, _ = scene
    assert api.get("/api/v1/assignments/").status_code == 401
    assert api.get(f"/api/v1/assignments/{hw['id']}/").status_code == 401


# --- Lists -------------------------------------------------------------------------


def test_lists_hold_only_the_callers_assignments(world, assign, client_for):
    mine = assign(world.teachers[0], [world.classes[0].pk])
    theirs = assign(world.teachers[1], [world.classes[1].pk])
    far = assign(world.teachers[2], [world.classes[2].pk])

    def listed(user, query=""):
        return [a["id"] for a in client_for(user).get(f"/api/v1/assignments/{query}").json()["results"]]

    assert listed(world.teachers[0]) == [mine["id"]]
    assert listed(world.guardians[1][0]) == [theirs["id"]]
    assert listed(world.students[2][0]) == [far["id"]]
    assert listed(world.school_admins[0]) == [theirs["id"], mine["id"]]
    assert listed(world.school_admins[1]) == [far["id"]]
    assert listed(world.school_admins[0], f"?class_id={world.classes[0].pk}") == [mine["id"]]
    assert listed(world.teachers[0], f"?class_id={world.classes[1].pk}") == []
    bad = client_for(world.teachers[0]).get("/api/v1/assignments/?class_id=x")
    assert bad.json()["error"]["code"] == "invalid_class_id"


def test_guardian_list_shows_each_childs_status(world, assign, submit, client_for):
    parent = world.guardians[0][0]
    second_child = world.students[1][0]
    guardianship_link(guardian=parent, student=second_child, relation="父亲")
    hw0 = assign(world.teachers[0], [world.classes[0].pk])
    hw1 = assign(world.teachers[1], [world.classes[1].pk])
    submit(parent, hw1["id"], second_child)

    rows = {a["id"]: a for a in client_for(parent).get("/api/v1/assignments/").json()["results"]}
    assert set(rows) == {hw0["id"], hw1["id"]}
    assert rows[hw0["id"]]["stats"] is None
    first = rows[hw0["id"]]["my_submissions"]
    assert [(m["student"]["id"], m["status"], m["can_submit"]) for m in first] == [
        (world.students[0][0].pk, "missing", True)
    ]
    second = rows[hw1["id"]]["my_submissions"]
    assert [(m["student"]["id"], m["status"], m["can_submit"], m["version"]) for m in second] == [
        (second_child.pk, "submitted", False, 1)
    ]


def test_teacher_list_has_stats(world, assign, submit, client_for):
    hw = assign(world.teachers[0], [world.classes[0].pk])
    student = world.students[0][0]
    submit(student, hw["id"], student)
    row = client_for(world.teachers[0]).get("/api/v1/assignments/").json()["results"][0]
    assert row["stats"] == {"students": 3, "submitted": 1, "missing": 2, "late": 0, "uncorrected": 1}
    assert row["my_submissions"] == []


@pytest.mark.parametrize("n", [1, 5])
def test_list_query_count_is_constant(world, assign, submit, client_for, django_assert_num_queries, n):
    for _ in range(n):
        hw = assign(world.teachers[0], [world.classes[0].pk])
        student = world.students[0][0]
        submit(student, hw["id"], student)
    # user, viewer (3; a guardian's children's classes +1), page + class links, then the
    # teacher's stats (2) or the guardian's children's work and its feedback (2).
    for user, queries in ((world.teachers[0], 8), (world.guardians[0][0], 9)):
        client = client_for(user)
        with django_assert_num_queries(queries):
            response = client.get("/api/v1/assignments/")
        assert len(response.json()["results"]) == n
