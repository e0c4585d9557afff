"""POST auth/sms-code/ and auth/token/sms/: login codes by SMS."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.accounts.models import SmsLoginCode
from backend.audit.models import AuditRecord

MINUTE = timedelta(seconds=61)


@pytest.fixture
def parent(world):
    return world.guardians[0][0]


def test_a_registered_number_gets_a_six_digit_code(parent, request_code, outbox):
    response = request_code(parent.phone)

    assert response.status_code == 204
    [message] = outbox()
    assert message.phone == parent.phone
    assert "5分钟内有效" in message.text
    code = SmsLoginCode.objects.get(phone=parent.phone)
    # Stored hashed, never in clear.
    assert code.code_hash
    assert all(part not in code.code_hash for part in message.text.split("，"))


def test_an_unregistered_number_answers_the_same_but_nothing_is_sent(db, request_code, outbox):
    response = request_code("13912345678")

    assert response.status_code == 204
    assert response.content == b""
    assert outbox() == []
    assert not SmsLoginCode.objects.exists()


def test_a_deactivated_account_gets_no_code(parent, request_code, outbox):
    type(parent).objects.filter(pk=parent.pk).update(is_active=False)

    assert request_code(parent.phone).status_code == 204
    assert outbox() == []


@pytest.mark.parametrize("phone", ["12345", "1380000000", "23800000000", "+1 415 555 0100", ""])
def test_an_invalid_number_is_refused(db, request_code, outbox, phone):
    response = request_code(phone)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_phone"
    assert outbox() == []


def test_the_code_logs_in(parent, request_code, last_code, sms_login):
    request_code(parent.phone)

    response = sms_login(parent.phone, last_code(parent.phone))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "user"}
    assert body["user"]["id"] == parent.pk
    [row] = AuditRecord.objects.filter(action="auth.login")
    assert row.actor_id == parent.pk
    assert row.detail == {"method": "sms"}
    parent.refresh_from_db()
    assert parent.first_app_login_at is not None


def test_the_number_may_be_written_with_country_code(parent, request_code, last_code, sms_login, outbox):
    request_code("+86 " + parent.phone)

    assert sms_login("0086" + parent.phone, last_code(parent.phone)).status_code == 200


def test_a_code_is_single_use(parent, request_code, last_code, sms_login):
    request_code(parent.phone)
    code = last_code(parent.phone)

    first = sms_login(parent.phone, code)
    second = sms_login(parent.phone, code)

    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["error"]["code"] == "invalid_code"


def test_a_code_expires_after_five_minutes(parent, request_code, last_code, sms_login, clock):
    request_code(parent.phone)
    code = last_code(parent.phone)

    clock.shift(timedelta(minutes=5, seconds=1))
    response = sms_login(parent.phone, code)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_code"


def test_a_code_still_works_just_before_expiry(parent, request_code, last_code, sms_login, clock):
    request_code(parent.phone)

    clock.shift(timedelta(minutes=4, seconds=59))

    assert sms_login(parent.phone, last_code(parent.phone)).status_code == 200


def test_a_new_code_supersedes_the_old_one(parent, request_code, last_code, sms_login, clock, monkeypatch):
    # Two different codes for sure (random ones could repeat, once in a million).
    draws = iter([111111, 222222])
    monkeypatch.setattr("backend.accounts.services.login.secrets.randbelow", lambda _: next(draws))
    request_code(parent.phone)
    old = last_code(parent.phone)
    clock.shift(MINUTE)
    request_code(parent.phone)
    new = last_code(parent.phone)

    assert (old, new) == ("111111", "222222")
    assert sms_login(parent.phone, old).status_code == 400
    assert sms_login(parent.phone, new).status_code == 200


def test_five_wrong_guesses_burn_the_code(parent, request_code, last_code, sms_login):
    request_code(parent.phone)
    code = last_code(parent.phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    answers = [sms_login(parent.phone, wrong).status_code for _ in range(5)]
    right = sms_login(parent.phone, code)

    assert answers == [400] * 5
    assert right.status_code == 400
    assert right.json()["error"]["code"] == "invalid_code"
    failures = AuditRecord.objects.filter(action="auth.login_failed")
    assert [r.detail["reason"] for r in failures.order_by("id")] == ["wrong_code"] * 5 + ["too_many_attempts"]
    for row in AuditRecord.objects.all():
        assert code not in str(row.detail)


def test_four_wrong_guesses_leave_the_code_usable(parent, request_code, last_code, sms_login):
    request_code(parent.phone)
    code = last_code(parent.phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    for _ in range(4):
        sms_login(parent.phone, wrong)

    assert sms_login(parent.phone, code).status_code == 200


def test_no_code_for_the_number_is_an_invalid_code(db, sms_login):
    response = sms_login("13912345678", "123456")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_code"
    [row] = AuditRecord.objects.filter(action="auth.login_failed")
    assert row.detail == {"method": "sms", "reason": "no_active_code", "login": "139****5678"}


def test_one_code_a_minute(parent, request_code, outbox, clock):
    first = request_code(parent.phone)
    clock.shift(timedelta(seconds=30))
    second = request_code(parent.phone)
    clock.shift(timedelta(seconds=30))
    third = request_code(parent.phone)

    assert first.status_code == 204
    assert second.status_code == 429
    assert second.json()["error"] == {
        "code": "sms_code_rate_limited",
        "message": "获取验证码过于频繁，请 30 秒后再试",
    }
    assert second["Retry-After"] == "30"
    assert third.status_code == 204
    assert len(outbox()) == 2


def test_five_codes_an_hour(parent, request_code, outbox, clock):
    answers = []
    for _ in range(6):
        answers.append(request_code(parent.phone))
        clock.shift(MINUTE)

    assert [a.status_code for a in answers] == [204] * 5 + [429]
    # 08:06:06 now minus one shift: refused at 08:05:05, the hour ends at 09:00.
    assert answers[5]["Retry-After"] == str(55 * 60 - 5)
    assert answers[5].json()["error"]["message"] == "获取验证码次数过多，请 55 分钟后再试"
    assert len(outbox()) == 5
    clock.shift(timedelta(hours=1))
    assert request_code(parent.phone).status_code == 204


def test_ten_codes_a_day(parent, request_code, outbox, clock):
    answers = []
    for _hour in range(3):
        for _ in range(5):
            answers.append(request_code(parent.phone).status_code)
            clock.shift(MINUTE)
        clock.shift(timedelta(hours=1) - 5 * MINUTE)

    assert answers == [204] * 10 + [429] * 5
    refused = request_code(parent.phone)
    assert refused.json()["error"]["message"] == "今日获取验证码次数已达上限，请明天再试"
    assert len(outbox()) == 10
    clock.shift(timedelta(days=1))
    assert request_code(parent.phone).status_code == 204


def test_limits_apply_to_unregistered_numbers_too(db, request_code, clock):
    # Otherwise the 429 would tell registered numbers apart.
    assert request_code("13912345678").status_code == 204
    assert request_code("13912345678").status_code == 429


def test_per_address_limit(world, request_code, outbox, settings, clock):
    settings.SMS_LOGIN_CODE_IP_LIMITS = {"hour": 3}
    phones = [g.phone for g in world.guardians[1]] + [world.teachers[0].phone]

    answers = [request_code(phone, ip="10.3.3.3") for phone in phones]
    elsewhere = request_code(world.teachers[1].phone, ip="10.4.4.4")

    assert [a.status_code for a in answers] == [204, 204, 204, 429]
    assert answers[3].json()["error"]["code"] == "sms_code_rate_limited"
    assert answers[3].json()["error"]["message"].startswith("当前网络")
    assert elsewhere.status_code == 204
    assert [m.phone for m in outbox()] == [*phones[:3], world.teachers[1].phone]


def test_a_refused_address_does_not_use_up_the_number(world, request_code, settings, clock):
    settings.SMS_LOGIN_CODE_IP_LIMITS = {"hour": 1}
    victim = world.guardians[0][0].phone
    request_code(world.guardians[0][1].phone, ip="10.5.5.5")

    assert request_code(victim, ip="10.5.5.5").status_code == 429
    assert request_code(victim, ip="10.6.6.6").status_code == 204


def test_invalid_input_shapes(db, api):
    missing = api.post("/api/v1/auth/token/sms/", {"phone": "13800000000"}, format="json")
    bad_phone = api.post("/api/v1/auth/token/sms/", {"phone": "abc", "code": "123456"}, format="json")

    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "invalid"
    assert bad_phone.status_code == 400
    assert bad_phone.json()["error"]["code"] == "invalid_phone"


@pytest.mark.redis
def test_limits_count_in_redis(parent, request_code, clock):
    from django.core.cache import caches

    assert "redis" in type(caches["default"]).__module__
    assert request_code(parent.phone).status_code == 204
    assert request_code(parent.phone).status_code == 429
