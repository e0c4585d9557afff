"""Day boundaries are Asia/Shanghai midnight, whatever the server's clock or TIME_ZONE."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from backend.delivery.rules import SHANGHAI

from .conftest import body, checkin_url

pytestmark = pytest.mark.django_db


def check_in(as_user: Any, campaign: Any, student: Any, **values: Any) -> Any:
    return as_user(student).post(checkin_url(campaign), body(student_id=student.pk, **values), format="json")


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 3, 2, 23, 59, 59, tzinfo=SHANGHAI), "2026-03-02"),
        (datetime(2026, 3, 3, 0, 0, 0, tzinfo=SHANGHAI), "2026-03-03"),
        # The same two instants written in UTC (15:59:59Z and 16:00:00Z).
        (datetime(2026, 3, 2, 15, 59, 59, tzinfo=UTC), "2026-03-02"),
        (datetime(2026, 3, 2, 16, 0, 0, tzinfo=UTC), "2026-03-03"),
    ],
)
@pytest.mark.parametrize("server_zone", ["Asia/Shanghai", "UTC"])
def test_today_is_the_shanghai_calendar_day(
    world: Any,
    as_user: Any,
    campaign: Any,
    clock: Any,
    settings: Any,
    moment: datetime,
    expected: str,
    server_zone: str,
) -> None:
    settings.TIME_ZONE = server_zone
    clock.move_to(moment)
    response = check_in(as_user, campaign, world.students[0][0])
    assert response.status_code == 201, response.json()
    assert response.json()["date"] == expected
    assert response.json()["is_makeup"] is False


@pytest.mark.parametrize("server_zone", ["Asia/Shanghai", "UTC"])
def test_makeup_window_closes_at_shanghai_midnight(
    world: Any, as_user: Any, campaign: Any, clock: Any, settings: Any, server_zone: str
) -> None:
    settings.TIME_ZONE = server_zone
    # makeup_days=1: Monday may be made up until Tuesday 23:59:59 in Shanghai.
    clock.move_to(datetime(2026, 3, 3, 23, 59, 59, tzinfo=SHANGHAI))
    ok = check_in(as_user, campaign, world.students[0][0], date="2026-03-02")
    clock.move_to(datetime(2026, 3, 4, 0, 0, 0, tzinfo=SHANGHAI))
    late = check_in(as_user, campaign, world.students[0][1], date="2026-03-02")

    assert (ok.status_code, ok.json()["is_makeup"]) == (201, True)
    assert (late.status_code, late.json()["error"]["code"]) == (400, "makeup_window_passed")


def test_future_day_until_midnight(world: Any, as_user: Any, campaign: Any, clock: Any) -> None:
    clock.move_to(datetime(2026, 3, 2, 23, 59, 59, tzinfo=SHANGHAI))
    early = check_in(as_user, campaign, world.students[0][0], date="2026-03-03")
    clock.move_to(datetime(2026, 3, 3, 0, 0, 0, tzinfo=SHANGHAI))
    on_time = check_in(as_user, campaign, world.students[0][0], date="2026-03-03", client_id="again")

    assert (early.status_code, early.json()["error"]["code"]) == (400, "date_in_future")
    assert on_time.status_code == 201


def test_last_day_ends_at_shanghai_midnight(world: Any, as_user: Any, make_campaign: Any, clock: Any) -> None:
    campaign = make_campaign(end_date=date(2026, 3, 3), makeup_days=0)
    clock.move_to(datetime(2026, 3, 3, 23, 59, 59, tzinfo=SHANGHAI))
    last = check_in(as_user, campaign, world.students[0][0])
    clock.move_to(datetime(2026, 3, 4, 0, 0, 0, tzinfo=SHANGHAI))
    after = check_in(as_user, campaign, world.students[0][1])

    assert (last.status_code, last.json()["date"]) == (201, "2026-03-03")
    assert (after.status_code, after.json()["error"]["code"]) == (400, "outside_campaign")


def test_streak_survives_until_the_day_is_over(
    world: Any, as_user: Any, campaign: Any, clock: Any, settings: Any
) -> None:
    settings.TIME_ZONE = "UTC"
    student = world.students[0][0]
    for day in ("2026-03-02", "2026-03-03"):
        clock.move_to(datetime.fromisoformat(f"{day}T20:00:00+08:00"))
        assert check_in(as_user, campaign, student, client_id=day).status_code == 201
    url = f"/api/v1/checkin-campaigns/{campaign.pk}/streaks/"

    clock.move_to(datetime(2026, 3, 4, 23, 59, 59, tzinfo=SHANGHAI))  # Wednesday still open
    assert as_user(student).get(url).json() == {
        "student_id": student.pk,
        "current": 2,
        "longest": 2,
        "total": 2,
    }
    clock.move_to(datetime(2026, 3, 5, 0, 0, 0, tzinfo=SHANGHAI))  # Wednesday missed
    assert as_user(student).get(url).json()["current"] == 0
