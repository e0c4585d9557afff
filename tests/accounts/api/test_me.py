"""GET me/: who the caller is, in every role, in a constant number of queries."""

from __future__ import annotations

from backend.accounts.services import user_ensure
from backend.schools.services import guardianship_link, membership_set


def school_of(world, index):
    return {"id": world.schools[index].pk, "name": world.schools[index].name}


def test_guardian_with_two_children_in_two_schools(world, client_for):
    guardian = world.guardians[0][0]  # 母亲 of students[0][0], class 0 in school 0
    second_child = world.students[2][1]  # class 2, in school 1
    guardianship_link(guardian=guardian, student=second_child, relation="父亲")

    response = client_for(guardian).get("/api/v1/me/")

    assert response.status_code == 200
    first_child = world.students[0][0]
    assert response.json() == {
        "id": guardian.pk,
        "name": guardian.name,
        "display_name": f"{first_child.name}妈妈",
        "phone": guardian.phone,
        "roles": ["guardian"],
        "classes": [
            {
                "id": world.classes[0].pk,
                "name": world.classes[0].name,
                "school": school_of(world, 0),
                "role": "guardian",
            },
            {
                "id": world.classes[2].pk,
                "name": world.classes[2].name,
                "school": school_of(world, 1),
                "role": "guardian",
            },
        ],
        "children": [
            {
                "id": first_child.pk,
                "name": first_child.name,
                "class_id": world.classes[0].pk,
                "relation": "母亲",
            },
            {
                "id": second_child.pk,
                "name": second_child.name,
                "class_id": world.classes[2].pk,
                "relation": "父亲",
            },
        ],
        "orgs": [],
    }


def test_head_teacher(world, client_for):
    teacher = world.teachers[1]

    body = client_for(teacher).get("/api/v1/me/").json()

    assert body["roles"] == ["teacher", "head_teacher"]
    assert body["display_name"] == teacher.name
    assert body["classes"] == [
        {
            "id": world.classes[1].pk,
            "name": world.classes[1].name,
            "school": school_of(world, 0),
            "role": "teacher",
        }
    ]
    assert body["children"] == []


def test_teacher_who_is_also_a_parent_is_named_as_a_teacher(world, client_for):
    teacher = world.teachers[0]
    child = world.students[0][1]  # in the teacher's own class
    guardianship_link(guardian=teacher, student=child, relation="母亲")

    body = client_for(teacher).get("/api/v1/me/").json()

    assert body["display_name"] == teacher.name
    assert body["roles"] == ["teacher", "head_teacher", "guardian"]
    # One entry for the class, shown as the teacher's.
    assert [(c["id"], c["role"]) for c in body["classes"]] == [(world.classes[0].pk, "teacher")]
    assert body["children"] == [
        {"id": child.pk, "name": child.name, "class_id": world.classes[0].pk, "relation": "母亲"}
    ]


def test_student(world, client_for):
    student = world.students[3][0]

    body = client_for(student).get("/api/v1/me/").json()

    assert body["roles"] == ["student"]
    assert body["phone"] is None
    assert body["display_name"] == student.name
    assert [(c["id"], c["role"]) for c in body["classes"]] == [(world.classes[3].pk, "student")]


def test_school_admin(world, client_for):
    admin = world.school_admins[1]

    body = client_for(admin).get("/api/v1/me/").json()

    assert body["roles"] == ["school_admin"]
    assert body["display_name"] == admin.name
    assert body["classes"] == []
    assert body["orgs"] == [
        {"id": world.schools[1].pk, "name": world.schools[1].name, "kind": "school", "role": "school_admin"}
    ]


def test_bureau_admin(world, client_for):
    bureau = world.bureau_admins[0]

    body = client_for(bureau).get("/api/v1/me/").json()

    assert body["roles"] == ["bureau_admin"]
    assert body["orgs"] == [
        {"id": world.counties[0].pk, "name": world.counties[0].name, "kind": "county", "role": "bureau_admin"}
    ]


def test_a_guardian_of_a_child_without_a_class(world, client_for):
    guardian, _ = user_ensure(name="赵女士", phone="13600000001", password="pw-123456")
    child, _ = user_ensure(name="赵小宝", student_number="S-NEW-1")
    guardianship_link(guardian=guardian, student=child, relation="外婆")

    body = client_for(guardian).get("/api/v1/me/").json()

    assert body["display_name"] == "赵小宝外婆"
    assert body["classes"] == []
    assert body["children"] == [{"id": child.pk, "name": "赵小宝", "class_id": None, "relation": "外婆"}]


def test_query_count_does_not_grow_with_children_and_classes(world, client_for, django_assert_num_queries):
    guardian = world.guardians[0][0]
    client = client_for(guardian)
    # user, memberships, children (+ their classes), admin grants: roles come from those rows.
    with django_assert_num_queries(5):
        assert len(client.get("/api/v1/me/").json()["children"]) == 1

    for class_index in (1, 2, 3):
        guardianship_link(guardian=guardian, student=world.students[class_index][0], relation="父亲")
    teacher_class = world.classes[3]
    membership_set(school_class=teacher_class, user=guardian, role="teacher")

    with django_assert_num_queries(5):
        body = client.get("/api/v1/me/").json()
    assert len(body["children"]) == 4
    assert len(body["classes"]) == 4
    assert body["roles"] == ["teacher", "guardian"]
