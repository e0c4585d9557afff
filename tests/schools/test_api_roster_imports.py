"""POST/GET schools/{id}/roster-imports/: who may import, what they see, what is written."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from backend.accounts.models import User
from backend.schools.models import RosterImport

from .conftest import csv_bytes, roster_rows, xlsx_bytes


def url(school: Any, suffix: str = "") -> str:
    return f"/api/v1/schools/{school.pk}/roster-imports/{suffix}"


def upload(content: bytes, name: str = "花名册.xlsx") -> dict[str, Any]:
    return {"file": SimpleUploadedFile(name, content)}


def test_school_admin_imports_and_reads_back(world: Any, school: Any, admin_of: Any, client_for: Any) -> None:
    client = client_for(admin_of)
    content = xlsx_bytes(roster_rows(2) + [["坏行", "R9", "三年级(1)班", "x", "母亲", "123"]])

    response = client.post(url(school), upload(content), format="multipart")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["school"] == {"id": school.pk, "name": school.name}
    assert body["uploaded_by"] == {"id": admin_of.pk, "name": admin_of.name}
    assert (body["file_name"], body["file_format"], body["status"], body["dry_run"]) == (
        "花名册.xlsx",
        "xlsx",
        "partial",
        False,
    )
    assert body["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert body["rows"][2] == {
        "row": 4,
        "status": "rejected",
        "code": "invalid_phone",
        "message": "手机号“123”不是有效的中国大陆手机号",
        "student_number": "R9",
    }
    assert User.objects.filter(student_number__in=["R00000", "R00001"]).count() == 2

    listing = client.get(url(school))
    assert listing.status_code == 200
    assert [item["id"] for item in listing.json()["results"]] == [body["id"]]
    assert "rows" not in listing.json()["results"][0]
    detail = client.get(url(school, f"{body['id']}/"))
    assert detail.status_code == 200
    assert detail.json()["rows"] == body["rows"]


def test_bureau_admin_above_the_school_may_import(world: Any, school: Any, client_for: Any) -> None:
    response = client_for(world.bureau_admins[0]).post(
        url(school), upload(csv_bytes(roster_rows(1)), "r.csv"), format="multipart"
    )
    assert response.status_code == 201
    assert response.json()["file_format"] == "csv"


@pytest.mark.parametrize("who", ["teacher", "guardian", "student", "other_admin", "other_bureau"])
def test_others_get_404_and_nothing_is_written(
    world: Any, school: Any, admin_of: Any, client_for: Any, who: str
) -> None:
    user = {
        "teacher": world.teachers[0],
        "guardian": world.guardians[0][0],
        "student": world.students[0][0],
        "other_admin": world.school_admins[1],
        "other_bureau": world.bureau_admins[1],
    }[who]
    existing = RosterImport.objects.create(
        school=school, uploaded_by=admin_of, file_name="old.csv", file_format="csv", status="completed"
    )
    client = client_for(user)

    posted = client.post(url(school), upload(csv_bytes(roster_rows(3)), "r.csv"), format="multipart")
    listed = client.get(url(school))
    detail = client.get(url(school, f"{existing.pk}/"))

    for response in (posted, listed, detail):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert RosterImport.objects.count() == 1
    assert not User.objects.filter(student_number__startswith="R0000").exists()


def test_an_import_is_not_visible_under_another_school(world: Any, client_for: Any) -> None:
    record = RosterImport.objects.create(
        school=world.schools[0], file_name="a.csv", file_format="csv", status="completed"
    )
    # A bureau admin of the county above school 1 asks for school 0's import under school 1.
    response = client_for(world.school_admins[1]).get(url(world.schools[1], f"{record.pk}/"))
    assert response.status_code == 404


def test_dry_run_previews_without_writing(world: Any, school: Any, admin_of: Any, client_for: Any) -> None:
    response = client_for(admin_of).post(
        url(school) + "?dry_run=1", upload(csv_bytes(roster_rows(4)), "r.csv"), format="multipart"
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["dry_run"], body["status"]) == (None, True, "preview")
    assert body["counts"]["created"] == 4
    assert RosterImport.objects.count() == 0
    assert not User.objects.filter(student_number__startswith="R0000").exists()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({}, "file_required"),
        (upload(b"%PDF-1.7", "a.pdf"), "unsupported_format"),
        (upload(b"PK\x03\x04garbage", "a.xlsx"), "invalid_file"),
        (upload("学生姓名,学号\n张三,1\n".encode(), "a.csv"), "missing_columns"),
        (upload(b"", "a.csv"), "empty_file"),
    ],
)
def test_broken_uploads_answer_400_and_write_nothing(
    world: Any, school: Any, admin_of: Any, client_for: Any, data: dict[str, Any], code: str
) -> None:
    response = client_for(admin_of).post(url(school), data, format="multipart")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert RosterImport.objects.count() == 0


def test_oversized_upload_is_refused_before_reading(
    world: Any, school: Any, admin_of: Any, client_for: Any, settings: Any
) -> None:
    settings.ROSTER_IMPORT_MAX_BYTES = 1024
    response = client_for(admin_of).post(
        url(school), upload(csv_bytes(roster_rows(100)), "r.csv"), format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "file_too_large"
    assert RosterImport.objects.count() == 0


def test_requires_authentication(world: Any, school: Any, api: Any) -> None:
    assert api.get(url(school)).status_code == 401


def test_list_query_count_is_constant(
    world: Any, school: Any, admin_of: Any, client_for: Any, django_assert_num_queries: Any
) -> None:
    for i in range(5):
        RosterImport.objects.create(
            school=school, uploaded_by=admin_of, file_name=f"{i}.csv", file_format="csv", status="completed"
        )
    client = client_for(admin_of)
    # The user (auth), the caller's admin paths, the school, the page (uploader joined).
    with django_assert_num_queries(4):
        response = client.get(url(school))
    assert len(response.json()["results"]) == 5
