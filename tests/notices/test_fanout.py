"""Large audiences: publishing costs a constant number of queries per chunk, big
notices are completed by a task that can die and run again without harm."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from backend.notices import fanout
from backend.notices.models import Notice, NoticeReceipt
from backend.notices.tasks import notice_fanout, notices_publish_due
from backend.realtime.models import UserEvent

from .conftest import DAYTIME, build_class, notice_input, run


def plain_client(user):
    """A client whose after-commit work is left alone (counted or captured by the test)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def grade(demo, school):
    return school.grades.get()


@pytest.mark.django_db
def test_publishing_to_50_families_inside_the_request(demo, school, grade, django_assert_num_queries):
    small = build_class(school=school, grade=grade, name="五十人班", families=50, teacher=demo.head2)
    teacher = plain_client(demo.head2)

    # auth, scope checks, the audience (read once: it is small, so no count), insert; one
    # chunk inside the request's transaction (no savepoints, the new notice neither read
    # again nor locked): receipt content, bulk insert, notify (the dispatch inserted in one
    # statement and neither locked again nor asked for rows it cannot have yet; its school
    # for the escalation delay; deliveries, events), the notice's update (the count is the
    # chunk's own, no re-read). The events are one statement on PostgreSQL (counter upsert
    # and log insert), two on SQLite.
    with django_assert_num_queries(15 if connection.vendor == "postgresql" else 16):
        response = teacher.post(
            "/api/v1/notices/", notice_input([small.pk], require_confirmation=False), format="json"
        )

    assert response.status_code == 201
    assert response.json()["status"] == "published"
    assert response.json()["stats"]["recipients"] == 50
    assert NoticeReceipt.objects.count() == 50


@pytest.mark.django_db
def test_publishing_to_5000_families_costs_the_same_per_chunk(
    demo, school, grade, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    settings.NOTICES_SYNC_FANOUT_LIMIT = 2000
    settings.NOTICES_FANOUT_CHUNK = 2000
    big = build_class(school=school, grade=grade, name="五千人班", families=5000, teacher=demo.head2)

    teacher = plain_client(demo.head2)
    with django_capture_on_commit_callbacks() as queued:
        response = teacher.post("/api/v1/notices/", notice_input([big.pk], sms_fallback=False), format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "publishing"
    assert response.json()["stats"]["recipients"] == 0
    assert NoticeReceipt.objects.count() == 0
    assert len(queued) == 1  # the fan-out task, after commit

    notice_id = response.json()["id"]
    # The audience read once, then three chunks of ≤ 2,000 with the same statements
    # each (a chunk's receipts and deliveries are one COPY / executemany each), plus the
    # final count; PostgreSQL writes a chunk's events in one statement, SQLite in two; the
    # first chunk's notify() creates the dispatch in one statement (no lock again, no
    # look-up of its rows); neither a chunk nor notify() takes a savepoint inside the
    # enclosing transaction.
    with django_assert_num_queries(33 if connection.vendor == "postgresql" else 36):
        assert fanout.notice_fanout_run(notice_id=notice_id) is True

    notice = Notice.objects.get(pk=notice_id)
    assert (notice.status, notice.recipients_count) == ("published", 5000)
    assert NoticeReceipt.objects.filter(notice=notice).count() == 5000
    assert UserEvent.objects.filter(type="notice.created").count() == 5000


@pytest.mark.django_db
def test_a_school_sized_notice_is_one_chunk_by_default(
    demo, school, grade, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """5,000 families with the default chunk: one transaction writes every receipt,
    delivery and event, and the sockets are told in one publish after it commits."""
    settings.NOTICES_SYNC_FANOUT_LIMIT = 2000
    assert fanout.fanout_chunk_size() == 5000
    big = build_class(school=school, grade=grade, name="五千人班", families=5000, teacher=demo.head2)
    response = plain_client(demo.head2).post(
        "/api/v1/notices/", notice_input([big.pk], sms_fallback=False), format="json"
    )
    notice_id = response.json()["id"]

    # the audience and one chunk, whose size is the count (no aggregate at the end)
    with (
        django_assert_num_queries(10 if connection.vendor == "postgresql" else 11),
        django_capture_on_commit_callbacks() as callbacks,
    ):
        assert fanout.notice_fanout_run(notice_id=notice_id) is True

    notice = Notice.objects.get(pk=notice_id)
    assert (notice.status, notice.recipients_count) == ("published", 5000)
    assert len(callbacks) == 2  # the sockets' publish and the delivery task, once each
    assert UserEvent.objects.filter(type="notice.created").count() == 5000
    assert len(set(UserEvent.objects.values_list("user_id", flat=True))) == 5000


@pytest.mark.django_db
def test_a_big_notice_answers_publishing_and_the_task_completes_it(demo, school, grade, settings, client_for):
    settings.NOTICES_SYNC_FANOUT_LIMIT = 100
    settings.NOTICES_FANOUT_CHUNK = 40
    big = build_class(school=school, grade=grade, name="大班", families=150, teacher=demo.head2)

    response = client_for(demo.head2).post("/api/v1/notices/", notice_input([big.pk]), format="json")

    assert response.status_code == 201
    assert response.json()["status"] == "publishing"
    # Celery runs eagerly in tests: the task ran after the request committed.
    detail = client_for(demo.head2).get(f"/api/v1/notices/{response.json()['id']}/").json()
    assert detail["status"] == "published"
    assert detail["stats"]["recipients"] == 150
    assert UserEvent.objects.filter(type="notice.created").count() == 150


@pytest.mark.django_db
def test_fanout_resumes_after_a_crash_and_running_twice_changes_nothing(
    demo, school, grade, settings, time_machine, monkeypatch
):
    from backend.notices import tasks
    from backend.notices.services import notice_create

    settings.NOTICES_SYNC_FANOUT_LIMIT = 10
    settings.NOTICES_FANOUT_CHUNK = 20
    big = build_class(school=school, grade=grade, name="大班", families=70, teacher=demo.head2)
    with monkeypatch.context() as patched:
        # the task is lost, as if the worker died before starting it
        patched.setattr(tasks.notice_fanout, "delay", lambda *args: None)
        notice = run(
            notice_create,
            author=demo.head2,
            title="报名",
            body="请报名。",
            audience="guardians",
            class_ids=[big.pk],
            sms_fallback=False,
        )

    # one chunk, then a "crash"
    assert run(fanout.notice_fanout_step, notice_id=notice.pk) is False
    assert NoticeReceipt.objects.filter(notice=notice).count() == 20

    # the sweeper picks up the stalled fan-out once its heartbeat is old
    assert run(notices_publish_due) == 0
    time_machine.move_to(DAYTIME.replace(minute=10))
    assert run(notices_publish_due) == 1

    notice.refresh_from_db()
    assert (notice.status, notice.recipients_count) == ("published", 70)
    # a duplicate task run afterwards finds nothing to do
    assert run(notice_fanout, notice.pk) is True
    assert NoticeReceipt.objects.filter(notice=notice).count() == 70
    assert UserEvent.objects.filter(type="notice.created").count() == 70


@pytest.mark.django_db
def test_a_school_wide_fanout_reads_its_classes_once_and_reaches_only_that_school(
    demo, school, grade, settings, monkeypatch, django_assert_num_queries
):
    """A school (or grade, or bureau) notice reads its classes' ids once per chunk and
    hands them to the audience reads as a parameter; the families of every class of the
    school get it, a school next door's do not."""
    from backend.notices import tasks
    from backend.notices.services import notice_create
    from backend.schools.models import Guardianship, Org
    from backend.schools.services import org_create

    settings.NOTICES_SYNC_FANOUT_LIMIT = 10  # completed by the task's fan-out below
    build_class(school=school, grade=grade, name="三十人班", families=30)
    other = org_create(name="西工区第二小学", kind=Org.Kind.SCHOOL, parent=school.get_parent())
    outsider = build_class(
        school=other, grade=other.grades.create(name="一年级", level=1), name="隔壁班", families=5
    )
    expected = set(
        Guardianship.objects.filter(student__class_memberships__school_class__school=school).values_list(
            "guardian_id", flat=True
        )
    )
    with monkeypatch.context() as patched:
        patched.setattr(tasks.notice_fanout, "delay", lambda *args: None)
        notice = run(
            notice_create,
            author=demo.admin,
            title="全校通知",
            body="明日运动会。",
            audience="guardians",
            school_id=school.pk,
            sms_fallback=False,
        )

    # one chunk: lock, the school's class ids, the audience, receipt content (2), receipts,
    # notify (dispatch: one insert; its school for the escalation delay; deliveries;
    # events: 1 statement on PostgreSQL, 2 on SQLite), the update
    with django_assert_num_queries(11 if connection.vendor == "postgresql" else 12):
        assert fanout.notice_fanout_run(notice_id=notice.pk) is True

    notice.refresh_from_db()
    received = set(NoticeReceipt.objects.filter(notice=notice).values_list("recipient_id", flat=True))
    assert received == expected
    assert notice.recipients_count == len(expected)
    assert len(expected) >= 30 + 60  # the new class and the demo's two
    outsiders = set(
        Guardianship.objects.filter(student__class_memberships__school_class=outsider).values_list(
            "guardian_id", flat=True
        )
    )
    assert len(outsiders) == 5
    assert not outsiders & received
