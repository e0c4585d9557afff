"""Records the OpenAPI examples: real requests against the seeded demo world.

    python -m tools.record_examples        # rewrites mobile_api_docs/recorded_examples.json
    make docs                              # merges them into openapi.yaml

A throwaway SQLite database in a temp dir is migrated and seeded (`seed_demo`: 三年级(1)班 /
三年级(2)班 of 洛阳市西工区示范小学, their teachers and families), then every step below runs through
the Django test client as a demo user. The request body and the response body each step
sent and received are stored under the step's operationId and status code, so every
example is something the API really answered. `backend.conventions.schema` merges them
into the generated schema; tests/docs validates each one against its schema. Re-record
when a serializer changes (the test says which example no longer fits)."""

from __future__ import annotations

import contextlib
import io
import json
import mimetypes
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "mobile_api_docs" / "recorded_examples.json"
CALLBACK_TOKEN = "demo-callback-token"
MAX_ITEMS = 3

Ctx = dict[str, Any]


@dataclass
class Step:
    op: str  # operationId
    actor: str | None  # demo login (phone or student number); None: anonymous
    method: str
    path: str | Callable[[Ctx], str]
    summary: str
    body: Any = None  # dict, or callable(ctx) -> dict
    multipart: bool = False
    save: Callable[[Ctx, Any], None] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hold: tuple[str, ...] = ()  # Celery tasks (dotted path) not run during this step
    replay: str = ""  # summary of the same request sent again (a retry: 200 with the first result)


def _xlsx_roster() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["学生姓名", "学号", "班级", "家长姓名", "关系", "手机号"])
    sheet.append(["王小明", "S2026010100", "三年级(1)班", "王女士", "母亲", "13700000100"])

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def steps() -> list[Step]:
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    due = (timezone.localtime() + timedelta(days=2)).replace(hour=20, minute=0, second=0, microsecond=0)
    later = (timezone.localtime() + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)

    def s(key: str) -> Callable[[Ctx, Any], None]:
        def save(ctx: Ctx, data: Any) -> None:
            ctx[key] = data

        return save

    head2, admin, bureau, math = (
        "13800000001",
        "13800000000",
        "13800000009",
        "13800000003",
    )
    parent = "13900000001"  # a guardian in 三年级(2)班 with the app
    student = "S20260201"  # the child of `parent`
    return [
        # --- accounts -------------------------------------------------------------------
        Step(
            "auth_token_create",
            None,
            "post",
            "/api/v1/auth/token/",
            "家长用手机号和密码登录",
            {"login": parent, "password": "demo-pass-2026"},
            save=s("login"),
        ),
        Step(
            "auth_token_refresh_create",
            None,
            "post",
            "/api/v1/auth/token/refresh/",
            "用 refresh 换一对新令牌",
            lambda c: {"refresh": c["login"]["refresh"]},
            save=s("refreshed"),
        ),
        Step(
            "auth_sms_code_create",
            None,
            "post",
            "/api/v1/auth/sms-code/",
            "获取登录验证码",
            {"phone": "13900000002"},
        ),
        Step(
            "auth_token_sms_create",
            None,
            "post",
            "/api/v1/auth/token/sms/",
            "用短信验证码登录",
            lambda c: {"phone": "13900000002", "code": c["sms_code"]},
        ),
        Step("me_retrieve", parent, "get", "/api/v1/me/", "家长的资料：孩子与班级"),
        Step(
            "devices_create",
            parent,
            "post",
            "/api/v1/devices/",
            "注册安卓推送令牌",
            {"platform": "android", "token": "fcm-3f9a1c0e7b2d4e8f"},
            save=s("device"),
            replay="同一令牌再次注册",
        ),
        Step(
            "devices_destroy",
            parent,
            "delete",
            lambda c: f"/api/v1/devices/{c['device']['id']}/",
            "注销推送令牌",
        ),
        Step(
            "devices_create",
            parent,
            "post",
            "/api/v1/devices/",
            "注册安卓推送令牌",
            {"platform": "android", "token": "fcm-3f9a1c0e7b2d4e8f"},
        ),
        Step("devices_retrieve", parent, "get", "/api/v1/devices/", "已注册的设备"),
        Step(
            "me_notification_settings_retrieve",
            parent,
            "get",
            "/api/v1/me/notification-settings/",
            "通知设置",
        ),
        Step(
            "me_notification_settings_partial_update",
            parent,
            "patch",
            "/api/v1/me/notification-settings/",
            "改为优先短信",
            {"prefer_sms": True},
        ),
        Step("me_office_hours_read", head2, "get", "/api/v1/me/office-hours/", "班主任的办公时间"),
        Step(
            "me_office_hours_set",
            head2,
            "put",
            "/api/v1/me/office-hours/",
            "周一至周五 08:00–17:30",
            {"weekdays": [1, 2, 3, 4, 5], "start": "08:00", "end": "17:30"},
        ),
        Step(
            "realtime_ticket_create", parent, "post", "/api/v1/realtime/ticket/", "小程序获取 WebSocket 票据"
        ),
        # --- schools --------------------------------------------------------------------
        Step("classes_list", head2, "get", "/api/v1/classes/", "班主任的班级", save=s("classes")),
        Step(
            "classes_members_list",
            head2,
            "get",
            lambda c: f"/api/v1/classes/{c['class2']}/members/?role=student&page_size=2",
            "三年级(2)班的学生及家长（手机号打码）",
        ),
        Step(
            "schools_sensitive_words_replace",
            admin,
            "put",
            lambda c: f"/api/v1/schools/{c['school']}/sensitive-words/",
            "学校管理员设置敏感词",
            {"words": [{"word": "代购", "policy": "block"}, {"word": "加微信", "policy": "mask"}]},
        ),
        Step(
            "schools_sensitive_words_read",
            admin,
            "get",
            lambda c: f"/api/v1/schools/{c['school']}/sensitive-words/",
            "学校的敏感词",
        ),
        Step(
            "roster_imports_create",
            admin,
            "post",
            lambda c: f"/api/v1/schools/{c['school']}/roster-imports/?dry_run=1",
            "试导入花名册（不写入）",
            lambda c: {"file": ("花名册.xlsx", _xlsx_roster())},
            multipart=True,
        ),
        Step(
            "roster_imports_create",
            admin,
            "post",
            lambda c: f"/api/v1/schools/{c['school']}/roster-imports/",
            "导入花名册",
            lambda c: {"file": ("花名册.xlsx", _xlsx_roster())},
            multipart=True,
            save=s("import"),
        ),
        Step(
            "roster_imports_list",
            admin,
            "get",
            lambda c: f"/api/v1/schools/{c['school']}/roster-imports/",
            "导入记录",
        ),
        Step(
            "roster_imports_retrieve",
            admin,
            "get",
            lambda c: f"/api/v1/schools/{c['school']}/roster-imports/{c['import']['id']}/",
            "一次导入的逐行结果",
        ),
        # --- files ----------------------------------------------------------------------
        Step(
            "files_create",
            head2,
            "post",
            "/api/v1/files/",
            "上传通知附件（图片）",
            lambda c: {"file": ("春游路线.png", _png())},
            multipart=True,
            save=s("file"),
        ),
        # --- notices --------------------------------------------------------------------
        Step(
            "notices_create",
            head2,
            "post",
            "/api/v1/notices/",
            "班主任给三年级(2)班发需确认的通知",
            lambda c: {
                "title": "春游通知",
                "body": "本周五（11月27日）上午8点在校门口集合，请穿运动鞋，自带午餐和水。",
                "class_ids": [c["class2"]],
                "audience": "guardians",
                "require_confirmation": True,
                "attachment_ids": [c["file"]["id"]],
                "sms_fallback": True,
            },
            save=s("notice"),
            headers={"HTTP_IDEMPOTENCY_KEY": "notice-20261123-0001"},
            replay="重试（同一 Idempotency-Key）：返回第一次的结果",
        ),
        Step(
            "notices_create",
            head2,
            "post",
            "/api/v1/notices/",
            "定时通知",
            lambda c: {
                "title": "家长会提醒",
                "body": "周四下午4点在三年级(2)班教室召开家长会。",
                "class_ids": [c["class2"]],
                "audience": "guardians",
                "scheduled_at": later.isoformat(),
            },
            save=s("scheduled"),
        ),
        Step("notices_list", parent, "get", "/api/v1/notices/", "家长的收件箱"),
        Step("notices_unread_count", parent, "get", "/api/v1/notices/unread-count/", "未读与待确认数"),
        Step(
            "notices_retrieve",
            parent,
            "get",
            lambda c: f"/api/v1/notices/{c['notice']['id']}/",
            "家长查看通知",
        ),
        Step(
            "notices_read", parent, "post", lambda c: f"/api/v1/notices/{c['notice']['id']}/read/", "标记已读"
        ),
        Step(
            "notices_confirm",
            parent,
            "post",
            lambda c: f"/api/v1/notices/{c['notice']['id']}/confirm/",
            "确认收到",
        ),
        Step(
            "notices_receipts",
            head2,
            "get",
            lambda c: f"/api/v1/notices/{c['notice']['id']}/receipts/?state=confirmed",
            "已确认的家长",
        ),
        Step(
            "notices_remind",
            head2,
            "post",
            lambda c: f"/api/v1/notices/{c['notice']['id']}/reminders/",
            "提醒未确认的家长",
            {"channel": "auto"},
        ),
        Step(
            "notices_cancel",
            head2,
            "post",
            lambda c: f"/api/v1/notices/{c['scheduled']['id']}/cancel/",
            "取消定时通知",
        ),
        Step(
            "notices_recall",
            head2,
            "post",
            lambda c: f"/api/v1/notices/{c['notice']['id']}/recall/",
            "撤回通知",
        ),
        Step(
            "realtime_events_list",
            parent,
            "get",
            "/api/v1/events/?after_seq=0&limit=2",
            "补拉事件（无 WebSocket 时）",
        ),
        # --- homework -------------------------------------------------------------------
        Step(
            "assignments_create",
            head2,
            "post",
            "/api/v1/assignments/",
            "布置按分数批改的语文作业",
            lambda c: {
                "class_ids": [c["class2"]],
                "subject": "语文",
                "title": "背诵《静夜思》",
                "instructions": "录一段背诵的语音，家长签字。",
                "due_at": due.isoformat(),
                "submission_types": ["text", "voice"],
                "grading": "score",
                "max_score": 100,
            },
            save=s("assignment"),
            replay="重试（同一 Idempotency-Key）：返回第一次的结果",
            headers={"HTTP_IDEMPOTENCY_KEY": "hw-20261123-0001"},
        ),
        Step("assignments_list", head2, "get", "/api/v1/assignments/", "教师的作业（含统计）"),
        Step(
            "assignments_retrieve",
            student,
            "get",
            lambda c: f"/api/v1/assignments/{c['assignment']['id']}/",
            "学生查看作业",
        ),
        Step(
            "assignments_partial_update",
            head2,
            "patch",
            lambda c: f"/api/v1/assignments/{c['assignment']['id']}/",
            "修改作业说明",
            {"instructions": "录一段背诵的语音，并写出诗中的两个生字。"},
        ),
        Step(
            "assignments_submissions_create",
            student,
            "post",
            lambda c: f"/api/v1/assignments/{c['assignment']['id']}/submissions/",
            "学生提交作业",
            lambda c: {
                "student_id": c["student_id"],
                "text": "床前明月光，疑是地上霜。生字：床、霜。",
                "client_id": "7c1e2f3a-5b6d-4e8f-9a0b-1c2d3e4f5a6b",
            },
            save=s("submission"),
            replay="重试（同一 client_id）：返回第一次的提交",
        ),
        Step(
            "assignments_submissions_list",
            head2,
            "get",
            lambda c: f"/api/v1/assignments/{c['assignment']['id']}/submissions/?state=submitted",
            "已提交的学生",
        ),
        Step(
            "submissions_retrieve",
            parent,
            "get",
            lambda c: f"/api/v1/submissions/{c['submission']['id']}/",
            "家长查看孩子的作业",
        ),
        Step(
            "submissions_feedback",
            head2,
            "post",
            lambda c: f"/api/v1/submissions/{c['submission']['id']}/feedback/",
            "打分并评为优秀作业",
            {"score": "95.0", "comment": "背诵流利，字写得工整。", "excellent": True},
        ),
        Step("__school_visibility", None, "setup", "", "学校开启班级内公开展示"),
        Step(
            "assignments_excellent",
            parent,
            "get",
            lambda c: f"/api/v1/assignments/{c['assignment']['id']}/excellent/",
            "班级优秀作业",
        ),
        Step(
            "assignments_remind",
            head2,
            "post",
            lambda c: f"/api/v1/assignments/{c['assignment']['id']}/reminders/",
            "提醒未交的学生和家长",
        ),
        Step(
            "assignments_close",
            head2,
            "post",
            lambda c: f"/api/v1/assignments/{c['assignment']['id']}/close/",
            "结束收作业",
        ),
        # --- check-ins ------------------------------------------------------------------
        Step(
            "checkin_campaigns_create",
            head2,
            "post",
            "/api/v1/checkin-campaigns/",
            "21 天阅读打卡",
            lambda c: {
                "class_ids": [c["class2"]],
                "title": "21天亲子阅读打卡",
                "description": "每天读书20分钟，拍一张照片或写几句读后感。",
                "start_date": today.isoformat(),
                "end_date": (today + timedelta(days=20)).isoformat(),
                "weekdays": [1, 2, 3, 4, 5, 6, 7],
                "content_types": ["text"],
                "makeup_days": 2,
                "remind_at": "19:30",
            },
            save=s("campaign"),
            replay="重试（同一 Idempotency-Key）：返回第一次的结果",
            headers={"HTTP_IDEMPOTENCY_KEY": "ck-20261123-0001"},
        ),
        Step(
            "checkin_campaigns_list",
            parent,
            "get",
            "/api/v1/checkin-campaigns/?status=open",
            "进行中的打卡活动",
        ),
        Step(
            "checkin_campaigns_retrieve",
            parent,
            "get",
            lambda c: f"/api/v1/checkin-campaigns/{c['campaign']['id']}/",
            "打卡活动详情",
        ),
        Step(
            "checkin_campaigns_update",
            head2,
            "patch",
            lambda c: f"/api/v1/checkin-campaigns/{c['campaign']['id']}/",
            "改提醒时间",
            {"remind_at": "20:00"},
        ),
        Step(
            "checkin_campaigns_checkins_create",
            parent,
            "post",
            lambda c: f"/api/v1/checkin-campaigns/{c['campaign']['id']}/checkins/",
            "家长为孩子打卡",
            lambda c: {
                "student_id": c["student_id"],
                "text": "今天读了《小王子》第三章，认识了狐狸。",
                "client_id": "0b6f8e2a-4c3d-4a1b-9e7f-2d5c8a1b3e4f",
            },
            save=s("checkin"),
            replay="重试（同一 client_id）：返回第一次的打卡",
        ),
        Step(
            "checkin_campaigns_checkins_list",
            head2,
            "get",
            lambda c: f"/api/v1/checkin-campaigns/{c['campaign']['id']}/checkins/",
            "班级的打卡",
        ),
        Step(
            "checkins_retrieve",
            parent,
            "get",
            lambda c: f"/api/v1/checkins/{c['checkin']['id']}/",
            "一次打卡",
        ),
        Step(
            "checkins_likes_create",
            head2,
            "post",
            lambda c: f"/api/v1/checkins/{c['checkin']['id']}/likes/",
            "老师点赞",
            replay="再次点赞：已点过",
        ),
        Step(
            "checkins_likes_delete",
            head2,
            "delete",
            lambda c: f"/api/v1/checkins/{c['checkin']['id']}/likes/",
            "取消点赞",
        ),
        Step(
            "checkins_comments_create",
            head2,
            "post",
            lambda c: f"/api/v1/checkins/{c['checkin']['id']}/comments/",
            "老师点评",
            {"text": "读得很认真，继续坚持！"},
        ),
        Step(
            "checkin_campaigns_stats",
            head2,
            "get",
            lambda c: f"/api/v1/checkin-campaigns/{c['campaign']['id']}/stats/",
            "今天的打卡统计",
        ),
        Step(
            "checkin_campaigns_streaks",
            parent,
            "get",
            lambda c: (
                f"/api/v1/checkin-campaigns/{c['campaign']['id']}/streaks/?student_id={c['student_id']}"
            ),
            "孩子的连续打卡天数",
        ),
        Step(
            "checkin_campaigns_ranking",
            head2,
            "get",
            lambda c: f"/api/v1/checkin-campaigns/{c['campaign']['id']}/ranking/",
            "打卡排行（学校开启班级展示时）",
        ),
        Step(
            "checkin_campaigns_close",
            head2,
            "post",
            lambda c: f"/api/v1/checkin-campaigns/{c['campaign']['id']}/close/",
            "提前结束打卡",
        ),
        # --- messaging ------------------------------------------------------------------
        Step(
            "conversations_open",
            head2,
            "post",
            "/api/v1/conversations/",
            "班主任发起班级讨论",
            lambda c: {
                "kind": "discussion",
                "class_id": c["class2"],
                "title": "运动会报名",
                "allow_students": False,
            },
            save=s("discussion"),
        ),
        Step(
            "conversations_open",
            head2,
            "post",
            "/api/v1/conversations/",
            "班主任与家长私聊",
            lambda c: {"kind": "direct", "user_id": c["parent_id"], "student_id": c["student_id"]},
            save=s("direct"),
            replay="再次发起：返回已有的私聊",
        ),
        Step(
            "conversations_messages_send",
            parent,
            "post",
            lambda c: f"/api/v1/conversations/{c['discussion']['id']}/messages/",
            "家长在讨论里发言",
            {"body": "孩子报名跳绳和50米跑。", "client_id": "5d2c9e7a-1f4b-4c8d-a6e3-9b0f7c2d1e5a"},
            save=s("message"),
            replay="重试（同一 client_id）：返回第一条消息",
        ),
        Step(
            "conversations_messages_list",
            head2,
            "get",
            lambda c: f"/api/v1/conversations/{c['discussion']['id']}/messages/",
            "最新消息",
        ),
        Step("conversations_list", parent, "get", "/api/v1/conversations/", "家长的会话"),
        Step(
            "conversations_read_one",
            parent,
            "get",
            lambda c: f"/api/v1/conversations/{c['discussion']['id']}/",
            "会话详情",
        ),
        Step(
            "conversations_mark_read",
            head2,
            "post",
            lambda c: f"/api/v1/conversations/{c['discussion']['id']}/read/",
            "标记已读到这条",
            lambda c: {"up_to": c["message"]["id"]},
        ),
        Step(
            "conversations_pin",
            head2,
            "post",
            lambda c: f"/api/v1/conversations/{c['discussion']['id']}/pin/",
            "置顶一条消息",
            lambda c: {"message_id": c["message"]["id"]},
        ),
        Step(
            "conversations_notifications_set",
            parent,
            "put",
            lambda c: f"/api/v1/conversations/{c['discussion']['id']}/notifications/",
            "免打扰 2 小时",
            {"muted": True, "minutes": 120},
        ),
        Step(
            "conversations_mute_member",
            head2,
            "post",
            lambda c: f"/api/v1/conversations/{c['discussion']['id']}/mutes/",
            "禁言 30 分钟",
            lambda c: {"user_id": c["parent_id"], "minutes": 30},
        ),
        Step(
            "messages_report",
            math,
            "post",
            lambda c: f"/api/v1/messages/{c['message']['id']}/reports/",
            "举报一条消息",
            {"reason": "与班级事务无关的广告"},
            save=s("report"),
        ),
        Step("moderation_reports_list", head2, "get", "/api/v1/moderation/reports/", "待处理的举报"),
        Step(
            "moderation_reports_resolve",
            head2,
            "post",
            lambda c: f"/api/v1/moderation/reports/{c['report']['id']}/resolve/",
            "保留消息",
            {"action": "keep"},
        ),
        Step(
            "messages_delete",
            head2,
            "delete",
            lambda c: f"/api/v1/messages/{c['message']['id']}/",
            "删除消息",
        ),
        Step(
            "conversations_close",
            head2,
            "post",
            lambda c: f"/api/v1/conversations/{c['discussion']['id']}/close/",
            "关闭讨论",
        ),
        # --- sms ------------------------------------------------------------------------
        Step(
            "sms_accounts_list", admin, "get", "/api/v1/sms/accounts/", "学校的短信账户", save=s("accounts")
        ),
        Step(
            "sms_accounts_retrieve",
            admin,
            "get",
            lambda c: f"/api/v1/sms/accounts/{c['school_account']}/",
            "一个短信账户",
        ),
        Step(
            "sms_accounts_ledger",
            admin,
            "get",
            lambda c: f"/api/v1/sms/accounts/{c['school_account']}/ledger/",
            "账户流水",
        ),
        Step(
            "sms_templates_list",
            admin,
            "get",
            "/api/v1/sms/templates/",
            "可用的短信模板",
            save=s("templates"),
        ),
        Step(
            "sms_jobs_preview",
            admin,
            "post",
            "/api/v1/sms/jobs/preview/",
            "预览群发",
            lambda c: {
                "account_id": c["school_account"],
                "text": "明天（11月24日）降温，请给孩子添衣。",
                "audience": {"class_ids": [c["class1"]]},
            },
        ),
        Step(
            "sms_jobs_create",
            admin,
            "post",
            "/api/v1/sms/jobs/",
            "给三年级(1)班家长群发",
            lambda c: {
                "account_id": c["school_account"],
                "text": "明天（11月24日）降温，请给孩子添衣。",
                "audience": {"class_ids": [c["class1"]]},
            },
            headers={"HTTP_IDEMPOTENCY_KEY": "sms-20261123-0001"},
            save=s("job"),
        ),
        Step("sms_jobs_list", admin, "get", "/api/v1/sms/jobs/", "群发记录"),
        Step(
            "sms_jobs_retrieve",
            admin,
            "get",
            lambda c: f"/api/v1/sms/jobs/{c['job']['id']}/",
            "一次群发的进度",
        ),
        Step(
            "sms_messages_list",
            admin,
            "get",
            lambda c: f"/api/v1/sms/messages/?job={c['job']['id']}",
            "这次群发的短信",
        ),
        Step(
            "sms_callbacks_report",
            None,
            "post",
            f"/api/v1/sms/callbacks/memory/report/?token={CALLBACK_TOKEN}",
            "运营商推送状态报告",
            lambda c: _memory_reports(2),
        ),
        Step(
            "sms_callbacks_reply",
            None,
            "post",
            f"/api/v1/sms/callbacks/memory/reply/?token={CALLBACK_TOKEN}",
            "家长回复了群发短信",
            lambda c: _memory_reply("13700000001", "收到，谢谢老师", c["school_extension"]),
        ),
        Step(
            "sms_replies_list",
            admin,
            "get",
            "/api/v1/sms/replies/?handled=false",
            "未处理的回复",
            save=s("replies"),
        ),
        Step(
            "sms_replies_handled",
            admin,
            "post",
            lambda c: f"/api/v1/sms/replies/{c['replies']['results'][0]['id']}/handled/",
            "标记已处理",
        ),
        Step(
            "sms_accounts_transfer",
            bureau,
            "post",
            lambda c: f"/api/v1/sms/accounts/{c['bureau_account']}/transfers/",
            "教育局给学校划拨 500 条",
            lambda c: {"to_account_id": c["school_account"], "segments": 500, "memo": "2026年第四季度"},
        ),
        # --- privacy --------------------------------------------------------------------
        Step(
            "privacy_policy",
            parent,
            "get",
            "/api/v1/privacy/policy/",
            "当前的儿童个人信息保护规则",
            save=s("policy"),
        ),
        Step("privacy_consents_list", parent, "get", "/api/v1/privacy/consents/", "家长的同意记录"),
        Step(
            "privacy_consents_create",
            parent,
            "post",
            "/api/v1/privacy/consents/",
            "已同意过：返回现有的同意",
            lambda c: {
                "student_id": c["student_id"],
                "scope": "basic",
                "policy_version": c["policy"]["version"],
            },
            save=s("consent"),
        ),
        Step(
            "privacy_consents_withdraw",
            "13900000003",
            "post",
            lambda c: f"/api/v1/privacy/consents/{c['consent3']}/withdraw/",
            "撤回同意",
        ),
        Step(
            "privacy_consents_create",
            "13900000003",
            "post",
            "/api/v1/privacy/consents/",
            "家长（重新）同意",
            lambda c: {
                "student_id": c["student3_id"],
                "scope": "basic",
                "policy_version": c["policy"]["version"],
            },
        ),
        Step(
            "privacy_exports_create",
            parent,
            "post",
            "/api/v1/privacy/exports/",
            "导出家庭数据",
            save=s("export"),
        ),
        Step(
            "privacy_exports_retrieve",
            parent,
            "get",
            lambda c: f"/api/v1/privacy/exports/{c['export']['id']}/",
            "导出进度",
        ),
        Step(
            "privacy_deletions_create",
            "13900000004",
            "post",
            "/api/v1/privacy/deletions/",
            "申请删除家庭数据",
            {"confirm": "删除"},
            save=s("deletion"),
            hold=("backend.privacy.services.requests.privacy_run_deletion",),
        ),
        Step(
            "privacy_deletions_retrieve",
            "#deleter_id",
            "get",
            lambda c: f"/api/v1/privacy/deletions/{c['deletion']['id']}/",
            "删除进度",
        ),
        # --- stats ----------------------------------------------------------------------
        Step(
            "stats_reach_retrieve",
            head2,
            "get",
            lambda c: f"/api/v1/stats/reach/?class_id={c['class2']}&days=30",
            "三年级(2)班近 30 天触达",
        ),
        Step(
            "stats_scores_retrieve",
            admin,
            "get",
            lambda c: f"/api/v1/stats/scores/?org_id={c['school']}",
            "本周教师得分",
        ),
        Step(
            "stats_scores_teachers_retrieve",
            admin,
            "get",
            lambda c: f"/api/v1/stats/scores/teachers/{c['head2_id']}/",
            "一位教师的得分依据",
        ),
        # --- last: logout ---------------------------------------------------------------
        Step(
            "auth_logout_create",
            parent,
            "post",
            "/api/v1/auth/logout/",
            "退出登录",
            lambda c: {"refresh": c["refreshed"]["refresh"]},
        ),
    ]


def _memory_reports(limit: int) -> list[dict[str, Any]]:
    from backend.sms.outbox import memory_provider

    items: list[dict[str, Any]] = json.loads(memory_provider().report_webhook_body())
    return [item for item in items if item.get("out_id")][:limit] or items[:limit]


def _memory_reply(phone: str, content: str, dest_code: str) -> list[dict[str, Any]]:
    from backend.sms.outbox import memory_provider
    from sms_gateway.callbacks import reply_body

    items: list[dict[str, Any]] = json.loads(
        reply_body([memory_provider().make_reply(phone, content, dest_code=dest_code)])
    )
    return items


def _png() -> bytes:
    import base64

    return base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    )


def _setup(tmp: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tools.examples_settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/examples.sqlite3"
    os.environ.setdefault("MEDIA_ROOT", f"{tmp}/media")
    os.environ.pop("REDIS_URL", None)
    # The in-memory provider keeps what it sent: the login-code step reads the code back.
    os.environ["SMS_PROVIDER"] = "memory"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.SMS_CALLBACK_TOKEN = CALLBACK_TOKEN
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", verbosity=0)


def _context() -> Ctx:
    from backend.accounts.auth_backends import find_user_by_login
    from backend.privacy.models import GuardianConsent as Consent
    from backend.schools.models import SchoolClass
    from backend.sms.models import SmsAccount

    class1 = SchoolClass.objects.get(name="三年级(1)班")
    class2 = SchoolClass.objects.get(name="三年级(2)班")
    student = find_user_by_login("S20260201")
    parent = find_user_by_login("13900000001")
    school_account = SmsAccount.objects.get(org_id=class2.school_id, owner=None)
    bureau_account = school_account.parent
    consent3 = Consent.objects.filter(guardian=find_user_by_login("13900000003")).first()
    return {
        "class1": class1.pk,
        "class2": class2.pk,
        "school": class2.school_id,
        "student_id": student.pk,
        "parent_id": parent.pk,
        "head2_id": find_user_by_login("13800000001").pk,
        "school_account": school_account.pk,
        "bureau_account": bureau_account.pk if bureau_account else None,
        "school_extension": school_account.extension_code or "",
        "consent3": consent3.pk if consent3 else None,
        "student3_id": find_user_by_login("S20260203").pk,
        "deleter_id": find_user_by_login("13900000004").pk,
    }


def record() -> dict[str, Any]:
    from django.test import Client
    from rest_framework_simplejwt.tokens import RefreshToken

    from backend.accounts.auth_backends import find_user_by_login
    from backend.accounts.models import User

    ctx = _context()
    operations: dict[str, Any] = {}
    failures: list[str] = []
    for step in steps():
        if step.method == "setup":
            from backend.schools.models import Org

            Org.objects.filter(pk=ctx["school"]).update(allow_class_visibility=True)
            continue
        if step.op == "auth_token_sms_create":
            ctx["sms_code"] = _last_sms_code()
        client = Client()
        headers = dict(step.headers)
        if step.actor:
            if step.actor.startswith("#"):  # a user saved by id (e.g. one whose phone was erased)
                user = User.objects.get(pk=ctx[step.actor[1:]])
            else:
                user = find_user_by_login(step.actor)
            if user is None:
                raise SystemExit(f"{step.op}: no demo user {step.actor}")
            headers["HTTP_AUTHORIZATION"] = f"Bearer {RefreshToken.for_user(user).access_token}"
        try:
            path = step.path(ctx) if callable(step.path) else step.path
            body = step.body(ctx) if callable(step.body) else step.body
        except (KeyError, TypeError) as exc:
            failures.append(f"{step.op}: an earlier step failed ({exc!r})")
            print(failures[-1], file=sys.stderr)
            continue
        call = getattr(client, step.method)
        held = contextlib.ExitStack()
        for task in step.hold:
            held.enter_context(mock.patch(f"{task}.delay"))
        with held:
            response = _send(call, path, body, step.multipart, headers)
        if not 200 <= response.status_code < 300:
            failures.append(
                f"{step.op} {step.method.upper()} {path} -> {response.status_code} {response.content[:300]!r}"
            )
            print(failures[-1], file=sys.stderr)
            continue
        data = response.json() if response.get("Content-Type", "").startswith("application/json") else None
        if step.save:
            step.save(ctx, data)
        entry = operations.setdefault(step.op, {"requests": {}, "responses": {}})
        if step.replay:
            again = _send(call, path, body, step.multipart, headers)
            if again.status_code == response.status_code:
                failures.append(f"{step.op}: the retry answered {again.status_code} again")
                print(failures[-1], file=sys.stderr)
            else:
                replies = entry["responses"].setdefault(str(again.status_code), {})
                replies[f"example{len(replies) + 1}"] = {
                    "summary": step.replay,
                    "value": _shorten(again.json()),
                }
        name = f"example{len(entry['requests']) + 1}" if body is not None else None
        if body is not None and not step.multipart:
            entry["requests"][name] = {"summary": step.summary, "value": body}
        if data is not None:
            responses = entry["responses"].setdefault(str(response.status_code), {})
            responses[f"example{len(responses) + 1}"] = {"summary": step.summary, "value": _shorten(data)}
    return {"operations": dict(sorted(operations.items())), "failures": failures}


def _shorten(value: Any) -> Any:
    """Long lists keep their first MAX_ITEMS items: an example shows the shape, not a class."""
    if isinstance(value, list):
        return [_shorten(item) for item in value[:MAX_ITEMS]]
    if isinstance(value, dict):
        return {key: _shorten(item) for key, item in value.items()}
    return value


def _send(call: Any, path: str, body: Any, multipart: bool, headers: dict[str, str]) -> Any:
    if multipart:
        from django.core.files.uploadedfile import SimpleUploadedFile

        files = {
            k: SimpleUploadedFile(name, content, content_type=mimetypes.guess_type(name)[0] or "")
            for k, (name, content) in body.items()
        }
        return call(path, data=files, **headers)
    if body is not None:
        return call(path, data=json.dumps(body), content_type="application/json", **headers)
    return call(path, **headers)


def _last_sms_code() -> str:
    from backend.sms.outbox import sent_messages

    codes = [m.params["code"] for m in sent_messages() if "code" in m.params]
    if not codes:
        raise SystemExit("no login code was texted")
    return str(codes[-1])


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        _setup(tmp)
        result = record()
    if result["failures"]:
        print(
            f"{len(result['failures'])} steps failed; {OUTPUT.relative_to(ROOT)} left as it was",
            file=sys.stderr,
        )
        return 1
    OUTPUT.write_text(
        json.dumps({"operations": result["operations"]}, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    print(f"{len(result['operations'])} operations recorded into {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
