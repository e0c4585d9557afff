"""GET classes/ and classes/{id}/members/: scope, roles, what each role may see."""

from __future__ import annotations

from typing import Any

import pytest

from backend.accounts.services import user_ensure
from backend.schools.services import guardianship_link, membership_set


def members(client: Any, school_class: Any, query: str = "") -> Any:
    return client.get(f"/api/v1/classes/{school_class.pk}/members/{query}")


def test_teacher_sees_their_class_with_role_and_counts(world: Any, client_for: Any) -> None:
    response = client_for(world.teachers[0]).get("/api/v1/classes/")

    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "id": world.classes[0].pk,
                "name": "三年级(1)班",
                "school": {"id": world.schools[0].pk, "name": "西工区第一小学"},
                "grade": {"id": world.classes[0].grade_id, "name": "三年级", "level": 3},
                "role": "teacher",
                "roles": ["teacher", "head_teacher"],
                "is_head_teacher": True,
                "student_count": 3,
                "teacher_count": 1,
            }
        ],
        "next": None,
    }


def test_guardian_admin_and_bureau_see_their_scope(world: Any, client_for: Any) -> None:
    def listed(user: Any) -> list[tuple[int, str]]:
        body = client_for(user).get("/api/v1/classes/").json()
        return [(row["id"], row["role"]) for row in body["results"]]

    c = world.classes
    assert listed(world.guardians[1][0]) == [(c[1].pk, "guardian")]
    assert listed(world.students[2][0]) == [(c[2].pk, "student")]
    assert listed(world.school_admins[0]) == [(c[0].pk, "school_admin"), (c[1].pk, "school_admin")]
    assert listed(world.bureau_admins[1]) == [(c[2].pk, "bureau_admin"), (c[3].pk, "bureau_admin")]


def test_class_list_is_paginated_and_its_query_count_constant(
    world: Any, client_for: Any, django_assert_num_queries: Any
) -> None:
    client = client_for(world.bureau_admins[0])
    first = client.get("/api/v1/classes/?page_size=1").json()
    assert [row["id"] for row in first["results"]] == [world.classes[0].pk]
    second = client.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == [world.classes[1].pk]
    assert second["next"] is None

    # The user (auth), the caller's admin paths (scope), the page, then the caller's roles:
    # memberships, children, admin grants.
    with django_assert_num_queries(6):
        client.get("/api/v1/classes/")


def test_guardian_sees_display_names_and_no_phone_numbers(world: Any, client_for: Any) -> None:
    response = members(client_for(world.guardians[0][0]), world.classes[0])

    assert response.status_code == 200
    rows = response.json()["results"]
    teacher = rows[0]
    assert teacher == {
        "id": world.teachers[0].pk,
        "name": "教师01",
        "display_name": "教师01",
        "role": "teacher",
        "is_head_teacher": True,
        "subject": "",
        "phone": None,
        "guardians": [],
    }
    student = rows[1]
    assert student["id"] == world.students[0][0].pk
    assert student["guardians"] == [
        {
            "id": world.guardians[0][0].pk,
            "display_name": "学生010妈妈",
            "relation": "母亲",
            "name": None,
            "phone": None,
        }
    ]
    body = response.content.decode()
    # Neither the number nor its masked form ("135****0003"); a bare 4-digit run could be
    # part of an id, which made this check fail on PostgreSQL once ids grew.
    assert all(g.phone not in body and f"****{g.phone[-4:]}" not in body for g in world.guardians[0])


@pytest.mark.parametrize("who", ["teacher", "school_admin", "bureau_admin"])
def test_teacher_and_admins_see_masked_phones(world: Any, client_for: Any, who: str) -> None:
    user = {
        "teacher": world.teachers[0],
        "school_admin": world.school_admins[0],
        "bureau_admin": world.bureau_admins[0],
    }[who]
    rows = members(client_for(user), world.classes[0], "?role=student").json()["results"]

    guardian = world.guardians[0][0]
    assert rows[0]["guardians"][0]["name"] == guardian.name
    assert rows[0]["guardians"][0]["phone"] == f"{guardian.phone[:3]}****{guardian.phone[-4:]}"
    assert [row["role"] for row in rows] == ["student"] * 3


@pytest.mark.parametrize(
    ("who", "class_index"),
    [("guardian", 1), ("teacher", 1), ("student", 2), ("school_admin", 2), ("bureau_admin", 3)],
)
def test_foreign_class_is_404(world: Any, client_for: Any, who: str, class_index: int) -> None:
    user = {
        "guardian": world.guardians[0][0],
        "teacher": world.teachers[0],
        "student": world.students[0][0],
        "school_admin": world.school_admins[0],
        "bureau_admin": world.bureau_admins[0],
    }[who]
    response = members(client_for(user), world.classes[class_index])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert client_for(user).get("/api/v1/classes/abc/members/").status_code == 404


def test_bad_role_filter(world: Any, client_for: Any) -> None:
    response = members(client_for(world.teachers[0]), world.classes[0], "?role=admin")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_role"


def test_members_query_count_does_not_grow_with_the_class(
    world: Any, client_for: Any, django_assert_num_queries: Any
) -> None:
    client = client_for(world.teachers[0])
    school_class = world.classes[0]
    # The user, admin paths (scope), the class, "teaches here?", the page, the page's guardians.
    with django_assert_num_queries(6):
        small = members(client, school_class).json()["results"]
    for i in range(10):
        student, _ = user_ensure(name=f"新生{i}", student_number=f"N{i:04d}")
        membership_set(school_class=school_class, user=student, role="student")
        for relation, phone in (("父亲", f"1870000{i:04d}"), ("母亲", f"1880000{i:04d}")):
            guardian, _ = user_ensure(name=f"家长{i}", phone=phone)
            guardianship_link(guardian=guardian, student=student, relation=relation)
    with django_assert_num_queries(6):
        large = members(client, school_class).json()["results"]
    assert (len(small), len(large)) == (4, 14)
    assert [g["display_name"] for g in large[-1]["guardians"]] == ["新生9爸爸", "新生9妈妈"]
