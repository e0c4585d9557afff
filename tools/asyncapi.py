"""Generate the realtime protocol documents from the event registry.

    .venv/bin/python -m tools.asyncapi                 # write both documents
    .venv/bin/python -m tools.asyncapi --check         # exit 1 when either is stale

Writes mobile_api_docs/asyncapi.yaml (AsyncAPI 3.0) and the generated section of
mobile_api_docs/realtime.md (between the BEGIN/END markers; the prose around it is
written by hand). Event types come from backend.realtime.registry.registered_events()
(each app's events.py, registered in AppConfig.ready()); the protocol frames, close
codes and handshake are fixed here and mirror backend/realtime/frames.py. The output
depends only on the code: keys in a fixed order, event types sorted by name."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
ASYNCAPI_PATH = ROOT / "mobile_api_docs" / "asyncapi.yaml"
REALTIME_MD_PATH = ROOT / "mobile_api_docs" / "realtime.md"
BEGIN_MARKER = "<!-- BEGIN GENERATED EVENTS (python -m tools.asyncapi) -->"
END_MARKER = "<!-- END GENERATED EVENTS -->"
CHANNEL = "events"
CHANNEL_ADDRESS = "/ws/v1/events/"

ERROR_CODES = {
    "invalid_json": "消息不是有效的 JSON / the frame is not valid JSON",
    "invalid_frame": "消息不是带 type 字段的 JSON 对象 / not a JSON object with a `type`",
    "unknown_type": "不支持的消息类型 / a frame type the server does not know",
    "invalid_after_seq": "after_seq 必须是非负整数 / `after_seq` must be a non-negative integer",
    "frame_too_deep": "消息嵌套层级过深（> 8 层）/ JSON nested deeper than 8 levels",
}

CLOSE_CODES = {
    "4401": "凭证缺失、无效或过期，或账号已停用（连接中也可能收到）。不要用同一凭证重连："
    "先刷新令牌或重新登录 / Missing, bad or expired credential, or the account was "
    "deactivated (also sent on an open socket). Do not reconnect without new credentials.",
    "4403": "页面的 Origin 不在允许列表 / A browser page from an Origin the server does not serve.",
    "1003": "收到二进制帧；只接受文本帧 / A binary frame; only text frames are accepted.",
    "1009": "客户端消息超过 64 KiB / A client frame over 64 KiB.",
    "1011": "服务器内部错误：重连并 resume / Server error: reconnect and resume.",
}


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.embedded")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _plain(value: Any) -> Any:
    """MappingProxy/tuples → dicts/lists, so the YAML dumper and comparisons see JSON."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _event_payload(name: str, data_schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "seq", "ts", "data"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": name},
            "seq": {"$ref": "#/components/schemas/seq"},
            "ts": {"$ref": "#/components/schemas/ts"},
            "data": data_schema,
        },
    }


def _protocol_messages() -> dict[str, dict[str, Any]]:
    seq_ref = {"$ref": "#/components/schemas/seq"}
    return {
        "resume": {
            "name": "resume",
            "title": "续传 / Resume",
            "summary": "连接后立即发送：上次处理到的 seq（首次为 0）/ Send right after connecting: "
            "the last seq you applied (0 the first time).",
            "payload": {
                "type": "object",
                "required": ["type", "after_seq"],
                "properties": {
                    "type": {"const": "resume"},
                    "after_seq": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
                },
            },
            "examples": [{"name": "first_connect", "payload": {"type": "resume", "after_seq": 0}}],
        },
        "ping": {
            "name": "ping",
            "title": "心跳 / Ping",
            "summary": "每 30 秒发送一次，保持代理和 NAT 连接 / Send every 30 s to keep proxies and NATs open.",
            "payload": {"type": "object", "required": ["type"], "properties": {"type": {"const": "ping"}}},
        },
        "resumed": {
            "name": "resumed",
            "title": "续传完成 / Resumed",
            "summary": "补发完毕；把 seq 存为游标 / The replay is finished; store `seq` as your cursor.",
            "payload": {
                "type": "object",
                "required": ["type", "seq"],
                "additionalProperties": False,
                "properties": {"type": {"const": "resumed"}, "seq": {**seq_ref}},
            },
        },
        "pong": {
            "name": "pong",
            "title": "心跳应答 / Pong",
            "summary": "ping 的应答 / The answer to a ping.",
            "payload": {
                "type": "object",
                "required": ["type"],
                "additionalProperties": False,
                "properties": {"type": {"const": "pong"}},
            },
        },
        "error": {
            "name": "error",
            "title": "错误 / Error",
            "summary": "客户端消息被拒绝；连接保持打开 / A client frame was refused; the socket stays open.",
            "payload": {
                "type": "object",
                "required": ["type", "code", "message"],
                "additionalProperties": False,
                "properties": {
                    "type": {"const": "error"},
                    "code": {"enum": sorted(ERROR_CODES)},
                    "message": {"type": "string", "description": "中文说明 / a Chinese message for people"},
                },
            },
            "x-error-codes": dict(sorted(ERROR_CODES.items())),
        },
    }


def build_asyncapi() -> dict[str, Any]:
    from backend.realtime.registry import registered_events

    events = dict(sorted(registered_events().items()))
    messages: dict[str, Any] = {}
    for name, definition in events.items():
        messages[name] = {
            "name": name,
            "title": name,
            "summary": definition.description,
            "description": f"{definition.description}\n\n接收人 / Audience: {definition.audience}",
            "x-audience": definition.audience,
            "payload": _event_payload(name, _plain(definition.schema)),
        }
    protocol = _protocol_messages()
    all_messages = {**protocol, **messages}
    channel_messages = {key: {"$ref": f"#/components/messages/{key}"} for key in all_messages}

    def refs(keys: list[str]) -> list[dict[str, str]]:
        return [{"$ref": f"#/channels/{CHANNEL}/messages/{key}"} for key in keys]

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Jiaxiao Hub (家校通) realtime API",
            "version": "1.0.0",
            "description": (
                "One WebSocket per app instance; one event log per user. Every event carries a "
                "per-user `seq` (1, 2, 3, … gap-free, never repeated). After connecting, send "
                "`resume` with the last `seq` you applied; the server replays everything after it "
                "in order, answers `resumed`, then sends live events in order, each exactly once. "
                "Generated from backend.realtime.registry by `python -m tools.asyncapi`; "
                "see mobile_api_docs/realtime.md."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "production": {
                "host": "{host}",
                "protocol": "wss",
                "description": "TLS in production / 生产环境（TLS）",
                "variables": {"host": {"default": "api.example.cn"}},
                "security": [
                    {"$ref": "#/components/securitySchemes/bearer"},
                    {"$ref": "#/components/securitySchemes/ticket"},
                ],
            },
            "local": {
                "host": "127.0.0.1:8000",
                "protocol": "ws",
                "description": "`make run` (embedded mode) / 本地开发",
                "security": [
                    {"$ref": "#/components/securitySchemes/bearer"},
                    {"$ref": "#/components/securitySchemes/ticket"},
                ],
            },
        },
        "channels": {
            CHANNEL: {
                "address": CHANNEL_ADDRESS,
                "title": "用户事件流 / The caller's event stream",
                "description": (
                    "Handshake: apps send `Authorization: Bearer <access token>`; browsers send "
                    "`?ticket=` from POST /api/v1/realtime/ticket/ (single use, 30 s). Tokens in "
                    "the URL are refused. Refusals arrive as close codes after the handshake "
                    "(see x-close-codes)."
                ),
                "messages": channel_messages,
                "bindings": {
                    "ws": {
                        "method": "GET",
                        "headers": {
                            "type": "object",
                            "properties": {
                                "Authorization": {
                                    "type": "string",
                                    "pattern": "^Bearer .+$",
                                    "description": "apps / 应用",
                                }
                            },
                        },
                        "query": {
                            "type": "object",
                            "properties": {
                                "ticket": {"type": "string", "description": "browsers, single use / 浏览器"}
                            },
                        },
                        "bindingVersion": "0.1.0",
                    }
                },
                "x-close-codes": CLOSE_CODES,
            }
        },
        "operations": {
            "receiveEvent": {
                "action": "send",
                "channel": {"$ref": f"#/channels/{CHANNEL}"},
                "title": "服务器推送事件 / The server sends events",
                "summary": "每个事件帧 {type, seq, ts, data}；data 按事件类型的 schema / "
                "Each event frame is {type, seq, ts, data}; data follows the type's schema.",
                "messages": refs(list(messages)),
            },
            "resume": {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{CHANNEL}"},
                "title": "续传 / Resume",
                "messages": refs(["resume"]),
                "reply": {
                    "channel": {"$ref": f"#/channels/{CHANNEL}"},
                    "messages": refs([*messages, "resumed", "error"]),
                },
            },
            "ping": {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{CHANNEL}"},
                "title": "心跳 / Ping",
                "messages": refs(["ping"]),
                "reply": {"channel": {"$ref": f"#/channels/{CHANNEL}"}, "messages": refs(["pong", "error"])},
            },
        },
        "components": {
            "schemas": {
                "seq": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "per-user sequence number, gap-free / 每个用户独立递增、无空缺",
                },
                "ts": {
                    "type": "string",
                    "format": "date-time",
                    "description": "ISO 8601, Asia/Shanghai (+08:00)",
                },
            },
            "messages": all_messages,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "Access token from POST /api/v1/auth/token/ on the handshake (apps).",
                },
                "ticket": {
                    "type": "httpApiKey",
                    "in": "query",
                    "name": "ticket",
                    "description": "One-time ticket from POST /api/v1/realtime/ticket/ (browsers).",
                },
            },
        },
    }


def render_asyncapi(document: dict[str, Any]) -> str:
    header = "# Generated by `python -m tools.asyncapi` from backend.realtime.registry. Do not edit.\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000)


def _type_label(schema: Mapping[str, Any]) -> str:
    if "const" in schema:
        return f"`{json.dumps(schema['const'], ensure_ascii=False)}`"
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v, ensure_ascii=False)}`" for v in schema["enum"])
    kind = schema.get("type", "any")
    label = " \\| ".join(kind) if isinstance(kind, list) else str(kind)
    if label == "array" and isinstance(schema.get("items"), Mapping):
        label = f"array of {_type_label(schema['items'])}"
    return label


def _constraints(schema: Mapping[str, Any]) -> str:
    notes = []
    for key in ("minimum", "maximum", "maxLength", "format", "pattern"):
        if key in schema:
            notes.append(f"{key} {schema[key]}")
    if schema.get("description"):
        notes.append(str(schema["description"]))
    return "; ".join(notes).replace("|", "\\|")


def _field_rows(schema: Mapping[str, Any], prefix: str = "") -> list[str]:
    rows = []
    required = set(schema.get("required", []))
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        rows.append(
            f"| `{path}` | {_type_label(sub)} | {'是 yes' if name in required else '否 no'} | {_constraints(sub)} |"
        )
        if sub.get("type") == "object" and "properties" in sub:
            rows.extend(_field_rows(sub, prefix=f"{path}."))
    return rows


def render_events_markdown() -> str:
    from backend.realtime.registry import registered_events

    events = dict(sorted(registered_events().items()))
    lines = [
        BEGIN_MARKER,
        "",
        "| 事件类型 event type | 接收人 audience |",
        "|---|---|",
        *(f"| [`{name}`](#{name.replace('.', '')}) | {d.audience} |" for name, d in events.items()),
        "",
    ]
    for name, definition in events.items():
        schema = _plain(definition.schema)
        lines += [
            f"### `{name}`",
            "",
            definition.description,
            "",
            f"接收人 / Audience: {definition.audience}",
            "",
            "| data 字段 field | 类型 type | 必有 required | 说明 notes |",
            "|---|---|---|---|",
            *_field_rows(schema),
            "",
        ]
        if schema.get("additionalProperties") is False:
            lines += ["没有其他字段 / No other fields.", ""]
    lines.append(END_MARKER)
    return "\n".join(lines)


def render_realtime_md(current: str) -> str:
    """`current` with the text between the markers replaced by the generated section."""
    start, end = current.find(BEGIN_MARKER), current.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"{REALTIME_MD_PATH} lacks the {BEGIN_MARKER!r} / {END_MARKER!r} markers")
    return current[:start] + render_events_markdown() + current[end + len(END_MARKER) :]


def generated_documents() -> dict[Path, str]:
    """Every path this tool owns and the text it must hold."""
    return {
        ASYNCAPI_PATH: render_asyncapi(build_asyncapi()),
        REALTIME_MD_PATH: render_realtime_md(REALTIME_MD_PATH.read_text(encoding="utf-8")),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a generated document is stale")
    args = parser.parse_args(argv)
    _setup_django()
    stale = []
    for path, text in generated_documents().items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current == text:
            if args.check:
                print(f"{path.relative_to(ROOT)} is current")
            continue
        if args.check:
            stale.append(path)
            diff = difflib.unified_diff(
                current.splitlines(), text.splitlines(), str(path.relative_to(ROOT)), "generated", lineterm=""
            )
            print("\n".join(list(diff)[:40]))
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print("realtime docs are stale: run 'make docs' (python -m tools.asyncapi)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
