"""Attachments: upload limits by type, content sniffing, claims, signed downloads."""

from __future__ import annotations

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from backend.conventions.errors import ApiError
from backend.files.models import File
from backend.files.services import files_claim

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(client, name: str, data: bytes, content_type: str):
    return client.post("/api/v1/files/", {"file": SimpleUploadedFile(name, data, content_type=content_type)})


def test_upload_and_download_with_signed_url(client_for, world, api):
    client = client_for(world.guardians[0][0])
    response = upload(client, "作业.png", PNG, "image/png")
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "image"
    assert body["size"] == len(PNG)
    assert body["name"] == "作业.png"
    download = api.get(body["url"])  # no credentials: the signed URL is the permission
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG


def test_signed_url_expires_after_an_hour(client_for, world, api):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        url = upload(client_for(world.teachers[0]), "a.jpg", JPEG, "image/jpeg").json()["url"]
        clock.shift(3601)
        assert api.get(url).status_code == 404


def test_forged_token_is_404(api):
    assert api.get("/api/v1/files/download/1:forged:sig/").status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "content_type", "status", "code"),
    [
        ("x.exe", b"MZ\x90\x00", "application/x-msdownload", 415, "unsupported_file_type"),
        ("fake.png", b"MZ\x90\x00" * 10, "image/png", 400, "file_content_mismatch"),
        ("empty.png", b"", "image/png", 400, "empty_file"),
        ("big.amr", b"#!AMR" + b"\x00" * (5 * 1024 * 1024), "audio/amr", 413, "file_too_large"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_stored(
    client_for, world, name, data, content_type, status, code
):
    response = upload(client_for(world.teachers[0]), name, data, content_type)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert File.objects.count() == 0


def test_upload_needs_login(api):
    assert upload(api, "a.png", PNG, "image/png").status_code == 401
    assert File.objects.count() == 0


def test_claim_checks_owner_kind_and_count(client_for, world):
    owner, other = world.teachers[0], world.teachers[1]
    image = upload(client_for(owner), "a.png", PNG, "image/png").json()["id"]
    theirs = upload(client_for(other), "b.png", PNG, "image/png").json()["id"]
    assert [f.pk for f in files_claim(ids=[image], owner=owner)] == [image]
    with pytest.raises(ApiError) as err:
        files_claim(ids=[image, theirs], owner=owner)
    assert err.value.code == "unknown_attachments"
    with pytest.raises(ApiError) as err:
        files_claim(ids=[image], owner=owner, allowed_kinds={"voice"})
    assert err.value.code == "attachment_type_not_allowed"
    with pytest.raises(ApiError) as err:
        files_claim(ids=list(range(1, 11)), owner=owner)
    assert err.value.code == "too_many_attachments"
