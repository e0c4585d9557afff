"""PreparedQuery: a queryset compiled once, then run with new arguments, answers what the
queryset itself answers; shapes it cannot prepare are refused on first use."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import F, OuterRef, QuerySet, Subquery, Value
from django.test.utils import CaptureQueriesContext

from backend.accounts.models import User
from backend.conventions.prepared import PreparedQuery

pytestmark = pytest.mark.django_db


def _people(*, name: str, user_id: int) -> QuerySet[User]:
    # A constant parameter (is_active) between two arguments, a subquery using one of
    # them again, and an annotation.
    same_name = User.objects.filter(name=OuterRef("name")).exclude(pk=user_id).values("pk")[:1]
    return (
        User.objects.filter(name=name, is_active=True)
        .exclude(pk=user_id)
        .annotate(twin_id=Subquery(same_name), label=Value("x"), upper_id=F("id") + 1)
        .order_by("id")
    )


PEOPLE = PreparedQuery(_people, {"name": str, "user_id": int})


@pytest.fixture
def people() -> list[User]:
    rows = [
        User.objects.create(name="王小明", phone="13900000101"),
        User.objects.create(name="王小明", phone="13900000102"),
        User.objects.create(name="李四", phone="13900000103"),
        User.objects.create(name="李四", phone="13900000104", is_active=False),
    ]
    return rows


@pytest.mark.parametrize(
    ("name", "skip"), [("王小明", 0), ("王小明", 1), ("李四", 2), ("张三", 0), ("100%'; --", 0)]
)
def test_answers_what_the_queryset_answers(people: list[User], name: str, skip: int) -> None:
    user_id = people[skip].pk
    expected = _people(name=name, user_id=user_id).first()
    got = PEOPLE.first(name=name, user_id=user_id)
    if expected is None:
        assert got is None
        return
    assert got is not None
    assert (got.pk, got.name, got.phone, got.is_active) == (expected.pk, expected.name, expected.phone, True)
    got_any: Any = got
    expected_any: Any = expected
    assert (got_any.twin_id, got_any.label, got_any.upper_id) == (
        expected_any.twin_id,
        expected_any.label,
        expected_any.upper_id,
    )


def test_runs_one_query_and_compiles_once(people: list[User], django_assert_num_queries: Any) -> None:
    PEOPLE.first(name="王小明", user_id=people[0].pk)
    compiled = PEOPLE._compile()
    with django_assert_num_queries(1):
        assert PEOPLE.first(name="王小明", user_id=people[1].pk) is not None
    assert PEOPLE._compile() is compiled
    with CaptureQueriesContext(connection) as queries:
        row = PEOPLE.first(name="李四", user_id=people[0].pk)
    assert row is not None
    assert row.pk == people[2].pk
    assert len(queries.captured_queries) == 1


def test_ids_no_column_can_hold_find_nothing(people: list[User]) -> None:
    assert PEOPLE.first(name="王小明", user_id=2**70) == _people(name="王小明", user_id=2**70).first()
    assert PEOPLE.first(name="王小明", user_id=2**70) is not None  # exclude(pk=huge) excludes nobody
    by_id = PreparedQuery(lambda user_id: User.objects.filter(pk=user_id), {"user_id": int})
    assert by_id.first(user_id=2**70) is None
    assert by_id.first(user_id=-(2**70)) is None
    assert by_id.first(user_id=people[0].pk) == people[0]


def test_arguments_of_the_wrong_type_are_refused(people: list[User]) -> None:
    with pytest.raises(TypeError):
        PEOPLE.first(name="王小明", user_id=str(people[0].pk))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        PEOPLE.first(name="王小明", user_id=True)


def test_a_shape_that_inlines_an_argument_is_refused() -> None:
    # Written into the SQL text, not passed as a parameter.
    inlined = PreparedQuery(lambda user_id: User.objects.extra(where=[f"id <> {user_id}"]), {"user_id": int})
    with pytest.raises(ValueError, match="user_id"):
        inlined.first(user_id=1)
    unused = PreparedQuery(lambda name: User.objects.all(), {"name": str})
    with pytest.raises(ValueError, match="name"):
        unused.first(name="x")
    with pytest.raises(TypeError):
        PreparedQuery(lambda day: User.objects.filter(date_joined__date=day), {"day": object}).first(day=1)
