"""Opening conversations and the moderators' actions on them (close, pin, mute), and
read markers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.audit.services import audit_record
from backend.conventions.errors import ApiError, not_found
from backend.conventions.scope import get_in_scope, parse_id
from backend.messaging.events import CONVERSATION_READ
from backend.messaging.models import Conversation, Member, Message
from backend.messaging.selectors import is_moderator, membership_get, unread_count
from backend.realtime.services import send_event_on_commit
from backend.schools.selectors import (
    class_members,
    classes_of_students,
    guardian_display_name,
    guardian_student_ids,
    guardians_of_classes,
    member_or_guardian_class_q,
    taught_classes,
)

MAX_MUTE_MINUTES = 7 * 24 * 60


def teacher_display_name(name: str) -> str:
    return name if name.endswith("老师") else f"{name}老师"


def _require_moderator(*, user: Any, member: Member) -> None:
    if not is_moderator(user=user, member=member, conversation=member.conversation):
        raise ApiError("not_moderator", "只有本班教师或学校管理员可以执行此操作", status_code=403)


@transaction.atomic
def conversation_open_discussion(
    *, teacher: Any, class_id: object, title: str, allow_students: bool = False
) -> Conversation:
    """A teacher opens a topic in a class they teach: its teachers and guardians (and
    students, when allowed) become members."""
    school_class = get_in_scope(taught_classes(user=teacher), class_id, "班级不存在")
    conversation = Conversation.objects.create(
        kind=Conversation.Kind.DISCUSSION,
        school_id=school_class.school_id,
        school_class=school_class,
        title=title,
        allow_students=allow_students,
        created_by=teacher,
    )
    Member.objects.bulk_create(_discussion_members(conversation).values())
    return conversation


def _discussion_members(conversation: Conversation) -> dict[int, Member]:
    """Who belongs in a class discussion now: the class's teachers and guardians, and its
    students when the topic allows them (unsaved Member rows by user id)."""
    class_id = conversation.school_class_id
    members: dict[int, Member] = {}
    if class_id is None:  # direct chats have no class
        return members
    for row in class_members(class_ids=[class_id], role="teacher").select_related("user"):
        members[row.user_id] = Member(
            conversation=conversation,
            user_id=row.user_id,
            role=Member.Role.TEACHER,
            display_name=teacher_display_name(row.user.name),
        )
    guardianships = guardians_of_classes(class_ids=[class_id]).select_related("student").order_by("id")
    for link in guardianships:
        members.setdefault(
            link.guardian_id,
            Member(
                conversation=conversation,
                user_id=link.guardian_id,
                role=Member.Role.GUARDIAN,
                display_name=guardian_display_name(student_name=link.student.name, relation=link.relation),
            ),
        )
    if conversation.allow_students:
        for row in class_members(class_ids=[class_id], role="student").select_related("user"):
            members.setdefault(
                row.user_id,
                Member(
                    conversation=conversation,
                    user_id=row.user_id,
                    role=Member.Role.STUDENT,
                    display_name=row.user.name,
                ),
            )
    return members


def discussion_members_sync(*, conversation: Conversation) -> int:
    """Add people who joined the class since the topic opened (a new pupil's guardians, a
    new teacher). Nobody is removed: past members keep their history. Returns how many
    were added; a handful of queries whatever the class size."""
    if conversation.kind != Conversation.Kind.DISCUSSION or conversation.school_class_id is None:
        return 0
    present = set(Member.objects.filter(conversation=conversation).values_list("user_id", flat=True))
    missing = [m for uid, m in _discussion_members(conversation).items() if uid not in present]
    if missing:
        Member.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def _direct_parties(*, user: Any, other: Any, student_id: int | None) -> tuple[Any, Any, Any, int]:
    """(teacher, guardian, guardianship, school_id) for a teacher–guardian pair, where
    the child is in a class the teacher teaches. Raises 404 when there is none."""
    for teacher, guardian in ((user, other), (other, user)):
        class_ids = list(taught_classes(user=teacher).values_list("pk", flat=True))
        if not class_ids:
            continue
        links = guardians_of_classes(class_ids=class_ids).filter(guardian=guardian)
        if student_id is not None:
            links = links.filter(student_id=student_id)
        link = links.select_related("student").order_by("id").first()
        if link is None:
            continue
        membership = class_members(class_ids=class_ids, role="student").filter(user_id=link.student_id)
        school_id = membership.values_list("school_class__school_id", flat=True).first()
        return teacher, guardian, link, int(school_id or 0)
    raise not_found("用户不存在")


def _shared_guardian_class(*, user: Any, other: Any) -> tuple[Any, Any, int, bool]:
    """Two guardians whose children share a class: their links and the school."""
    my_classes = classes_of_students(student_ids=guardian_student_ids(user=user))
    shared = (
        classes_of_students(student_ids=guardian_student_ids(user=other))
        .filter(pk__in=my_classes.values("pk"))
        .select_related("school")
        .first()
    )
    if shared is None:
        raise not_found("用户不存在")
    links = (
        guardians_of_classes(class_ids=[shared.pk])
        .filter(guardian__in=[user, other])
        .select_related("student")
    )
    by_guardian: dict[int, Any] = {}
    for link in links.order_by("id"):
        by_guardian.setdefault(link.guardian_id, link)
    return by_guardian[user.pk], by_guardian[other.pk], shared.school_id, shared.school.allow_guardian_chats


def conversation_open_direct(
    *, user: Any, user_id: object, student_id: int | None = None
) -> tuple[Conversation, bool]:
    """Open (or re-open) the direct chat of a teacher and a guardian about a child; or of
    two guardians of one class when their school allows it. Returns (chat, created)."""
    User = get_user_model()
    other = get_in_scope(User.objects.filter(is_active=True), user_id, "用户不存在")
    if other.pk == user.pk:
        raise ApiError("invalid_user", "不能和自己私聊", fields={"user_id": ["不能和自己私聊"]})
    try:
        teacher, guardian, link, school_id = _direct_parties(user=user, other=other, student_id=student_id)
        pair = [
            (teacher, Member.Role.TEACHER, teacher_display_name(teacher.name)),
            (
                guardian,
                Member.Role.GUARDIAN,
                guardian_display_name(student_name=link.student.name, relation=link.relation),
            ),
        ]
        tag = link.student_id
    except ApiError:
        mine, theirs, school_id, allowed = _shared_guardian_class(user=user, other=other)
        if not allowed:
            raise ApiError("guardian_chats_off", "本校未开启家长之间私聊", status_code=403) from None
        pair = [
            (
                user,
                Member.Role.GUARDIAN,
                guardian_display_name(student_name=mine.student.name, relation=mine.relation),
            ),
            (
                other,
                Member.Role.GUARDIAN,
                guardian_display_name(student_name=theirs.student.name, relation=theirs.relation),
            ),
        ]
        tag = None
    low, high = sorted([user.pk, other.pk])
    key = f"{low}:{high}:{tag or 0}"
    existing = Conversation.objects.filter(direct_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                kind=Conversation.Kind.DIRECT,
                school_id=school_id,
                student_id=tag,
                created_by=user,
                direct_key=key,
            )
            Member.objects.bulk_create(
                Member(conversation=conversation, user=person, role=role, display_name=name[:64])
                for person, role, name in pair
            )
    except IntegrityError:
        # A concurrent open of the same chat won: answer with it.
        return Conversation.objects.get(direct_key=key), False
    return conversation, True


@transaction.atomic
def conversation_close(*, user: Any, member: Member) -> Conversation:
    _require_moderator(user=user, member=member)
    conversation = member.conversation
    if conversation.closed_at is None:
        conversation.closed_at = timezone.now()
        conversation.save(update_fields=["closed_at"])
        audit_record(action="messaging.conversation_close", actor=user, obj=conversation)
    return conversation


@transaction.atomic
def conversation_pin(*, user: Any, member: Member, message_id: int | None) -> Conversation:
    """Pin one message of the conversation (None unpins)."""
    _require_moderator(user=user, member=member)
    conversation = member.conversation
    if message_id is not None:
        found = Message.objects.filter(
            pk=message_id, conversation=conversation, status=Message.Status.VISIBLE, deleted_at__isnull=True
        ).exists()
        if not found:
            raise ApiError("unknown_message", "消息不存在", fields={"message_id": ["消息不存在"]})
    conversation.pinned_message_id = message_id
    conversation.save(update_fields=["pinned_message"])
    audit_record(
        action="messaging.conversation_pin", actor=user, obj=conversation, detail={"message_id": message_id}
    )
    return conversation


@transaction.atomic
def conversation_mute_member(*, user: Any, member: Member, target_user_id: int, minutes: int) -> Member:
    """Stop a member from posting for `minutes` (0 lifts the mute)."""
    _require_moderator(user=user, member=member)
    if not 0 <= minutes <= MAX_MUTE_MINUTES:
        raise ApiError("invalid_minutes", "禁言时长需为 0–10080 分钟", fields={"minutes": ["超出范围"]})
    target = Member.objects.filter(conversation_id=member.conversation_id, user_id=target_user_id).first()
    if target is None:
        raise ApiError("not_a_member", "该用户不在此会话中", fields={"user_id": ["该用户不在此会话中"]})
    if target.role == Member.Role.TEACHER:
        raise ApiError("cannot_mute_teacher", "不能禁言教师", fields={"user_id": ["不能禁言教师"]})
    target.muted_until = timezone.now() + timedelta(minutes=minutes) if minutes else None
    target.save(update_fields=["muted_until"])
    audit_record(
        action="messaging.member_mute",
        actor=user,
        obj=target,
        detail={"conversation_id": member.conversation_id, "user_id": target_user_id, "minutes": minutes},
    )
    return target


@transaction.atomic
def conversation_mark_read(*, member: Member, up_to: int) -> Member:
    """Move the read marker forward (never back) and tell the reader's other devices."""
    last = member.conversation.last_message_id
    up_to = max(0, min(int(up_to), last))
    if up_to > member.last_read_id:
        member.last_read_id = up_to
        member.save(update_fields=["last_read_id"])
    send_event_on_commit(
        [member.user_id],
        CONVERSATION_READ,
        {
            "conversation_id": member.conversation_id,
            "up_to": member.last_read_id,
            "unread": unread_count(member=member),
        },
    )
    return member


def membership_for(*, user: Any, conversation_id: object) -> Member:
    """The caller's membership, adding them first when they belong to the discussion's
    class but joined it after the topic opened. Otherwise as membership_get (404)."""
    try:
        return membership_get(user=user, conversation_id=conversation_id)
    except ApiError as exc:
        if exc.status_code != 404:
            raise
        key = parse_id(conversation_id)
        conversation = (
            Conversation.objects.filter(pk=key, kind=Conversation.Kind.DISCUSSION).first() if key else None
        )
        if conversation is None or user.pk not in _discussion_members(conversation):
            raise
        discussion_members_sync(conversation=conversation)
        return membership_get(user=user, conversation_id=conversation_id)


def discussions_join(*, user: Any) -> int:
    """Add the caller to discussions of their classes (taught, their children's, their
    own) opened before they joined. Returns how many topics they were added to."""
    # One query: topics of classes the caller is in, or a child of theirs is in, where
    # they have no membership yet (usually none).
    pending = Conversation.objects.filter(
        member_or_guardian_class_q(user=user, field="school_class_id"), kind=Conversation.Kind.DISCUSSION
    ).exclude(members__user=user)
    joined = 0
    for conversation in pending:
        if user.pk in _discussion_members(conversation):
            discussion_members_sync(conversation=conversation)
            joined += 1
    return joined
