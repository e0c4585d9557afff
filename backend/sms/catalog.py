"""THE list of platform SMS templates: names, approved texts, slot limits.

Providers like Aliyun send only approved templates with typed variables, so every text
the platform sends is one of these (free text only where the provider allows it). The
provider's template codes default to the names and are overridden per deployment with
settings.SMS_TEMPLATE_CODES (e.g. {"notice": "SMS_123456"}). Slot limits stay within
Aliyun's 35 characters per variable."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True)
class PlatformTemplate:
    name: str
    text: str
    max_lengths: dict[str, int] = field(default_factory=dict)
    # Shown to school admins choosing a template for a mass text.
    label: str = ""
    # Offered for mass texting (群发); the others are sent by the platform itself.
    for_jobs: bool = False
    free_text: bool = False


FREE_TEXT = "free_text"

_TEMPLATES: Final = (
    PlatformTemplate(
        "login_code",
        "您的验证码为${code}，5分钟内有效。如非本人操作，请忽略本短信。",
        {"code": 6},
        label="登录验证码",
    ),
    PlatformTemplate(
        "notice",
        "${class}有新通知《${title}》，请登录家校通查看",
        {"class": 16, "title": 20},
        label="新通知",
    ),
    PlatformTemplate(
        "notice_confirm",
        "${class}有新通知《${title}》，回复1确认",
        {"class": 16, "title": 20},
        label="新通知（需确认）",
    ),
    PlatformTemplate(
        "notice_reminder",
        "${class}的通知《${title}》您还未查看，请登录家校通查看",
        {"class": 16, "title": 20},
        label="通知未读提醒",
    ),
    PlatformTemplate(
        "checkin_reminder",
        "${class}的打卡活动《${title}》今天还未打卡，请登录家校通查看",
        {"class": 16, "title": 20},
        label="打卡提醒",
    ),
    PlatformTemplate(
        "homework_reminder",
        "${class}的作业《${title}》将于${due}截止，请登录家校通查看",
        {"class": 16, "title": 20, "due": 16},
        label="作业截止提醒",
    ),
    PlatformTemplate(
        "chat_reply",
        "${teacher}老师回复：${content}",
        {"teacher": 10, "content": 35},
        label="老师回复",
    ),
    PlatformTemplate(
        "parent_meeting",
        "${class}定于${time}在${place}召开家长会，请准时参加",
        {"class": 16, "time": 20, "place": 20},
        label="家长会通知",
        for_jobs=True,
    ),
    PlatformTemplate(
        "school_closure",
        "因${reason}，${date}停课，请家长妥善安排孩子看护",
        {"reason": 20, "date": 16},
        label="停课通知",
        for_jobs=True,
    ),
    PlatformTemplate(
        "schedule_change",
        "${date}起放学时间调整为${time}，请按时接孩子",
        {"date": 16, "time": 16},
        label="放学时间调整",
        for_jobs=True,
    ),
    PlatformTemplate(
        "safety_reminder",
        "安全提醒：${topic}，请家长提醒孩子注意安全",
        {"topic": 30},
        label="安全提醒",
        for_jobs=True,
    ),
    # Only on channels that carry free text (a CMPP-style provincial gateway, the console);
    # the length limit is the whole message's (500 characters with the signature).
    PlatformTemplate(FREE_TEXT, "${content}", label="自由文本", free_text=True),
)

PLATFORM_TEMPLATES: Final = MappingProxyType({t.name: t for t in _TEMPLATES})
