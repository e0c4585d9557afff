"""OpenAPI helpers: declared error responses and recorded examples.

- `error_responses("400 invalid due_in_past", "404 not_found")` returns the `responses`
  entries for `extend_schema`: each status with the shared error envelope (`ErrorEnvelope`)
  and one example per stable code, with the Chinese message the code really carries.
- `postprocess_schema` (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]) adds what holds for
  every operation of a kind: 503 `server_busy` to all, 401 to every operation that needs a token, 429 where a
  throttle applies, 400 `malformed_request` and 413 `payload_too_large` where a JSON body
  is read, `security: [{}]` to public operations, and merges the recorded examples
  (mobile_api_docs/recorded_examples.json, written by `python -m tools.record_examples`).

Codes are the ones the code raises (`ApiError(code, …)`, the handler in
`backend.conventions.errors`); tests/docs checks that every declared code exists there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

RECORDED_EXAMPLES = Path(__file__).resolve().parents[2] / "mobile_api_docs" / "recorded_examples.json"
ENVELOPE = "ErrorEnvelope"
METHODS = ("get", "post", "put", "patch", "delete")

# One real message per code (where the message carries a number, the value it has in
# practice). The status is given by each operation: a code may differ by endpoint.
MESSAGES: dict[str, str] = {
    # The shared handler (backend.conventions.errors) and DRF.
    "invalid": "提交的数据有误",
    "malformed_request": "请求内容无法解析，请检查 JSON 格式",
    "not_authenticated": "请先登录",
    "authentication_failed": "登录凭证无效或已过期",
    "permission_denied": "没有权限执行此操作",
    "not_found": "对象不存在",
    "rate_limited": "请求过于频繁，请 2 秒后再试",
    "payload_too_large": "请求内容过大（上限 1 MB）",
    "server_busy": "服务器繁忙，请稍后重试",
    "invalid_idempotency_key": "Idempotency-Key 需为 1–128 个字符",
    "idempotency_key_reused": "该 Idempotency-Key 已用于内容不同的请求",
    # accounts
    "invalid_credentials": "账号或密码错误",
    "account_locked": "登录失败次数过多，请 15 分钟后再试",
    "token_invalid": "登录已失效，请重新登录",
    "account_disabled": "账号已停用，请联系学校",
    "invalid_phone": "手机号格式不正确",
    "invalid_code": "验证码错误或已失效，请重新获取",
    "sms_code_rate_limited": "获取验证码过于频繁，请 60 秒后再试",
    # files
    "unsupported_file_type": "不支持的文件类型：application/x-msdownload",
    "file_too_large": "文件过大（上限 10 MB）",
    "empty_file": "文件为空",
    "file_content_mismatch": "文件内容与类型不符",
    "unknown_attachments": "附件不存在或不属于您",
    "attachment_type_not_allowed": "附件类型不被允许：video",
    "too_many_attachments": "附件最多 9 个",
    # notices
    "target_required": "请选择且只选择一种发送范围：class_ids、grade_ids、school_id 或 org_id",
    "several_schools": "一条通知只能发给同一所学校",
    "unknown_ids": "包含不存在或无权访问的对象",
    "scheduled_in_past": "定时发送时间必须晚于当前时间",
    "audience_empty": "所选范围内没有可以接收通知的家长或学生",
    "invalid_box": "box 只能是 inbox 或 sent",
    "invalid_state": "state 只能是 unread、unconfirmed、read 或 confirmed",
    "notice_recalled": "该通知已撤回",
    "notice_not_published": "通知尚未发送，请使用取消",
    "notice_not_scheduled": "只能取消尚未发送的定时通知",
    "confirmation_not_required": "该通知无需确认，已读即可",
    "reminder_too_soon": "提醒过于频繁，请 8 分钟后再试",
    # homework
    "invalid_class_id": "class_id 需为班级编号",
    "classes_in_different_schools": "一次布置的作业只能面向同一所学校的班级",
    "due_in_past": "截止时间必须晚于现在",
    "invalid_submission_types": "提交方式需从 文字、图片、语音、视频、文件 中选择至少一种",
    "invalid_max_score": "按分数批改时需填写满分（1–1000）",
    "invalid_grade_scale": "按等级批改时需选择等级制（A-E 或 优良中差）",
    "field_not_editable": "布置后不能修改班级和评分方式",
    "assignment_closed": "作业已关闭，不能修改",
    "assignment_past_due": "作业已过截止时间，不能修改",
    "class_visibility_off": "学校未开启班级内公开展示",
    "submission_type_not_allowed": "本作业不接受文字提交",
    "empty_submission": "请填写文字或添加附件后再提交",
    "resubmit_not_allowed": "本作业已提交，老师未允许重新提交",
    "client_id_reused": "该 client_id 已用于内容不同的提交",
    "guardian_consent_required": "需要监护人先在家长端同意《儿童个人信息保护规则》",
    "invalid_score": "分数需在 0–100 之间",
    "invalid_grade": "等级需为 A、B、C、D、E 之一",
    "empty_feedback": "请填写分数、等级、评语或语音点评",
    "conflicting_feedback": "优秀作业与要求重新提交不能同时选择",
    "submission_superseded": "该学生已提交新版本，请批改最新版本",
    # checkins
    "invalid_status": "status 只能是 open 或 closed",
    "class_ids_required": "请选择至少一个班级",
    "title_required": "请填写打卡活动标题",
    "campaign_started": "活动已开始，不能修改开始日期",
    "start_date_in_past": "开始日期不能早于今天",
    "end_before_start": "结束日期不能早于开始日期",
    "campaign_too_long": "打卡活动最长 100 天",
    "invalid_weekdays": "打卡日需为 1–7（周一到周日）中的至少一天",
    "no_campaign_days": "所选日期范围内没有打卡日",
    "invalid_content_types": "必需内容只能是 text、photo、voice、video",
    "invalid_makeup_days": "补卡天数需为 0–7",
    "invalid_remind_at": "提醒时间格式应为 HH:MM",
    "not_campaign_owner": "只有发起活动的教师或学校管理员可以修改",
    "campaign_closed": "打卡活动已结束",
    "already_checked_in": "11月23日已经打过卡了",
    "date_in_future": "不能为将来的日期打卡",
    "outside_campaign": "该日期不在打卡活动期间",
    "not_a_campaign_day": "该日期不是本活动的打卡日",
    "makeup_window_passed": "已超过补卡期限（只能补 2 天内的卡）",
    "content_required": "本活动的打卡需要包含：照片",
    "invalid_date": "date 应为 YYYY-MM-DD 格式的日期",
    "invalid_student_id": "student_id 应为整数",
    "invalid_scope": "scope 只能是 private 或 class",
    "student_id_required": "请指定 student_id",
    "teachers_only": "只有该班的任课教师可以点评或点赞",
    "comment_required": "点评内容不能为空",
    "comment_too_long": "点评最多 500 字",
    # messaging
    "invalid_user": "不能和自己私聊",
    "guardian_chats_off": "本校未开启家长之间私聊",
    "not_moderator": "只有本班教师或学校管理员可以执行此操作",
    "invalid_before": "before 需为消息编号",
    "invalid_after": "after 需为消息编号",
    "empty_body": "消息内容不能为空",
    "body_too_long": "消息内容不能超过 2000 字",
    "unknown_reply_to": "引用的消息不存在",
    "muted_until": "您已被禁言至 11-23 18:30",
    "students_read_only": "本讨论不允许学生发言",
    "conversation_closed": "该讨论已关闭",
    "not_a_member": "该用户不在此会话中",
    "cannot_mute_teacher": "不能禁言教师",
    "invalid_minutes": "禁言时长需为 0–10080 分钟",
    "unknown_message": "消息不存在",
    "not_teacher": "只有教师可以设置办公时间",
    "invalid_hours": "开始时间需早于结束时间",
    "cannot_delete": "只能在发送后 2 分钟内删除自己的消息",
    "empty_reason": "请填写举报原因",
    "message_deleted": "消息已被删除",
    "invalid_action": "处理方式只能是 delete 或 keep",
    "report_resolved": "该举报已处理",
    "invalid_word": "敏感词需为 1–50 个有效字符",
    "too_many_words": "每校最多 500 个敏感词",
    "invalid_policy": "处理方式只能是 block 或 mask",
    # schools
    "invalid_role": "role 只能是 teacher 或 student",
    "not_a_school": "只能向学校导入花名册",
    "file_required": "请上传花名册文件（字段 file）",
    "too_many_rows": "数据超过 5000 行上限，请拆分后再导入",
    "unsupported_format": "这不是 Excel（.xlsx）文件，请上传 .xlsx 或 CSV 文件",
    "invalid_file": "Excel 文件已损坏，无法读取",
    "missing_columns": "缺少必需的列：手机号（第一行应为表头：学生姓名、学号、班级、家长姓名、关系、手机号）",
    "duplicate_columns": "表头中有重复的列：手机号",
    # privacy
    "policy_version_outdated": "规则已更新，请阅读最新版本后再同意",
    "student_not_found": "学生不存在，或不是您的孩子",
    "confirmation_required": "请输入“删除”以确认删除家庭数据",
    # sms
    "ip_not_allowed": "来源地址不在白名单内",
    "callback_not_configured": "未配置回调令牌",
    "callback_unauthenticated": "回调令牌无效",
    "callback_malformed": "状态报告格式有误：缺少 biz_id",
    "transfer_not_allowed": "只能在上下级账户之间划拨",
    "insufficient_quota": "可用条数不足（可用 120 条）",
    "account_frozen": "短信账户已冻结",
    "invalid_segments": "条数必须是正整数",
    "audience_invalid": "请指定发送对象：班级、年级、学校或区域之一",
    "audience_outside_account": "发送对象不在该短信账户所属机构范围内",
    "content_invalid": "请选择模板或填写短信内容（二选一）",
    "unknown_template": "短信模板不存在",
    "template_params_invalid": "模板参数有误",
    "text_too_long": "短信连同签名共 512 字，超过 500 字上限",
    "free_text_not_supported": "当前短信通道只能发送审核通过的模板，请选择模板",
    "urgent_requires_admin": "紧急短信需由学校管理员发送",
    "no_recipients": "没有可以接收短信的对象",
    "no_parent_account": "学校尚未开通短信账户",
    "signature_invalid": "短信签名需为 2–20 个字",
    # stats
    "class_id_required": "请指定班级",
    "invalid_days": "天数应在 1 到 366 之间",
    "org_id_required": "请指定机构",
    "invalid_quarter": "季度格式应为 2026Q4",
    "invalid_week": "周格式应为 YYYY-MM-DD（周一）",
    "week_not_monday": "周应以周一的日期表示",
}

_DESCRIPTIONS = {
    400: "请求有误 / Bad request",
    401: "未登录或凭证无效 / Not authenticated",
    403: "无权执行 / Forbidden",
    404: "不存在或不在调用者范围内 / Not found or outside the caller's scope",
    409: "与当前状态冲突 / Conflicts with the current state",
    413: "内容过大 / Payload too large",
    415: "不支持的类型 / Unsupported media type",
    429: "过于频繁，见 Retry-After / Too many requests, see Retry-After",
    503: "服务器繁忙，见 Retry-After / Server busy, see Retry-After",
}


# The envelope itself is a component the hook defines (a serializer cannot have a field
# called "fields"); operations point at it.
ENVELOPE_REF = {"$ref": f"#/components/schemas/{ENVELOPE}"}


def error_example(code: str) -> dict[str, Any]:
    """The body a client receives for `code` (raises KeyError for an unknown code)."""
    return {"error": {"code": code, "message": MESSAGES[code]}}


def error_responses(*specs: str) -> dict[int, OpenApiResponse]:
    """`"409 assignment_closed assignment_past_due"` → {409: the envelope with an example
    per code}. Spread into extend_schema's responses: `{200: Out, **error_responses(...)}`."""
    responses: dict[int, OpenApiResponse] = {}
    for spec in specs:
        status_text, *codes = spec.split()
        status = int(status_text)
        if not codes:
            raise ValueError(f"error_responses: no code for {status}")
        examples = [
            OpenApiExample(code, value=error_example(code), response_only=True, status_codes=[status])
            for code in codes
        ]
        description = f"{_DESCRIPTIONS.get(status, '错误 / Error')}: " + ", ".join(codes)
        responses[status] = OpenApiResponse(ENVELOPE_REF, description=description, examples=examples)
    return responses


# ---- postprocessing hook ----------------------------------------------------------------


def _envelope_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "string", "description": "稳定的错误码 / stable snake_case error code"},
                    "message": {
                        "type": "string",
                        "description": "可直接展示的中文说明 / Chinese message to show",
                    },
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        "description": "按字段的错误 / per-field messages (validation errors)",
                    },
                },
                "required": ["code", "message"],
            }
        },
        "required": ["error"],
    }


def _add_error(operation: dict[str, Any], status: int, codes: list[str]) -> None:
    response = operation["responses"].setdefault(
        str(status),
        {
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ENVELOPE}"}}},
            "description": f"{_DESCRIPTIONS.get(status, '错误 / Error')}: " + ", ".join(codes),
        },
    )
    content = response.setdefault("content", {}).setdefault("application/json", {})
    content.setdefault("schema", {"$ref": f"#/components/schemas/{ENVELOPE}"})
    examples = content.setdefault("examples", {})
    for code in codes:
        key = "".join(part.capitalize() for part in code.split("_"))
        if key not in examples:
            examples[key] = {"value": error_example(code), "summary": code}
            if code not in response["description"]:
                response["description"] += f", {code}"


def _throttled(generator: Any) -> set[tuple[str, str]]:
    """(path, method) of operations whose view applies a throttle."""
    found: set[tuple[str, str]] = set()
    for path, _regex, method, view in getattr(generator, "endpoints", None) or []:
        cls = getattr(view, "cls", None)
        if cls is not None and getattr(cls, "throttle_classes", None):
            found.add((path, method.lower()))
    return found


def _recorded() -> dict[str, Any]:
    if not RECORDED_EXAMPLES.exists():
        return {}
    data: dict[str, Any] = json.loads(RECORDED_EXAMPLES.read_text(encoding="utf-8"))
    return data.get("operations", {})


def _merge_recorded(operation: dict[str, Any], recorded: dict[str, Any]) -> None:
    body = operation.get("requestBody", {}).get("content", {})
    for name, example in recorded.get("requests", {}).items():
        for media_type, content in body.items():
            if media_type == example.get("media_type", "application/json"):
                content.setdefault("examples", {})[name] = {
                    "summary": example["summary"],
                    "value": example["value"],
                }
    for status, examples in recorded.get("responses", {}).items():
        response = operation["responses"].get(status)
        if response is None:
            continue
        for media_type, content in (response.get("content") or {}).items():
            if media_type != "application/json":
                continue
            for name, example in examples.items():
                content.setdefault("examples", {})[name] = {
                    "summary": example["summary"],
                    "value": example["value"],
                }


def postprocess_schema(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[ENVELOPE] = _envelope_schema()
    throttled = _throttled(generator)
    recorded = _recorded()
    for path, item in result.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            security = operation.get("security") or []
            if any("jwtAuth" in requirement for requirement in security):
                _add_error(operation, 401, ["not_authenticated", "token_invalid", "account_disabled"])
            else:
                # Public: no token needed (login, refresh, signed downloads, webhooks).
                operation["security"] = [{}]
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                _add_error(operation, 400, ["malformed_request"])
                _add_error(operation, 413, ["payload_too_large"])
            if (path, method) in throttled:
                _add_error(operation, 429, ["rate_limited"])
            # Any request may wait in line too long in a busy process (conventions.concurrency).
            _add_error(operation, 503, ["server_busy"])
            if operation.get("operationId") in recorded:
                _merge_recorded(operation, recorded[operation["operationId"]])
            operation["responses"] = dict(sorted(operation["responses"].items()))
    return result
