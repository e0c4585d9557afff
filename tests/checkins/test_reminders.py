"""The daily reminder: at remind_at, the students still missing and their guardians get
an in-app event and a push (never an SMS), once per campaign day."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest

from backend.checkins.models import CheckinReminder
from backend.checkins.selectors import campaign_access
from backend.checkins.services import campaign_close, checkin_submit, checkins_send_due_reminders
from backend.checkins.tasks import checkins_remind_due
from backend.delivery.models import Delivery, PushState
from backend.delivery.rules import SHANGHAI
from backend.realtime.models import UserEvent
from backend.sms.outbox import sent_messages

from .conftest import events_of, give_app, pushed

pytestmark = pytest.mark.django_db

EVENING = datetime(2026, 3, 2, 19, 0, 30, tzinfo=SHANGHAI)


@pytest.fixture
def reminded_campaign(world: Any, make_campaign: Any) -> Any:
    campaign = make_campaign(remind_at=time(19, 0))
    done = world.students[0][0]
    checkin_submit(user=done, campaign=campaign, student_id=done.pk, text="读书", client_id="1")
    return campaign


def run(moment: datetime, clock: Any, capture: Any) -> int:
    clock.move_to(moment)
    with capture(execute=True):
        return checkins_send_due_reminders(moment)


def test_missing_students_and_their_guardians_are_reminded_once(
    world: Any, reminded_campaign: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    give_app(world.guardians[0][1], "tok-g1")
    give_app(world.guardians[0][0], "tok-g0")  # their child already checked in
    assert (
        run(datetime(2026, 3, 2, 18, 59, 59, tzinfo=SHANGHAI), clock, django_capture_on_commit_callbacks) == 0
    )
    assert run(EVENING, clock, django_capture_on_commit_callbacks) == 1
    assert run(EVENING, clock, django_capture_on_commit_callbacks) == 0  # the next minute's sweep

    expected = [{"campaign_id": reminded_campaign.pk, "campaign_title": "每日阅读", "date": "2026-03-02"}]
    for person in (*world.students[0][1:], *world.guardians[0][1:]):
        assert events_of(person, "checkin.reminder") == expected
    for person in (world.students[0][0], world.guardians[0][0], world.teachers[0], world.guardians[1][0]):
        assert events_of(person, "checkin.reminder") == []
    assert pushed() == [("tok-g1", "打卡提醒", "《每日阅读》今天还没有打卡哦")]
    assert sent_messages() == []  # never SMS for reminders
    reminder = CheckinReminder.objects.get()
    assert (reminder.date, reminder.students, reminder.recipients) == (date(2026, 3, 2), 2, 4)


def test_the_next_day_reminds_again(
    world: Any, reminded_campaign: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    assert run(EVENING, clock, django_capture_on_commit_callbacks) == 1
    assert run(datetime(2026, 3, 3, 19, 1, tzinfo=SHANGHAI), clock, django_capture_on_commit_callbacks) == 1
    # On Tuesday the student who checked in on Monday is missing too.
    assert len(events_of(world.students[0][0], "checkin.reminder")) == 1
    assert len(events_of(world.students[0][1], "checkin.reminder")) == 2


def test_no_reminder_on_days_the_campaign_does_not_run(
    world: Any, make_campaign: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_campaign(remind_at=time(19, 0), weekdays=[2, 3, 4, 5, 6])  # not on Mondays
    make_campaign(1, remind_at=time(19, 0), start_date=date(2026, 3, 3))  # not started yet
    closed = make_campaign(teacher_index=2, remind_at=time(19, 0))
    access = campaign_access(user=world.teachers[2], campaign=closed)
    campaign_close(actor=world.teachers[2], campaign=closed, access=access)

    assert run(EVENING, clock, django_capture_on_commit_callbacks) == 0
    assert not CheckinReminder.objects.exists()
    assert not UserEvent.objects.filter(type="checkin.reminder").exists()


def test_a_sweep_hours_late_skips_the_day(
    world: Any, reminded_campaign: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    assert run(datetime(2026, 3, 2, 21, 1, tzinfo=SHANGHAI), clock, django_capture_on_commit_callbacks) == 0
    assert not UserEvent.objects.filter(type="checkin.reminder").exists()


def test_a_reminder_in_quiet_hours_is_held(
    world: Any, make_campaign: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_campaign(remind_at=time(21, 30))
    give_app(world.guardians[0][0], "tok-g0")
    assert run(datetime(2026, 3, 2, 21, 30, tzinfo=SHANGHAI), clock, django_capture_on_commit_callbacks) == 1
    assert pushed() == []
    row = Delivery.objects.get(recipient=world.guardians[0][0], dispatch__event_type="checkin.reminder")
    assert row.push_state == PushState.HELD
    assert events_of(world.guardians[0][0], "checkin.reminder")


def test_everyone_done_means_nobody_is_told(
    world: Any, make_campaign: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    campaign = make_campaign(remind_at=time(19, 0))
    for student in world.students[0]:
        checkin_submit(user=student, campaign=campaign, student_id=student.pk, text="读书", client_id="1")
    assert run(EVENING, clock, django_capture_on_commit_callbacks) == 1
    assert not UserEvent.objects.filter(type="checkin.reminder").exists()
    assert CheckinReminder.objects.get().recipients == 0


def test_the_beat_task(
    world: Any, reminded_campaign: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    clock.move_to(EVENING)
    with django_capture_on_commit_callbacks(execute=True):
        assert checkins_remind_due.delay().get() == 1
        assert checkins_remind_due.delay().get() == 0
    assert len(events_of(world.students[0][1], "checkin.reminder")) == 1


def test_reminder_queries_do_not_grow_with_the_class(
    demo: Any, clock: Any, django_assert_max_num_queries: Any
) -> None:
    from backend.checkins.services import campaign_create
    from backend.schools.models import SchoolClass

    head2 = demo.head2
    class2 = SchoolClass.objects.get(name="三年级(2)班")
    campaign_create(
        teacher=head2,
        class_ids=[class2.pk],
        title="跳绳",
        start_date=date(2026, 3, 2),
        end_date=date(2026, 3, 29),
        content_types=[],
        remind_at=time(19, 0),
    )
    clock.move_to(EVENING)
    # One campaign: ~23 statements whatever the class size (60 people told here).
    with django_assert_max_num_queries(24):
        assert checkins_send_due_reminders(EVENING) == 1
    assert UserEvent.objects.filter(type="checkin.reminder").count() == 60  # 30 students + 30 guardians
