"""Students get initial passwords from their school admin, handed out on paper."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from backend.audit.models import AuditRecord

pytestmark = pytest.mark.django_db


def test_school_admin_downloads_passwords_that_work(world, api):
    admin = world.school_admins[0]
    students = world.students[0]
    other_school_student = world.students[2][0]
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/admin/accounts/user/",
        {
            "action": "issue_student_passwords",
            "_selected_action": [s.pk for s in students] + [other_school_student.pk],
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["学号", "姓名", "初始密码"]
    issued = {row[0]: row[2] for row in rows[1:]}
    # Only the admin's own school's students (the other school's is out of scope).
    assert set(issued) == {s.student_number for s in students}
    login = api.post(
        "/api/v1/auth/token/",
        {"login": students[0].student_number, "password": issued[students[0].student_number]},
        format="json",
    )
    assert login.status_code == 200
    # The old password no longer works, and the audit keeps the fact but not the password.
    old = api.post(
        "/api/v1/auth/token/", {"login": students[1].student_number, "password": "pw-123456"}, format="json"
    )
    assert old.status_code == 401
    record = AuditRecord.objects.get(action="account.student_passwords_issued")
    assert record.detail["count"] == len(students)
    assert all(p not in str(record.detail) for p in issued.values())
    other_school_student.refresh_from_db()
    assert other_school_student.check_password("pw-123456")
