from __future__ import annotations

import pytest

from backend.conventions.errors import ApiError
from backend.conventions.scope import get_in_scope, ids_in_scope
from backend.schools.models import SchoolClass
from backend.schools.selectors import taught_classes

pytestmark = pytest.mark.django_db


def test_foreign_and_malformed_ids_are_not_found(world):
    mine = taught_classes(user=world.teachers[0])
    assert get_in_scope(mine, world.classes[0].pk) == world.classes[0]
    for pk in (world.classes[2].pk, 999999, "abc", None):
        with pytest.raises(ApiError) as err:
            get_in_scope(mine, pk)
        assert err.value.status_code == 404


def test_ids_in_scope_fails_whole_list_on_one_foreign_id(world):
    mine = SchoolClass.objects.filter(school=world.schools[0])
    assert ids_in_scope(mine, [world.classes[1].pk, world.classes[0].pk]) == [
        world.classes[1],
        world.classes[0],
    ]
    with pytest.raises(ApiError) as err:
        ids_in_scope(mine, [world.classes[0].pk, world.classes[2].pk], field="class_ids")
    assert err.value.code == "unknown_ids"
    assert list(err.value.fields) == ["class_ids"]


def test_ids_beyond_64_bits_are_unknown_not_a_crash(world):
    mine = SchoolClass.objects.filter(school=world.schools[0])
    huge = 2**64 + 5
    with pytest.raises(ApiError) as err:
        ids_in_scope(mine, [world.classes[0].pk, huge], field="class_ids")
    assert err.value.code == "unknown_ids"
    with pytest.raises(ApiError) as err:
        get_in_scope(mine, str(huge))
    assert err.value.status_code == 404


def test_list_filters_refuse_ids_beyond_64_bits(world, client_for):
    admin = client_for(world.school_admins[0])
    for path in ("/api/v1/assignments/", "/api/v1/checkin-campaigns/"):
        response = admin.get(path, {"class_id": str(2**70)})
        assert response.status_code == 400, path
        assert response.json()["error"]["code"] == "invalid_class_id"
