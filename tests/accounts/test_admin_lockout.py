"""The Django admin's login form counts failures per canonical login too."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_admin_form_failures_lock_the_account_across_ips(client, world):
    admin = world.school_admins[0]
    for i in range(5):
        client.post(
            "/admin/login/",
            {"username": f"+86 {admin.phone}", "password": "wrong"},
            REMOTE_ADDR=f"10.0.0.{i + 1}",
        )
    response = client.post(
        "/admin/login/", {"username": admin.phone, "password": "pw-123456"}, REMOTE_ADDR="10.0.9.9"
    )
    # Five failures from five addresses lock the account itself: the right password is refused.
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
