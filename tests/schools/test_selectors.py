"""Scope selectors: subtrees, who administers what, who sees which class."""

from __future__ import annotations

from typing import Any

from backend.schools.models import Org
from backend.schools.selectors import (
    classes_administered,
    classes_visible_to,
    guardianships_administered,
    is_school_admin_of,
    org_subtree,
    schools_administered,
    users_administered,
)
from backend.schools.services import org_admin_grant, org_create


def test_county_subtree_holds_its_school_only_in_one_query(
    world: Any, django_assert_num_queries: Any
) -> None:
    county = world.counties[0]
    with django_assert_num_queries(1):
        subtree = list(org_subtree(org=county))
    assert subtree == [county, world.schools[0]]
    with django_assert_num_queries(1):
        assert list(org_subtree(org=world.province, kind=Org.Kind.SCHOOL).order_by("path")) == world.schools
    assert list(org_subtree(org=world.schools[1])) == [world.schools[1]]


def test_a_new_sibling_is_outside_and_existing_paths_do_not_move(world: Any) -> None:
    county = world.counties[0]
    path = county.path
    # "涧西区" sorts before "西工区": paths must not shift when it is added (Org objects held
    # in memory would go stale), and fixed-width path steps keep siblings apart.
    third = org_create(name="涧西区", kind=Org.Kind.COUNTY, parent=Org.objects.get_parent(county))
    county.refresh_from_db()
    assert county.path == path
    assert third not in org_subtree(org=county)
    assert list(org_subtree(org=third)) == [third]


def test_schools_administered_and_is_school_admin_of(world: Any) -> None:
    bureau = world.bureau_admins[0]
    assert list(schools_administered(user=bureau)) == [world.schools[0]]
    assert list(schools_administered(user=world.school_admins[1])) == [world.schools[1]]
    assert is_school_admin_of(user=bureau, school=world.schools[0])
    assert not is_school_admin_of(user=bureau, school=world.schools[1])
    assert not is_school_admin_of(user=world.teachers[0], school=world.schools[0])
    assert not schools_administered(user=world.teachers[0]).exists()


def test_classes_visible_to_each_role(world: Any) -> None:
    c = world.classes
    assert list(classes_visible_to(user=world.teachers[0])) == [c[0]]
    assert list(classes_visible_to(user=world.students[1][0])) == [c[1]]
    assert list(classes_visible_to(user=world.guardians[3][2])) == [c[3]]
    assert list(classes_visible_to(user=world.school_admins[0]).order_by("id")) == c[:2]
    assert list(classes_administered(user=world.bureau_admins[1]).order_by("id")) == c[2:]


def test_users_administered_excludes_other_schools_admins_and_superusers(world: Any) -> None:
    admin = world.school_admins[0]
    people = set(users_administered(user=admin))
    assert world.teachers[0] in people
    assert world.guardians[1][2] in people
    assert admin in people
    assert world.students[2][0] not in people
    assert world.bureau_admins[0] not in people  # administers the county above the school

    # A parent of this school who also administers another school stays out of reach.
    parent = world.guardians[0][0]
    org_admin_grant(org=world.schools[1], user=parent, role="school_admin")
    assert parent not in set(users_administered(user=admin))
    assert parent not in set(users_administered(user=world.bureau_admins[0]))
    assert world.school_admins[0] in set(users_administered(user=world.bureau_admins[0]))
    assert set(guardianships_administered(user=admin).values_list("student_id", flat=True)) == {
        s.pk for s in world.students[0] + world.students[1]
    }
