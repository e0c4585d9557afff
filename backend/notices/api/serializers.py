"""Input and output shapes of the notices API (API.md "Notices")."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from backend.files.api.serializers import FileOutput
from backend.files.selectors import file_payloads
from backend.notices.models import Notice, NoticeReceipt
from backend.notices.selectors import ReceiptDelivery

RECALLED_TITLE = "该通知已撤回"


class NoticeCreateInput(serializers.Serializer):
    title = serializers.CharField(allow_blank=True, help_text="标题，1–50 字")
    body = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text="正文，1–5000 字")
    class_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=200,
        help_text="班级（教师：任教班级）",
    )
    grade_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=50,
        help_text="年级（学校管理员）",
    )
    school_id = serializers.IntegerField(min_value=1, required=False, help_text="全校（学校管理员）")
    org_id = serializers.IntegerField(min_value=1, required=False, help_text="辖区内所有学校（教育局管理员）")
    audience = serializers.ChoiceField(
        choices=Notice.Audience.choices, help_text="guardians / students / all"
    )
    require_confirmation = serializers.BooleanField(default=False, help_text="需要家长确认（回执）")
    urgent = serializers.BooleanField(default=False, help_text="紧急：免打扰时段也立即送达；会被审计")
    scheduled_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="定时发送时间（须晚于现在）"
    )
    attachment_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, help_text="附件编号，最多 9 个"
    )
    sms_fallback = serializers.BooleanField(default=True, help_text="没有应用的家长改发短信")


class PersonOutput(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    display_name = serializers.CharField()


class StudentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MyReceiptOutput(serializers.Serializer):
    read_at = serializers.DateTimeField(allow_null=True)
    confirmed_at = serializers.DateTimeField(allow_null=True)
    students = StudentOutput(many=True, help_text="这条通知是发给哪些孩子的")


class StatsOutput(serializers.Serializer):
    recipients = serializers.IntegerField()
    read = serializers.IntegerField()
    confirmed = serializers.IntegerField()


class NoticeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(help_text="撤回后接收人看到“该通知已撤回”")
    body = serializers.CharField(help_text="撤回后对接收人为空")
    attachment_ids = serializers.ListField(child=serializers.IntegerField())
    attachments = FileOutput(many=True, help_text="附件（签名下载地址 1 小时内有效）；撤回后为空")
    audience = serializers.CharField()
    require_confirmation = serializers.BooleanField()
    urgent = serializers.BooleanField()
    sms_fallback = serializers.BooleanField()
    status = serializers.ChoiceField(choices=Notice.Status.choices)
    recalled = serializers.BooleanField()
    scope = serializers.ChoiceField(choices=Notice.Scope.choices)
    target_label = serializers.CharField(help_text="发送对象，如“三年级(2)班”")
    class_ids = serializers.ListField(child=serializers.IntegerField())
    grade_ids = serializers.ListField(child=serializers.IntegerField())
    school_id = serializers.IntegerField(allow_null=True)
    org_id = serializers.IntegerField()
    author = PersonOutput()
    scheduled_at = serializers.DateTimeField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    recalled_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    my_receipt = MyReceiptOutput(allow_null=True, help_text="调用者自己的回执；不是接收人时为 null")
    stats = StatsOutput(allow_null=True, help_text="发布人和学校管理员可见；其他人为 null")


class NoticePageOutput(serializers.Serializer):
    results = NoticeOutput(many=True)
    next = serializers.URLField(allow_null=True, help_text="下一页地址；没有更多时为 null")


def notice_files(notices: list[Notice]) -> dict[int, dict[str, Any]]:
    """Attachments of a page of notices, with signed URLs, in one query."""
    return file_payloads(ids=[i for n in notices for i in n.attachment_ids])


def notice_data(
    notice: Notice,
    *,
    receipt: NoticeReceipt | None,
    manages: bool,
    files: dict[int, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The notice as the caller sees it: a recalled notice shows recipients no title,
    body or attachments; stats only for those who manage it."""
    recalled = notice.status == Notice.Status.RECALLED
    hide = recalled and not manages
    if files is None:
        files = notice_files([notice])
    return {
        "id": notice.pk,
        "title": RECALLED_TITLE if hide else notice.title,
        "body": "" if hide else notice.body,
        "attachment_ids": [] if hide else list(notice.attachment_ids),
        "attachments": [] if hide else [files[i] for i in notice.attachment_ids if i in files],
        "audience": notice.audience,
        "require_confirmation": notice.require_confirmation,
        "urgent": notice.urgent,
        "sms_fallback": notice.sms_fallback,
        "status": notice.status,
        "recalled": recalled,
        "scope": notice.scope,
        "target_label": notice.target_label,
        "class_ids": list(notice.class_ids),
        "grade_ids": list(notice.grade_ids),
        "school_id": notice.school_id,
        "org_id": notice.org_id,
        "author": {"id": notice.author_id, "display_name": notice.author_name},
        "scheduled_at": notice.scheduled_at,
        "published_at": notice.published_at,
        "recalled_at": notice.recalled_at,
        "created_at": notice.created_at,
        "my_receipt": receipt_data(receipt) if receipt is not None else None,
        "stats": (
            {
                "recipients": notice.recipients_count,
                "read": notice.read_count,
                "confirmed": notice.confirmed_count,
            }
            if manages
            else None
        ),
    }


def receipt_data(receipt: NoticeReceipt) -> dict[str, Any]:
    return {
        "read_at": receipt.read_at,
        "confirmed_at": receipt.confirmed_at,
        "students": [{"id": s["id"], "name": s["name"]} for s in receipt.students],
    }


class ReceiptRowOutput(serializers.Serializer):
    recipient = PersonOutput(help_text="家长显示为“王小明妈妈”，从不显示手机号")
    role = serializers.ChoiceField(choices=NoticeReceipt.Role.choices)
    student = StudentOutput(allow_null=True, help_text="第一个孩子（或学生本人）")
    students = StudentOutput(many=True, help_text="这位家长在发送范围内的所有孩子")
    read_at = serializers.DateTimeField(allow_null=True)
    confirmed_at = serializers.DateTimeField(allow_null=True)
    channels = serializers.ListField(
        child=serializers.CharField(), help_text='已用渠道："websocket"、"push"、"sms"'
    )
    sms_status = serializers.CharField(allow_null=True, help_text="最近一条短信的状态；未发短信为 null")


class ReceiptPageOutput(serializers.Serializer):
    results = ReceiptRowOutput(many=True)
    next = serializers.URLField(allow_null=True, help_text="下一页地址；没有更多时为 null")


def receipt_row(receipt: NoticeReceipt, delivery: ReceiptDelivery | None) -> dict[str, Any]:
    students = [{"id": s["id"], "name": s["name"]} for s in receipt.students]
    return {
        "recipient": {"id": receipt.recipient_id, "display_name": receipt.display_name},
        "role": receipt.role,
        "student": students[0] if students else None,
        "students": students,
        "read_at": receipt.read_at,
        "confirmed_at": receipt.confirmed_at,
        "channels": delivery.channels if delivery else [],
        "sms_status": delivery.sms_status if delivery else None,
    }


class ReceiptStateOutput(serializers.Serializer):
    notice_id = serializers.IntegerField()
    read_at = serializers.DateTimeField(allow_null=True)
    confirmed_at = serializers.DateTimeField(allow_null=True)


class ReminderInput(serializers.Serializer):
    channel = serializers.ChoiceField(
        choices=[("auto", "auto"), ("push", "push"), ("sms", "sms")],
        default="auto",
        help_text="auto：有应用的推送、没有的发短信；push：只推送；sms：只发短信",
    )


class ReminderOutput(serializers.Serializer):
    reminded = serializers.IntegerField()


class UnreadCountOutput(serializers.Serializer):
    unread = serializers.IntegerField(help_text="未读通知数（不含已撤回）")
    unconfirmed = serializers.IntegerField(help_text="需要确认但尚未确认的通知数")
