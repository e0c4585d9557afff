"""Publishing a notice to its recipients, one chunk at a time.

Recipients are walked in ascending user id; each chunk writes its receipts in bulk and
hands the same people to delivery.notify() in one transaction that also moves
`Notice.fanout_cursor`. A task that dies mid-way therefore resumes after the last
committed chunk, and a task that runs twice finds the cursor already moved (the notice
row is locked while a chunk is written, so two workers take turns). Queries are a
constant number per chunk, whatever its size.

Used by services (small audiences, inside the request) and tasks (large ones)."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from backend.conventions.bulk import bulk_insert
from backend.delivery.services import Event, PushContent, SmsContent, delivery_acknowledge, notify
from backend.realtime.publishing import publishing_in_background
from backend.realtime.services import send_event_on_commit
from backend.schools.models import SchoolClass
from backend.schools.selectors import (
    classes_of_targets,
    guardian_children_in,
    guardian_display_name,
    guardianships_in,
    student_memberships_in,
    students_in,
)

from .events import NOTICE_CREATED, NOTICE_RECALLED
from .models import Notice, NoticeReceipt

SOURCE_TYPE = "notice"
SMS_SLOT_LIMIT = 20  # SMS template slots are short; long titles are cut with "…"


def fanout_chunk_size() -> int:
    """Recipients per chunk (one transaction). A school's notice (≤ 5,000 families) is
    one chunk: one commit, and its sockets hear once, all together; a district's runs
    in chunks whose locks (the notice row, the recipients' event counters) are held for
    a fraction of a second each."""
    return int(getattr(settings, "NOTICES_FANOUT_CHUNK", 5000))


def sync_fanout_limit() -> int:
    """Audiences up to this size are published inside the request; larger ones by a task."""
    return int(getattr(settings, "NOTICES_SYNC_FANOUT_LIMIT", 2000))


def fanout_stale_after() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "NOTICES_FANOUT_STALE_SECONDS", 300)))


def target_classes(notice: Notice) -> QuerySet[SchoolClass]:
    """The classes the notice addresses. A grade's or an org's classes are read once and
    given to the audience reads as ids: with the org path as a subquery PostgreSQL
    guessed a fifth of all classes and planned every audience read as a scan of every
    school's guardianships (bench/: a 5,000-family school's audience count took ~190 ms
    next to a 100,000-family school, ~30–40 ms with the ids)."""
    if notice.scope == Notice.Scope.CLASSES:
        return classes_of_targets(class_ids=notice.class_ids)
    if notice.scope == Notice.Scope.GRADES:
        scope = classes_of_targets(grade_ids=notice.grade_ids)
    else:
        scope = classes_of_targets(org=notice.org)
    return SchoolClass.objects.filter(pk__any=list(scope.values_list("pk", flat=True)))


def _wants_guardians(audience: str) -> bool:
    return audience in (Notice.Audience.GUARDIANS, Notice.Audience.ALL)


def _wants_students(audience: str) -> bool:
    return audience in (Notice.Audience.STUDENTS, Notice.Audience.ALL)


def audience_size(*, classes: QuerySet[SchoolClass], audience: str) -> int:
    """How many people the notice reaches (a guardian who is also a student in the
    audience would count twice: the number only picks sync or async publishing)."""
    size = 0
    if _wants_guardians(audience):
        size += guardianships_in(classes=classes).values("guardian_id").distinct().count()
    if _wants_students(audience):
        size += student_memberships_in(classes=classes).values("user_id").distinct().count()
    return size


def audience_if_small(notice: Notice, classes: QuerySet[SchoolClass], *, limit: int) -> list[int] | None:
    """The whole audience, ascending, when it has at most `limit` people; None when it
    has more. At most limit + 1 rows per audience (one query each): a notice published
    inside the request needs no separate count and no second read of its audience."""
    ids: set[int] = set()
    if _wants_guardians(notice.audience):
        ids.update(
            guardianships_in(classes=classes)
            .order_by()
            .values_list("guardian_id", flat=True)
            .distinct()[: limit + 1]
        )
    if _wants_students(notice.audience):
        ids.update(
            student_memberships_in(classes=classes)
            .order_by()
            .values_list("user_id", flat=True)
            .distinct()[: limit + 1]
        )
    return sorted(ids) if len(ids) <= limit else None


def _pending_recipient_ids(notice: Notice, classes: QuerySet[SchoolClass]) -> list[int]:
    """Everyone the notice has still to reach (ids above the fan-out cursor), ascending.
    One query per audience for the whole run: asking for "the next 2,000 by guardian id"
    made PostgreSQL walk the guardian index of every school (bench/README.md)."""
    after = notice.fanout_cursor
    ids: set[int] = set()
    if _wants_guardians(notice.audience):
        ids.update(
            guardianships_in(classes=classes)
            .filter(guardian_id__gt=after)
            .values_list("guardian_id", flat=True)
        )
    if _wants_students(notice.audience):
        ids.update(
            student_memberships_in(classes=classes)
            .filter(user_id__gt=after)
            .values_list("user_id", flat=True)
        )
    return sorted(ids)


def _short(text: str, limit: int = SMS_SLOT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class _Person:
    role: str
    display_name: str
    students: list[dict[str, Any]]


def _people(notice: Notice, classes: QuerySet[SchoolClass], ids: list[int]) -> dict[int, _Person]:
    """Receipt content for each recipient id: guardians name their children in the
    audience (in student id order); students name themselves. Two queries at most."""
    people: dict[int, _Person] = {}
    if _wants_guardians(notice.audience):
        guardian = str(NoticeReceipt.Role.GUARDIAN.value)
        for guardian_id, student_id, name, relation, class_name in guardian_children_in(
            classes=classes, guardian_ids=ids
        ):
            child = {"id": student_id, "name": name, "class_name": class_name}
            person = people.get(guardian_id)
            if person is None:
                display = guardian_display_name(student_name=name, relation=relation)
                people[guardian_id] = _Person(guardian, display, [child])
            elif all(s["id"] != student_id for s in person.students):
                person.students.append(child)
                person.students.sort(key=_student_id)
    if _wants_students(notice.audience):
        student = str(NoticeReceipt.Role.STUDENT.value)
        for student_id, name, class_name in students_in(classes=classes, student_ids=ids):
            if student_id not in people:
                people[student_id] = _Person(
                    student, name, [{"id": student_id, "name": name, "class_name": class_name}]
                )
    return people


def _student_id(student: dict[str, Any]) -> int:
    return int(student["id"])


def created_event(notice: Notice) -> Event:
    return Event(
        type=NOTICE_CREATED,
        data={
            "notice_id": notice.pk,
            "title": notice.title,
            "urgent": notice.urgent,
            "require_confirmation": notice.require_confirmation,
            "author": {"id": notice.author_id, "display_name": notice.author_name},
            "target": notice.target_label,
        },
        source_type=SOURCE_TYPE,
        source_id=notice.pk,
    )


def _notify(notice: Notice, people: dict[int, _Person]) -> None:
    push = PushContent(
        title=("【紧急】" if notice.urgent else "") + notice.title,
        body=f"{notice.author_name}（{notice.target_label}）：{notice.body[:80]}",
        data={"notice_id": str(notice.pk)},
    )
    sms = None
    if notice.sms_fallback:
        by_user = {
            uid: {"class": _short("、".join(dict.fromkeys(s["class_name"] for s in p.students)))}
            for uid, p in people.items()
        }
        sms = SmsContent(
            template="notice_confirm" if notice.require_confirmation else "notice",
            params={"title": _short(notice.title)},
            params_by_user=by_user,
            sender_id=notice.author_id,
        )
    notify(
        list(people),
        created_event(notice),
        urgency="urgent" if notice.urgent else "normal",
        # A bureau's notice has no single school: the bureau's own org gives the quiet
        # hours and its SMS account pays for families without the app.
        school_id=notice.school_id or notice.org_id,
        push=push,
        sms=sms,
        # Unread (and, when asked for, unconfirmed) notices escalate until read/confirmed.
        needs_attention=True,
    )


def notice_fanout_step(*, notice_id: int, now: datetime | None = None) -> bool:
    """Write the next chunk of receipts and notify those recipients. Returns True when
    nothing is left (the notice is published, or no longer publishing)."""
    return _fanout_step(notice_id, now or timezone.now(), None)[0]


def _fanout_step(notice_id: int, now: datetime, pending: list[int] | None) -> tuple[bool, list[int]]:
    """One chunk. `pending` is the ascending audience an earlier step of the same run
    read (ids at or below the cursor are skipped, so a chunk another worker wrote is not
    written again); without it the step reads it. Returns (done, the audience used)."""
    # Its own transaction from a task (savepoint=False: called inside another one, as
    # tests do, it adds no SAVEPOINT round trips).
    with transaction.atomic(savepoint=False):
        notice = (
            Notice.objects.select_for_update(of=("self",)).select_related("org").filter(pk=notice_id).first()
        )
        if notice is None or notice.status != Notice.Status.PUBLISHING:
            return True, []
        classes = target_classes(notice)
        if pending is None:
            pending = _pending_recipient_ids(notice, classes)
        done, _ = _write_chunk(notice, classes, pending, now, fanout_chunk_size())
    return done, pending


def _write_chunk(
    notice: Notice, classes: QuerySet[SchoolClass], pending: list[int], now: datetime, limit: int
) -> tuple[bool, dict[str, Any]]:
    """Write receipts for the next `limit` people of `pending` after the notice's cursor
    and notify them; move the cursor. The caller holds the notice row (locked, or
    inserted by its own transaction). Returns (done, the notice fields written)."""
    start = bisect_right(pending, notice.fanout_cursor)
    ids = pending[start : start + limit]
    people = _people(notice, classes, ids) if ids else {}
    if people:
        # New rows only: the notice row is held and the cursor moves with them.
        bulk_insert(
            NoticeReceipt,
            ("notice_id", "recipient_id", "role", "display_name", "students", "created_at"),
            ((notice.pk, uid, p.role, p.display_name[:64], p.students, now) for uid, p in people.items()),
        )
        _notify(notice, people)
    done = start + limit >= len(pending)
    fields: dict[str, Any] = {"fanout_heartbeat": now}
    if ids:
        fields["fanout_cursor"] = ids[-1]
        fields["recipients_count"] = F("recipients_count") + len(people)
    if done:
        # Exact, whatever happened to earlier chunks: one aggregate at the end, unless
        # this chunk was the whole fan-out (nothing was written before it).
        if notice.fanout_cursor == 0 and notice.recipients_count == 0:
            fields["recipients_count"] = len(people)
        else:
            fields["recipients_count"] = NoticeReceipt.objects.filter(notice_id=notice.pk).count()
        fields["status"] = Notice.Status.PUBLISHED
        fields["fanout_heartbeat"] = None
    Notice.objects.filter(pk=notice.pk).update(**fields)
    return done, fields


def notice_publish_now(*, notice: Notice, classes: QuerySet[SchoolClass], audience: list[int]) -> None:
    """Publish a notice that the caller's transaction has just inserted (nobody else can
    see or lock it yet) to the audience it has just read (ascending ids, see
    audience_if_small()): one chunk, without reading either again. `notice` is updated
    in memory to what was written."""
    _, fields = _write_chunk(notice, classes, audience, timezone.now(), max(len(audience), 1))
    for name, value in fields.items():
        setattr(notice, name, value)


def notice_fanout_run(*, notice_id: int, max_chunks: int | None = None) -> bool:
    """Run fan-out steps until done (or `max_chunks` were written). True when done.

    The audience is read once per run, and each chunk's sockets are told on a background
    thread as soon as it commits, while the next chunk is written. Each chunk is its own
    transaction: a crash loses at most the chunk being written, and nothing is lost for
    clients, who resume from the event log."""
    pending: list[int] | None = None
    with publishing_in_background():
        steps = 0
        while max_chunks is None or steps < max_chunks:
            done, pending = _fanout_step(notice_id, timezone.now(), pending)
            if done:
                return True
            steps += 1
        return False


def notice_recall_step(*, notice_id: int) -> bool:
    """Tell the next chunk of recipients that the notice was recalled and stop its
    escalation. Returns True when every receipt has been handled."""
    limit = fanout_chunk_size()
    with transaction.atomic():
        notice = Notice.objects.select_for_update().filter(pk=notice_id).first()
        if notice is None or notice.status != Notice.Status.RECALLED:
            return True
        rows = list(
            NoticeReceipt.objects.filter(notice_id=notice_id, id__gt=notice.recall_cursor)
            .order_by("id")
            .values_list("id", "recipient_id")[:limit]
        )
        fields: dict[str, Any] = {"fanout_heartbeat": timezone.now()}
        if rows:
            user_ids = [uid for _, uid in rows]
            send_event_on_commit(user_ids, NOTICE_RECALLED, {"notice_id": notice_id})
            delivery_acknowledge(source_type=SOURCE_TYPE, source_id=notice_id, user_ids=user_ids)
            fields["recall_cursor"] = rows[-1][0]
        done = len(rows) < limit
        if done:
            fields["fanout_heartbeat"] = None
        Notice.objects.filter(pk=notice_id).update(**fields)
    return done


def notice_recall_run(*, notice_id: int, max_chunks: int | None = None) -> bool:
    steps = 0
    while max_chunks is None or steps < max_chunks:
        if notice_recall_step(notice_id=notice_id):
            return True
        steps += 1
    return False


def notice_claim_scheduled(*, notice_id: int, now: datetime) -> bool:
    """Scheduled → publishing when its time has come; True for the one caller that won."""
    return bool(
        Notice.objects.filter(pk=notice_id, status=Notice.Status.SCHEDULED, scheduled_at__lte=now).update(
            status=Notice.Status.PUBLISHING, published_at=now, fanout_heartbeat=now
        )
    )


def notices_claim_due(*, now: datetime, limit: int = 100) -> tuple[list[int], list[int]]:
    """Move scheduled notices whose time has come to "publishing", and pick up
    publishing or recalling notices whose worker went quiet (a heartbeat older than
    NOTICES_FANOUT_STALE_SECONDS). Returns (ids to fan out, ids whose recall to finish).
    Safe under concurrent sweepers: a conditional update claims each notice once."""
    due = list(
        Notice.objects.filter(status=Notice.Status.SCHEDULED, scheduled_at__lte=now)
        .order_by("scheduled_at")
        .values_list("pk", flat=True)[:limit]
    )
    publish = [pk for pk in due if notice_claim_scheduled(notice_id=pk, now=now)]
    stale = list(
        Notice.objects.filter(fanout_heartbeat__lt=now - fanout_stale_after())
        .filter(status__in=[Notice.Status.PUBLISHING, Notice.Status.RECALLED])
        .values_list("pk", "status")[:limit]
    )
    recall: list[int] = []
    for pk, status in stale:
        # Touch the heartbeat so the next sweep does not queue it again at once.
        if Notice.objects.filter(pk=pk, fanout_heartbeat__lt=now - fanout_stale_after()).update(
            fanout_heartbeat=now
        ):
            (publish if status == Notice.Status.PUBLISHING else recall).append(pk)
    return publish, recall
