"""Input and output shapes of the check-ins API (API.md "Check-ins")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from rest_framework import serializers

from backend.checkins.models import Checkin, CheckinCampaign, CheckinComment, ContentType
from backend.checkins.schedule import local_date
from backend.checkins.selectors import RankRow, schedule_of
from backend.conventions.errors import ApiError
from backend.files.api.serializers import FileOutput
from backend.files.selectors import file_payloads

# --- Inputs ---------------------------------------------------------------------------


class CampaignCreateInput(serializers.Serializer):
    class_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=50,
        help_text="班级（发起教师任教的班级，同一所学校）",
    )
    title = serializers.CharField(max_length=50, allow_blank=True, help_text="标题，1–50 字")
    description = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
    start_date = serializers.DateField(help_text="开始日期（不早于今天，北京时间）")
    end_date = serializers.DateField(help_text="结束日期（含）")
    weekdays = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        max_length=7,
        help_text="打卡日：1=周一 … 7=周日；默认每天",
    )
    content_types = serializers.ListField(
        child=serializers.CharField(max_length=10),
        max_length=4,
        help_text="每次打卡必须包含的内容：text / photo / voice / video；空列表表示点一下即可",
    )
    makeup_days = serializers.IntegerField(default=0, help_text="可补卡天数 0–7（0：不能补卡）")
    remind_at = serializers.TimeField(
        required=False, allow_null=True, default=None, help_text="每天提醒时间 HH:MM"
    )


class CampaignUpdateInput(serializers.Serializer):
    title = serializers.CharField(max_length=50, allow_blank=True, required=False)
    description = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    start_date = serializers.DateField(required=False, help_text="只能在活动开始前修改")
    end_date = serializers.DateField(required=False)
    weekdays = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=7)
    content_types = serializers.ListField(
        child=serializers.CharField(max_length=10), required=False, max_length=4
    )
    makeup_days = serializers.IntegerField(required=False)
    remind_at = serializers.TimeField(required=False, allow_null=True)


class CheckinCreateInput(serializers.Serializer):
    student_id = serializers.IntegerField(min_value=1, help_text="学生本人，或家长的孩子")
    date = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="默认今天（北京时间）；过去的日期为补卡"
    )
    text = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
    attachment_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list, max_length=9
    )
    client_id = serializers.CharField(max_length=64, help_text="客户端生成的唯一编号：重试时返回第一次的结果")


class CheckinCommentInput(serializers.Serializer):
    text = serializers.CharField(max_length=1000, allow_blank=True, help_text="点评，1–1000 字")


# --- Outputs --------------------------------------------------------------------------


class CheckinPersonOutput(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    display_name = serializers.CharField()


class CheckinStudentOutput(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="化名显示时为 null")
    name = serializers.CharField(help_text="姓名，或“同学A”式化名")


class CheckinClassOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CampaignOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    school_id = serializers.IntegerField()
    class_ids = serializers.ListField(child=serializers.IntegerField())
    classes = CheckinClassOutput(many=True)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    weekdays = serializers.ListField(child=serializers.IntegerField())
    content_types = serializers.ListField(child=serializers.ChoiceField(choices=ContentType.choices))
    makeup_days = serializers.IntegerField()
    remind_at = serializers.TimeField(allow_null=True)
    status = serializers.ChoiceField(choices=CheckinCampaign.Status.choices)
    created_by = CheckinPersonOutput()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    today = serializers.DateField(help_text="今天（北京时间）")
    is_campaign_day = serializers.BooleanField(help_text="今天是否是打卡日")
    class_visibility = serializers.BooleanField(help_text="学校是否允许班级内公开打卡与排行")
    names_public = serializers.BooleanField(help_text="公开展示时是否显示姓名（否则为化名）")
    can_manage = serializers.BooleanField(help_text="调用者能否修改或结束活动")


def campaign_data(campaign: CheckinCampaign, *, can_manage: bool, now: Any) -> dict[str, Any]:
    today = local_date(now)
    classes = [link.school_class for link in campaign.campaign_classes.all()]
    return {
        "id": campaign.pk,
        "title": campaign.title,
        "description": campaign.description,
        "school_id": campaign.school_id,
        "class_ids": [c.pk for c in classes],
        "classes": [{"id": c.pk, "name": c.name} for c in classes],
        "start_date": campaign.start_date,
        "end_date": campaign.end_date,
        "weekdays": campaign.weekdays,
        "content_types": campaign.content_types,
        "makeup_days": campaign.makeup_days,
        "remind_at": campaign.remind_at,
        "status": campaign.status,
        "created_by": {"id": campaign.created_by_id, "display_name": campaign.created_by_name},
        "created_at": campaign.created_at,
        "updated_at": campaign.updated_at,
        "closed_at": campaign.closed_at,
        "today": today,
        "is_campaign_day": campaign.status == CheckinCampaign.Status.OPEN
        and schedule_of(campaign).runs_on(today),
        "class_visibility": campaign.school.allow_class_visibility,
        "names_public": campaign.school.allow_names_public,
        "can_manage": can_manage,
    }


class CheckinCommentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    author = CheckinPersonOutput()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


class CheckinOutput(serializers.Serializer):
    id = serializers.IntegerField()
    campaign_id = serializers.IntegerField()
    class_id = serializers.IntegerField()
    student = CheckinStudentOutput()
    date = serializers.DateField()
    is_makeup = serializers.BooleanField(help_text="补卡")
    text = serializers.CharField()
    attachments = FileOutput(many=True)
    content_types = serializers.ListField(child=serializers.CharField())
    submitted_by = CheckinPersonOutput(
        allow_null=True, help_text="学生本人或家长（“王小明妈妈”）；化名显示时为 null"
    )
    created_at = serializers.DateTimeField()
    likes = serializers.IntegerField()
    liked_by_me = serializers.BooleanField()
    comments = CheckinCommentOutput(
        many=True, allow_null=True, help_text="教师点评；他人打卡在班级范围内不显示点评（null）"
    )


def comment_data(comment: CheckinComment) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "author": {"id": comment.author_id, "display_name": comment.author_name},
        "text": comment.text,
        "created_at": comment.created_at,
    }


def checkin_rows(
    checkins: Iterable[Checkin],
    *,
    full_ids: set[int] | None = None,
    aliases: Mapping[int, str] | None = None,
    fresh: bool = False,
    student_names: Mapping[int, str] | None = None,
) -> list[dict[str, Any]]:
    """Render check-ins. Students in `full_ids` (None: everyone) are shown in full; the
    others by their pseudonym in `aliases` when given (names not public), without
    submitter or comments. `fresh`: just created, no feedback loaded. `student_names`:
    names already known (else the loaded `student`). One query for every attachment of
    the page."""
    checkins = list(checkins)
    files = file_payloads(ids=[i for c in checkins for i in c.attachment_ids])
    rows = []
    for c in checkins:
        full = full_ids is None or c.student_id in full_ids
        alias = None if full or aliases is None else aliases.get(c.student_id, "同学")
        rows.append(
            {
                "id": c.pk,
                "campaign_id": c.campaign_id,
                "class_id": c.school_class_id,
                "student": {"id": None, "name": alias}
                if alias
                else {"id": c.student_id, "name": _student_name(c, student_names)},
                "date": c.date,
                "is_makeup": c.is_makeup,
                "text": c.text,
                "attachments": [files[i] for i in c.attachment_ids if i in files],
                "content_types": c.content_types,
                "submitted_by": (
                    None if not full else {"id": c.submitted_by_id, "display_name": c.submitted_by_name}
                ),
                "created_at": c.created_at,
                "likes": 0 if fresh else getattr(c, "likes_count", 0),
                "liked_by_me": False if fresh else bool(getattr(c, "liked_by_me", False)),
                "comments": ([] if fresh else [comment_data(m) for m in c.comments.all()] if full else None),
            }
        )
    return rows


def _student_name(checkin: Checkin, known: Mapping[int, str] | None) -> str:
    if known is not None and checkin.student_id in known:
        return known[checkin.student_id]
    return str(checkin.student.name)


class CheckinStreaksOutput(serializers.Serializer):
    student_id = serializers.IntegerField()
    current = serializers.IntegerField(help_text="当前连续打卡天数（只算打卡日；今天未打不算中断）")
    longest = serializers.IntegerField(help_text="最长连续打卡天数")
    total = serializers.IntegerField(help_text="累计打卡天数（含补卡）")


class CheckinMissingOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    class_id = serializers.IntegerField()


class CampaignStatsOutput(serializers.Serializer):
    date = serializers.DateField()
    campaign_day = serializers.BooleanField(help_text="该日是否为打卡日（否则各项为 0）")
    expected = serializers.IntegerField(help_text="应打卡人数")
    done = serializers.IntegerField(help_text="已打卡人数（含补卡）")
    missing = CheckinMissingOutput(many=True)


class CheckinRankRowOutput(serializers.Serializer):
    rank = serializers.IntegerField()
    student = CheckinStudentOutput()
    class_id = serializers.IntegerField()
    total = serializers.IntegerField()
    current = serializers.IntegerField()
    longest = serializers.IntegerField()
    is_mine = serializers.BooleanField(help_text="调用者本人或其孩子")


class CheckinRankingOutput(serializers.Serializer):
    results = CheckinRankRowOutput(many=True)
    next = serializers.CharField(allow_null=True)
    names_public = serializers.BooleanField()


def ranking_rows(
    rows: Iterable[RankRow], *, full_ids: set[int] | None, aliases: Mapping[int, str] | None
) -> list[dict[str, Any]]:
    result = []
    for row in rows:
        sid = row.student.id
        full = full_ids is None or sid in full_ids
        alias = None if full or aliases is None else aliases.get(sid, "同学")
        result.append(
            {
                "rank": row.rank,
                "student": {"id": None, "name": alias} if alias else {"id": sid, "name": row.student.name},
                "class_id": row.student.class_id,
                "total": row.streaks.total,
                "current": row.streaks.current,
                "longest": row.streaks.longest,
                "is_mine": full_ids is not None and sid in full_ids,
            }
        )
    return result


def parse_date(value: str | None, name: str = "date") -> date | None:
    """A query parameter in YYYY-MM-DD, or None when absent."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(
            "invalid_date", f"{name} 应为 YYYY-MM-DD 格式的日期", fields={name: ["日期格式错误"]}
        ) from None
