"""A member mutes a conversation on their phone: no push, the message still arrives."""

from __future__ import annotations

import pytest

from .conftest import events, pushed, with_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def conv(world, open_discussion):
    return open_discussion(world.teachers[0], world.classes[0])


def test_muted_member_gets_the_event_but_no_push_until_unmuted(world, conv, send, client_for):
    teacher = world.teachers[0]
    token = with_app(teacher)
    url = f"/api/v1/conversations/{conv['id']}/notifications/"

    muted = client_for(teacher).put(url, {"muted": True, "minutes": 60}, format="json")
    assert muted.status_code == 200
    assert muted.json()["muted"] is True
    assert muted.json()["until"] is not None
    first = send(world.guardians[0][0], conv["id"], "老师好，明天几点到校？").json()
    assert [m.token for m in pushed()].count(token) == 0
    assert first["id"] in [e["message"]["id"] for e in events("message.created")[teacher.pk]]

    assert client_for(teacher).put(url, {"muted": False}, format="json").json() == {
        "muted": False,
        "until": None,
    }
    send(world.guardians[0][1], conv["id"], "老师好，请问要带午饭吗？")
    assert [m.token for m in pushed()].count(token) == 1


def test_only_members_can_mute_and_bad_input_is_refused(world, conv, client_for):
    url = f"/api/v1/conversations/{conv['id']}/notifications/"
    outsider = world.guardians[2][0]
    assert client_for(outsider).put(url, {"muted": True}, format="json").status_code == 404
    bad = client_for(world.teachers[0]).put(url, {"muted": True, "minutes": 0}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid"
    from backend.delivery.models import Mute

    assert Mute.objects.count() == 0
