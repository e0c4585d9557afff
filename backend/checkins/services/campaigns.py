"""Creating, editing and closing campaigns; pseudonyms for classmates' views."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from backend.audit.services import audit_record
from backend.checkins.models import CheckinAlias, CheckinCampaign, CheckinCampaignClass, ContentType
from backend.checkins.schedule import ALL_WEEKDAYS, Schedule, local_date
from backend.checkins.selectors import CampaignAccess, campaign_aliases
from backend.conventions.errors import ApiError
from backend.conventions.scope import ids_in_scope
from backend.schools.selectors import class_members, taught_classes

MAX_CAMPAIGN_DAYS = 366
EDITABLE = frozenset(
    {
        "title",
        "description",
        "start_date",
        "end_date",
        "weekdays",
        "content_types",
        "makeup_days",
        "remind_at",
    }
)
_CONTENT_ORDER = [c.value for c in ContentType]


def _weekdays(value: Iterable[int]) -> list[int]:
    days = sorted(set(value))
    if not days or any(not isinstance(d, int) or d not in ALL_WEEKDAYS for d in days):
        raise ApiError(
            "invalid_weekdays",
            "打卡日需为 1–7（周一到周日）中的至少一天",
            fields={"weekdays": ["取值为 1–7 的整数，至少一个"]},
        )
    return days


def _content_types(value: Iterable[str]) -> list[str]:
    wanted = set(value)
    unknown = sorted(str(v) for v in wanted if v not in _CONTENT_ORDER)
    if unknown:
        raise ApiError(
            "invalid_content_types",
            "必需内容只能是 text、photo、voice、video",
            fields={"content_types": [f"不支持的内容类型：{v}" for v in unknown]},
        )
    return [c for c in _CONTENT_ORDER if c in wanted]


def _check(values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a full set of campaign fields; returns them normalised."""
    title = str(values["title"]).strip()
    if not title:
        raise ApiError("title_required", "请填写打卡活动标题", fields={"title": ["不能为空"]})
    makeup_days = values["makeup_days"]
    if not isinstance(makeup_days, int) or not 0 <= makeup_days <= 7:
        raise ApiError("invalid_makeup_days", "补卡天数需为 0–7", fields={"makeup_days": ["取值 0–7"]})
    start, end = values["start_date"], values["end_date"]
    if end < start:
        raise ApiError("end_before_start", "结束日期不能早于开始日期", fields={"end_date": ["早于开始日期"]})
    if (end - start).days + 1 > MAX_CAMPAIGN_DAYS:
        raise ApiError(
            "campaign_too_long", f"打卡活动最长 {MAX_CAMPAIGN_DAYS} 天", fields={"end_date": ["时间过长"]}
        )
    weekdays = _weekdays(values["weekdays"])
    if Schedule(start=start, end=end, weekdays=frozenset(weekdays)).count_between(start, end) == 0:
        raise ApiError(
            "no_campaign_days", "所选日期范围内没有打卡日", fields={"weekdays": ["范围内没有这些星期"]}
        )
    remind_at = values.get("remind_at")
    if remind_at is not None and not isinstance(remind_at, time):
        raise ApiError("invalid_remind_at", "提醒时间格式应为 HH:MM")
    return {
        "title": title,
        "description": str(values.get("description") or "").strip(),
        "start_date": start,
        "end_date": end,
        "weekdays": weekdays,
        "content_types": _content_types(values["content_types"]),
        "makeup_days": makeup_days,
        "remind_at": remind_at.replace(second=0, microsecond=0) if remind_at else None,
    }


def _assign_aliases(*, campaign: CheckinCampaign, student_ids: list[int], first: int) -> None:
    # A random order: roster order (by name or student number) would give names away.
    shuffled = list(student_ids)
    random.SystemRandom().shuffle(shuffled)
    CheckinAlias.objects.bulk_create(
        [CheckinAlias(campaign=campaign, student_id=sid, number=first + i) for i, sid in enumerate(shuffled)]
    )


@transaction.atomic
def campaign_create(
    *,
    teacher: Any,
    class_ids: list[int],
    title: str,
    start_date: date,
    end_date: date,
    content_types: list[str],
    description: str = "",
    weekdays: list[int] | None = None,
    makeup_days: int = 0,
    remind_at: time | None = None,
    now: datetime | None = None,
    ip: str | None = None,
) -> CheckinCampaign:
    """A teacher starts a campaign for one or more of the classes they teach (one school).

    Raises ApiError: class_ids_required, unknown_ids (a class the teacher does not teach),
    classes_in_different_schools, start_date_in_past, end_before_start, campaign_too_long,
    invalid_weekdays, no_campaign_days, invalid_content_types, invalid_makeup_days,
    title_required. Nothing is written on error."""
    now = now or timezone.now()
    if not class_ids:
        raise ApiError("class_ids_required", "请选择至少一个班级", fields={"class_ids": ["不能为空"]})
    classes = ids_in_scope(
        taught_classes(user=teacher).select_related("school"), class_ids, field="class_ids"
    )
    if len({c.school_id for c in classes}) > 1:
        raise ApiError("classes_in_different_schools", "一个打卡活动只能包含同一所学校的班级")
    values = _check(
        {
            "title": title,
            "description": description,
            "start_date": start_date,
            "end_date": end_date,
            "weekdays": list(ALL_WEEKDAYS) if weekdays is None else weekdays,
            "content_types": content_types,
            "makeup_days": makeup_days,
            "remind_at": remind_at,
        }
    )
    if start_date < local_date(now):
        raise ApiError("start_date_in_past", "开始日期不能早于今天", fields={"start_date": ["早于今天"]})
    campaign = CheckinCampaign.objects.create(
        school=classes[0].school,
        created_by=teacher,
        created_by_name=str(teacher.name)[:64],
        created_at=now,
        updated_at=now,
        **values,
    )
    CheckinCampaignClass.objects.bulk_create(
        [CheckinCampaignClass(campaign=campaign, school_class=c) for c in classes]
    )
    students = list(
        dict.fromkeys(
            class_members(class_ids=[c.pk for c in classes], role="student")
            .order_by("id")
            .values_list("user_id", flat=True)
        )
    )
    _assign_aliases(campaign=campaign, student_ids=students, first=1)
    audit_record(
        action="checkins.campaign_create",
        actor=teacher,
        obj=campaign,
        ip=ip,
        detail={"class_ids": [c.pk for c in classes], "title": campaign.title},
    )
    return campaign


def _require_manager(access: CampaignAccess) -> None:
    if not access.manages:
        raise ApiError("not_campaign_owner", "只有发起活动的教师或学校管理员可以修改", status_code=403)


def _require_open(campaign: CheckinCampaign) -> None:
    if campaign.status == CheckinCampaign.Status.CLOSED:
        raise ApiError("campaign_closed", "打卡活动已结束", status_code=409)


@transaction.atomic
def campaign_update(
    *,
    actor: Any,
    campaign: CheckinCampaign,
    access: CampaignAccess,
    changes: Mapping[str, Any],
    now: datetime | None = None,
    ip: str | None = None,
) -> CheckinCampaign:
    """Edit an open campaign (its creator or an admin of its school). The start date can
    move only before the campaign has started, and never into the past; classes cannot
    change. Raises the codes of campaign_create plus not_campaign_owner (403),
    campaign_closed (409), campaign_started."""
    _require_manager(access)
    campaign = CheckinCampaign.objects.select_for_update().get(pk=campaign.pk)
    _require_open(campaign)
    now = now or timezone.now()
    today = local_date(now)
    changes = {k: v for k, v in changes.items() if k in EDITABLE}
    if "start_date" in changes and changes["start_date"] != campaign.start_date:
        if campaign.start_date <= today:
            raise ApiError(
                "campaign_started", "活动已开始，不能修改开始日期", fields={"start_date": ["已开始"]}
            )
        if changes["start_date"] < today:
            raise ApiError("start_date_in_past", "开始日期不能早于今天", fields={"start_date": ["早于今天"]})
    current = {name: getattr(campaign, name) for name in EDITABLE}
    values = _check({**current, **changes})
    changed = sorted(name for name, value in values.items() if value != current[name])
    for name in changed:
        setattr(campaign, name, values[name])
    if changed:
        campaign.updated_at = now
        campaign.save(update_fields=[*changed, "updated_at"])
        audit_record(
            action="checkins.campaign_update", actor=actor, obj=campaign, ip=ip, detail={"fields": changed}
        )
    return campaign


@transaction.atomic
def campaign_close(
    *,
    actor: Any,
    campaign: CheckinCampaign,
    access: CampaignAccess,
    now: datetime | None = None,
    ip: str | None = None,
) -> CheckinCampaign:
    """End a campaign now: no more check-ins or reminders. Closing twice is a no-op."""
    _require_manager(access)
    campaign = CheckinCampaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == CheckinCampaign.Status.CLOSED:
        return campaign
    now = now or timezone.now()
    campaign.status = CheckinCampaign.Status.CLOSED
    campaign.closed_at = now
    campaign.updated_at = now
    campaign.save(update_fields=["status", "closed_at", "updated_at"])
    audit_record(action="checkins.campaign_close", actor=actor, obj=campaign, ip=ip)
    return campaign


def campaign_aliases_ensure(*, campaign: CheckinCampaign, student_ids: Iterable[int]) -> dict[int, str]:
    """Pseudonyms of the students, assigning new numbers to students who joined a class
    after the campaign started (rare; concurrent callers retry on the unique number)."""
    wanted = list(dict.fromkeys(int(s) for s in student_ids))
    for _ in range(5):
        labels = campaign_aliases(campaign=campaign, student_ids=wanted)
        missing = [s for s in wanted if s not in labels]
        if not missing:
            return labels
        top = CheckinAlias.objects.filter(campaign=campaign).aggregate(top=Max("number"))["top"] or 0
        try:
            with transaction.atomic():
                _assign_aliases(campaign=campaign, student_ids=missing, first=top + 1)
        except IntegrityError:
            continue
    return campaign_aliases(campaign=campaign, student_ids=wanted)
