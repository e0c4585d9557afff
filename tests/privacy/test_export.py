"""A guardian exports the family's data: a ZIP of JSON per area, their rows only."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from typing import Any

from .conftest import NOW, audit_rows, checkin_post, consent, submission_post

AREAS = {
    "profile",
    "children",
    "class_memberships",
    "notices",
    "checkins",
    "homework",
    "sms",
    "consents",
}


def _download(client: Any, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return {name.removesuffix(".json"): json.loads(archive.read(name)) for name in archive.namelist()}


def test_export_holds_exactly_the_family_data(
    world: Any,
    as_user: Any,
    api: Any,
    campaign: Any,
    assignment: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    guardian, child = world.guardians[0][0], world.students[0][0]
    other_guardian, other_child = world.guardians[0][1], world.students[0][1]
    consent(as_user(guardian), child)
    consent(as_user(other_guardian), other_child)
    checkin_post(as_user(guardian), campaign, child, text="我家的打卡")
    checkin_post(as_user(other_guardian), campaign, other_child, text="别人家的打卡")
    submission_post(as_user(child), assignment, child, text="我家的作业")
    submission_post(as_user(other_child), assignment, other_child, text="别人家的作业")
    client = as_user(guardian)

    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post("/api/v1/privacy/exports/")
    status = client.get(f"/api/v1/privacy/exports/{queued.json()['id']}/")
    data = _download(api, status.json()["download_url"])

    assert queued.status_code == 202
    assert status.json()["status"] == "ready"
    assert set(data) == AREAS
    assert data["profile"]["id"] == guardian.pk
    assert data["profile"]["phone"] == guardian.phone
    assert [c["id"] for c in data["children"]] == [child.pk]
    assert {m["user_id"] for m in data["class_memberships"]} == {child.pk}
    assert [c["text"] for c in data["checkins"]] == ["我家的打卡"]
    assert [h["text"] for h in data["homework"]] == ["我家的作业"]
    assert [(c["guardian_id"], c["student_id"]) for c in data["consents"]] == [(guardian.pk, child.pk)]
    everything = json.dumps(data, ensure_ascii=False)
    assert "别人家" not in everything
    assert other_child.name not in everything
    assert len(audit_rows("privacy.export_requested")) == 1
    assert len(audit_rows("privacy.export_built")) == 1
    assert len(audit_rows("privacy.export_downloaded")) == 1


def test_export_includes_notices_received_with_read_times(
    world: Any, as_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from backend.notices.models import NoticeReceipt

    guardian = world.guardians[0][0]
    with django_capture_on_commit_callbacks(execute=True):
        published = as_user(world.teachers[0]).post(
            "/api/v1/notices/",
            {
                "title": "春游通知",
                "body": "周五春游",
                "class_ids": [world.classes[0].pk],
                "audience": "guardians",
            },
            format="json",
        )
    assert published.status_code == 201, published.json()
    assert NoticeReceipt.objects.filter(recipient=guardian).exists()
    client = as_user(guardian)
    assert client.post(f"/api/v1/notices/{published.json()['id']}/read/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        export = client.post("/api/v1/privacy/exports/").json()
    url = client.get(f"/api/v1/privacy/exports/{export['id']}/").json()["download_url"]
    data = _download(client, url)

    assert [n["title"] for n in data["notices"]] == ["春游通知"]
    assert data["notices"][0]["read_at"] is not None
    assert data["notices"][0]["confirmed_at"] is None


def test_someone_elses_export_is_404(world: Any, as_user: Any) -> None:
    export = as_user(world.guardians[0][0]).post("/api/v1/privacy/exports/").json()

    response = as_user(world.guardians[0][1]).get(f"/api/v1/privacy/exports/{export['id']}/")

    assert response.status_code == 404


def test_download_link_expires_after_a_day(
    world: Any, as_user: Any, api: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = as_user(world.guardians[0][0])
    with django_capture_on_commit_callbacks(execute=True):
        export = client.post("/api/v1/privacy/exports/").json()
    url = client.get(f"/api/v1/privacy/exports/{export['id']}/").json()["download_url"]

    clock.move_to(NOW + timedelta(hours=24, minutes=1))

    assert api.get(url).status_code == 404
    assert client.get(f"/api/v1/privacy/exports/{export['id']}/").json()["download_url"] is None
    assert api.get("/api/v1/privacy/exports/download/forged-token/").status_code == 404
