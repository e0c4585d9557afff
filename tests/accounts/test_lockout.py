"""lockout_response: what a locked-out client sees at a login door other than the API's."""

from __future__ import annotations

import json

from django.test import RequestFactory

from backend.accounts.lockout import lockout_response


def test_other_login_doors_get_the_envelope_with_retry_after(db):
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR="10.8.8.8")

    response = lockout_response(request, None, {"login": "13500000000"})

    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert json.loads(response.content) == {
        "error": {"code": "account_locked", "message": "登录失败次数过多，请 15 分钟后再试"}
    }
