"""A parent without the app answers the notice text with "1": the notice is confirmed."""

from __future__ import annotations

import pytest
from django.utils import timezone

from backend.notices.models import NoticeReceipt
from backend.sms.replies import InboundReply, route_reply

from .conftest import run

pytestmark = pytest.mark.django_db


def reply(user, content: str, source: str | None) -> InboundReply:
    return InboundReply(
        phone=user.phone,
        content=content,
        received_at=timezone.now(),
        account_id=None,
        source=source,
        user_id=user.pk,
    )


@pytest.mark.parametrize("content", ["1", " 1 ", "１", "确认"])
def test_replying_1_confirms_the_notice(demo, class2, guardians2, post_notice, client_for, content):
    notice_id = post_notice(demo.head2, [class2.pk]).json()["id"]
    parent = guardians2[25]

    assert run(route_reply, reply(parent, content, f"notice:{notice_id}:notice.created:0")) == "notice"

    receipt = NoticeReceipt.objects.get(notice_id=notice_id, recipient=parent)
    assert receipt.confirmed_at is not None
    assert receipt.read_at is not None
    stats = client_for(demo.head2).get(f"/api/v1/notices/{notice_id}/").json()["stats"]
    assert stats == {"recipients": 30, "read": 1, "confirmed": 1}


def test_a_reply_to_a_reminder_text_confirms_too(demo, class2, guardians2, post_notice):
    notice_id = post_notice(demo.head2, [class2.pk]).json()["id"]

    assert run(route_reply, reply(guardians2[25], "1", f"notice:{notice_id}:notice.created:11")) == "notice"
    assert NoticeReceipt.objects.get(notice_id=notice_id, recipient=guardians2[25]).confirmed_at is not None


def test_1_marks_a_notice_without_confirmation_read(demo, class2, guardians2, post_notice):
    notice_id = post_notice(demo.head2, [class2.pk], require_confirmation=False).json()["id"]

    assert run(route_reply, reply(guardians2[25], "1", f"notice:{notice_id}:notice.created:0")) == "notice"
    receipt = NoticeReceipt.objects.get(notice_id=notice_id, recipient=guardians2[25])
    assert (receipt.read_at is not None, receipt.confirmed_at) == (True, None)


@pytest.mark.parametrize(
    ("content", "routed_to"),
    # Not a confirmation: the notice handler declines and the chat handler ("*", from
    # messaging) files it in the teacher's chat; an empty text goes nowhere.
    [("收到", "*"), ("12", "*"), ("请问几点集合？", "*"), ("", "")],
)
def test_other_replies_are_left_for_the_next_handler(
    demo, class2, guardians2, post_notice, content, routed_to
):
    notice_id = post_notice(demo.head2, [class2.pk]).json()["id"]

    assert (
        run(route_reply, reply(guardians2[25], content, f"notice:{notice_id}:notice.created:0")) == routed_to
    )
    assert NoticeReceipt.objects.get(notice_id=notice_id, recipient=guardians2[25]).confirmed_at is None


def test_a_reply_for_someone_elses_notice_confirms_nothing(demo, class2, guardians1, post_notice):
    notice_id = post_notice(demo.head2, [class2.pk]).json()["id"]

    assert run(route_reply, reply(guardians1[0], "1", f"notice:{notice_id}:notice.created:0")) == ""
    assert not NoticeReceipt.objects.filter(confirmed_at__isnull=False).exists()
