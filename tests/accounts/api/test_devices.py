"""devices/: registering, listing and removing the caller's app installations."""

from __future__ import annotations

import pytest

from backend.accounts.models import Device

TOKEN = "fcm-token-" + "a" * 100


def register(client, platform="android", token=TOKEN):
    return client.post("/api/v1/devices/", {"platform": platform, "token": token}, format="json")


def test_register_a_device(world, client_for):
    guardian = world.guardians[0][0]

    response = register(client_for(guardian), "harmony")

    assert response.status_code == 201
    body = response.json()
    assert body["platform"] == "harmony"
    assert body["token"] == TOKEN
    device = Device.objects.get(pk=body["id"])
    assert device.user_id == guardian.pk
    guardian.refresh_from_db()
    # Having the app is what stops delivery from texting this parent.
    assert guardian.first_app_login_at is not None


def test_registering_the_same_token_again_answers_200(world, client_for):
    client = client_for(world.guardians[0][0])
    first = register(client, "android")

    again = register(client, "android")

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Device.objects.count() == 1


def test_a_token_moves_to_whoever_registers_it_last(world, client_for):
    first_owner, second_owner = world.guardians[0][0], world.guardians[0][1]
    register(client_for(first_owner), "ios")

    moved = register(client_for(second_owner), "ios")

    assert moved.status_code == 200
    assert Device.objects.get(token=TOKEN).user_id == second_owner.pk
    assert client_for(first_owner).get("/api/v1/devices/").json() == {"results": [], "next": None}


def test_list_shows_only_the_callers_devices(world, client_for):
    mine, theirs = world.teachers[0], world.teachers[1]
    client = client_for(mine)
    ids = [register(client, "android", f"mine-{i}").json()["id"] for i in range(2)]
    register(client_for(theirs), "ios", "theirs-1")

    body = client.get("/api/v1/devices/").json()

    assert [d["id"] for d in body["results"]] == ids[::-1]
    assert body["next"] is None


def test_delete_own_device(world, client_for):
    client = client_for(world.teachers[0])
    device_id = register(client).json()["id"]

    response = client.delete(f"/api/v1/devices/{device_id}/")

    assert response.status_code == 204
    assert not Device.objects.filter(pk=device_id).exists()


@pytest.mark.parametrize("target", ["foreign", "missing", "not-a-number"])
def test_delete_anything_else_is_not_found(world, client_for, target):
    owner = world.teachers[1]
    device_id = register(client_for(owner)).json()["id"]
    path_id = {"foreign": device_id, "missing": device_id + 1000, "not-a-number": "abc"}[target]

    response = client_for(world.teachers[0]).delete(f"/api/v1/devices/{path_id}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Device.objects.filter(pk=device_id, user=owner).exists()


@pytest.mark.parametrize(
    ("platform", "token", "field"),
    [
        ("windows", TOKEN, "platform"),
        ("android", "", "token"),
        ("android", "   ", "token"),
        ("android", "x" * 513, "token"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(world, client_for, platform, token, field):
    response = register(client_for(world.teachers[0]), platform, token)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]
    assert not Device.objects.exists()


def test_a_512_character_token_is_accepted(world, client_for):
    assert register(client_for(world.teachers[0]), "ios", "x" * 512).status_code == 201


def test_devices_need_authentication(api, db):
    assert api.get("/api/v1/devices/").status_code == 401
    assert register(api).status_code == 401
