"""Input and output shapes of the SMS API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from backend.sms.audience import ROLES
from backend.sms.models import MessageState, SmsJob


def _ids(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=10_000, help_text=help_text
    )


class AudienceInput(serializers.Serializer):
    class_ids = _ids("班级编号")
    grade_ids = _ids("年级编号（管理员）")
    school_id = serializers.IntegerField(required=False, min_value=1, help_text="整个学校（管理员）")
    org_id = serializers.IntegerField(required=False, min_value=1, help_text="整个区域（教育局管理员）")
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=ROLES),
        required=False,
        min_length=1,
        default=["guardians"],
        help_text="guardians 家长 / teachers 教师；默认 guardians",
    )


class JobInput(serializers.Serializer):
    account_id = serializers.IntegerField(min_value=1, help_text="付费的短信账户")
    template_id = serializers.CharField(
        required=False, max_length=32, help_text="平台模板名（见 sms/templates/）"
    )
    params = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        default=dict,
        help_text="模板参数",
    )
    text = serializers.CharField(
        required=False,
        trim_whitespace=False,
        help_text="自由文本（仅支持自由文本的通道）；与 template_id 二选一",
    )
    audience = AudienceInput()
    urgent = serializers.BooleanField(
        required=False, default=False, help_text="紧急：免打扰时段也立即发送（管理员）"
    )


class ExcludedOutput(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    reason = serializers.ChoiceField(choices=["duplicate", "no_phone", "invalid_phone", "unsubscribed"])


class PreviewOutput(serializers.Serializer):
    account_id = serializers.IntegerField()
    text = serializers.CharField(help_text="收件人看到的内容（含签名）")
    length = serializers.IntegerField()
    recipients = serializers.IntegerField()
    segments_per_message = serializers.IntegerField()
    segments = serializers.IntegerField()
    cost = serializers.CharField(help_text="预计费用（元）")
    available = serializers.IntegerField(help_text="账户可用条数")
    sufficient = serializers.BooleanField()
    urgent = serializers.BooleanField()
    scheduled_for = serializers.DateTimeField(allow_null=True, help_text="免打扰时段内：早上发送的时间")
    excluded_counts = serializers.DictField(child=serializers.IntegerField())
    excluded = ExcludedOutput(many=True, help_text="不发送的人及原因（最多 500 人）")
    excluded_truncated = serializers.BooleanField()


class JobOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=SmsJob.Status.values)
    account_id = serializers.IntegerField()
    template_id = serializers.CharField(allow_blank=True)
    text = serializers.CharField()
    urgent = serializers.BooleanField()
    audience = serializers.DictField()
    total = serializers.IntegerField()
    queued = serializers.IntegerField(help_text="尚未被通道接收（含重试、待核对）")
    submitted = serializers.IntegerField(help_text="已提交，等待状态报告")
    delivered = serializers.IntegerField()
    failed = serializers.IntegerField()
    unknown = serializers.IntegerField(help_text="72 小时无状态报告")
    segments_per_message = serializers.IntegerField()
    segments_reserved = serializers.IntegerField()
    segments_charged = serializers.IntegerField()
    segments_refunded = serializers.IntegerField()
    cost = serializers.CharField(help_text="已扣与预占条数的费用（元）")
    excluded = serializers.DictField(child=serializers.IntegerField())
    scheduled_for = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class OrgRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()


class PersonRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AccountOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    org = OrgRefOutput()
    owner = PersonRefOutput(allow_null=True, help_text="教师额度账户的教师")
    parent_id = serializers.IntegerField(allow_null=True)
    signature = serializers.CharField()
    extension_code = serializers.CharField(allow_null=True)
    frozen = serializers.BooleanField()
    balance = serializers.IntegerField(help_text="余额（条）")
    reserved = serializers.IntegerField(help_text="已预占（条）")
    available = serializers.IntegerField(help_text="可用（条）")


class LedgerEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    segments = serializers.IntegerField(help_text="余额变动")
    held = serializers.IntegerField(help_text="预占变动")
    counterparty_id = serializers.IntegerField(allow_null=True)
    memo = serializers.CharField()
    ref = serializers.CharField()
    created_at = serializers.DateTimeField()


class TransferInput(serializers.Serializer):
    to_account_id = serializers.IntegerField(min_value=1)
    segments = serializers.IntegerField(min_value=1, max_value=100_000_000)
    memo = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class TransferOutput(serializers.Serializer):
    ref = serializers.CharField()
    # "source"/"label" name API fields here, shadowing Field attributes only for the type checker.
    source = AccountOutput()  # type: ignore[assignment]
    target = AccountOutput()


class TemplateOutput(serializers.Serializer):
    id = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    text = serializers.CharField()
    slots = serializers.DictField(child=serializers.IntegerField(), help_text="参数名 → 最大长度")


class TemplatesOutput(serializers.Serializer):
    templates = TemplateOutput(many=True)
    free_text = serializers.BooleanField(help_text="当前通道是否支持自由文本")


class MessageQueryInput(serializers.Serializer):
    job = serializers.IntegerField(required=False, min_value=1)
    notice = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(required=False, choices=MessageState.values)


class MessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    job_id = serializers.IntegerField(allow_null=True)
    source = serializers.CharField()  # type: ignore[assignment]
    recipient_id = serializers.IntegerField(allow_null=True)
    phone = serializers.CharField(help_text="学校管理员可见完整号码，其他人为脱敏号码")
    template_id = serializers.CharField()
    text = serializers.CharField()
    segments = serializers.IntegerField()
    status = serializers.ChoiceField(choices=MessageState.values)
    billing = serializers.CharField()
    error_code = serializers.CharField()
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    failed_at = serializers.DateTimeField(allow_null=True)


class ReplyQueryInput(serializers.Serializer):
    handled = serializers.BooleanField(required=False, allow_null=True, default=None)


class ReplyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    phone = serializers.CharField()
    content = serializers.CharField()
    account_id = serializers.IntegerField(allow_null=True)
    user_id = serializers.IntegerField(allow_null=True)
    source = serializers.CharField()  # type: ignore[assignment]
    routed_to = serializers.CharField()
    handled = serializers.BooleanField()
    received_at = serializers.DateTimeField()


class CallbackAckOutput(serializers.Serializer):
    code = serializers.IntegerField()
    msg = serializers.CharField()


def account_data(account: Any) -> dict[str, Any]:
    owner = account.owner
    return {
        "id": account.pk,
        "name": account.name,
        "org": {"id": account.org.pk, "name": account.org.name, "kind": account.org.kind},
        "owner": {"id": owner.pk, "name": owner.name} if owner is not None else None,
        "parent_id": account.parent_id,
        "signature": account.signature,
        "extension_code": account.extension_code,
        "frozen": account.frozen,
        "balance": account.balance,
        "reserved": account.reserved,
        "available": account.available,
    }
