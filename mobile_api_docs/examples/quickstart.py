"""家校通 quickstart in Python: from nothing to a received, confirmed notice.

    python quickstart.py http://127.0.0.1:8000

Only the standard library and `websockets`. Every step asserts what it gets, so the
script exits non-zero on any surprise (`make docs-examples` runs it against a live
server). Step numbers match quickstart.zh.md / quickstart.en.md."""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.error
import urllib.request
import uuid
from typing import Any

import websockets

BASE = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000").rstrip("/")
API = f"{BASE}/api/v1"
WS = BASE.replace("http", "ws", 1) + "/ws/v1/events/"
GUARDIAN = "13900000001"  # guardian of a student of 三年级(2)班, has the app
TEACHER = "13800000001"  # head teacher of 三年级(2)班
PASSWORD = "demo-pass-2026"
SMS_PHONE = "13900000003"  # quickstart.sh uses 13900000002: each number may ask once a minute


class Answer:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def call(method: str, path: str, body: Any = None, token: str | None = None, **headers: str) -> Answer:
    """One HTTP request; 4xx/5xx are returned, not raised, so the caller checks them."""
    data = None
    if isinstance(body, bytes):
        data = body
    elif body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url = path if path.startswith("http") else API + path
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())


def expect(answer: Answer, status: int) -> Any:
    if answer.status != status:
        raise SystemExit(f"expected HTTP {status}, got {answer.status}: {answer.body[:300]!r}")
    return answer.json()


def check(condition: Any, context: Any) -> None:
    """An assertion that also holds under `python -O`."""
    if not condition:
        raise SystemExit(f"unexpected: {context!r}")


def step(text: str) -> None:
    print(f"== {text}", flush=True)


def login(phone: str) -> dict[str, Any]:
    return expect(call("POST", "/auth/token/", {"login": phone, "password": PASSWORD}), 200)


async def receive_until(socket: Any, wanted: str, cursor: int) -> tuple[dict[str, Any], int]:
    """Read frames until one of type `wanted`, applying the cursor rules."""
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
        if "seq" in frame and frame["type"] != "resumed":
            if frame["seq"] <= cursor:
                continue  # already applied
            check(frame["seq"] == cursor + 1, f"gap: cursor {cursor}, got {frame}")
            cursor = frame["seq"]
        if frame["type"] == wanted:
            return frame, cursor


def post_notice(teacher_token: str, class_id: int, title: str) -> int:
    notice = expect(
        call(
            "POST",
            "/notices/",
            {
                "title": title,
                "body": "请家长在周五前确认。",
                "class_ids": [class_id],
                "audience": "guardians",
                "require_confirmation": True,
                "sms_fallback": False,
            },
            token=teacher_token,
            **{"Idempotency-Key": str(uuid.uuid4())},
        ),
        201,
    )
    return int(notice["id"])


async def main() -> None:
    step("1. 登录 / log in (password)")
    session = login(GUARDIAN)
    check({"access", "refresh", "user"} <= set(session), session)
    access, refresh = session["access"], session["refresh"]
    me = expect(call("GET", "/me/", token=access), 200)
    check(me["children"], me)

    step("2. 刷新令牌 / refresh (the old refresh token stops working)")
    tokens = expect(call("POST", "/auth/token/refresh/", {"refresh": refresh}), 200)
    check(tokens["access"] and tokens["refresh"] != refresh, "a new refresh token")
    reused = expect(call("POST", "/auth/token/refresh/", {"refresh": refresh}), 401)
    check(reused["error"]["code"], reused)
    access, refresh = tokens["access"], tokens["refresh"]

    step("3. 连接 WebSocket 并 resume / connect and resume")
    headers = {"Authorization": f"Bearer {access}"}
    async with websockets.connect(WS, additional_headers=headers) as socket:
        await socket.send(json.dumps({"type": "resume", "after_seq": 0}))
        resumed, cursor = await receive_until(socket, "resumed", 0)
        cursor = resumed["seq"]
        await socket.send(json.dumps({"type": "ping"}))
        await receive_until(socket, "pong", cursor)

        step("4. 老师发布通知，家长实时收到 / the teacher posts, the guardian receives it live")
        teacher = login(TEACHER)["access"]
        classes = expect(call("GET", "/classes/", token=teacher), 200)["results"]
        class_id = next(c["id"] for c in classes if c["name"] == "三年级(2)班")
        notice_id = post_notice(teacher, class_id, "春游通知")
        event, cursor = await receive_until(socket, "notice.created", cursor)
        check(event["data"]["notice_id"] == notice_id, event)
        check(event["data"]["title"] == "春游通知", event)
        print(f"   received notice.created seq={event['seq']} notice_id={notice_id}")

    step("5. 断线期间的通知：重连后 resume 补发 / missed while offline: resume replays it")
    missed_id = post_notice(teacher, class_id, "家长会通知")
    async with websockets.connect(WS, additional_headers=headers) as socket:
        await socket.send(json.dumps({"type": "resume", "after_seq": cursor}))
        replayed, cursor = await receive_until(socket, "notice.created", cursor)
        check(replayed["data"]["notice_id"] == missed_id, replayed)
        resumed, cursor = await receive_until(socket, "resumed", cursor)
        check(resumed["seq"] == cursor, (resumed, cursor))  # nothing else, no duplicates

    step("6. 查看、已读、确认 / read and confirm the notice")
    detail = expect(call("GET", f"/notices/{notice_id}/", token=access), 200)
    check(detail["my_receipt"]["confirmed_at"] is None, detail)
    expect(call("POST", f"/notices/{notice_id}/read/", token=access), 200)
    confirmed = expect(call("POST", f"/notices/{notice_id}/confirm/", token=access), 200)
    again = expect(call("POST", f"/notices/{notice_id}/confirm/", token=access), 200)  # idempotent
    check(confirmed == again, (confirmed, again))
    detail = expect(call("GET", f"/notices/{notice_id}/", token=access), 200)
    check(detail["my_receipt"]["read_at"] and detail["my_receipt"]["confirmed_at"], detail)
    # The teacher's counts arrive as notice.receipt_updated; read them over REST here.
    log = expect(call("GET", "/events/?after_seq=0&limit=500", token=teacher), 200)
    updates = [f["data"] for f in log["results"] if f["type"] == "notice.receipt_updated"]
    check(any(u["notice_id"] == notice_id and u["confirmed"] >= 1 for u in updates), updates)

    step("7. 注册推送令牌 / register an FCM token")
    device = expect(
        call(
            "POST",
            "/devices/",
            {"platform": "android", "token": f"fcm-demo-{uuid.uuid4().hex}"},
            token=access,
        ),
        201,
    )
    check(device, device)

    step("8. 上传文件 / upload a file")
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
    )
    boundary = uuid.uuid4().hex
    form = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="dot.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + png
        + f"\r\n--{boundary}--\r\n".encode()
    )
    uploaded = expect(
        call(
            "POST",
            "/files/",
            form,
            token=access,
            **{"Content-Type": f"multipart/form-data; boundary={boundary}"},
        ),
        201,
    )
    check(uploaded["content_type"] == "image/png" and uploaded["size"] == len(png), uploaded)
    url = uploaded["url"] if uploaded["url"].startswith("http") else BASE + uploaded["url"]
    download = call("GET", url)
    check(download.status == 200 and download.body == png, download.status)

    step("9. 错误信封 / the error envelope")
    missing = expect(call("GET", "/notices/999999999/", token=access), 404)
    check(missing["error"]["code"] == "not_found" and missing["error"]["message"], missing)
    bad = expect(call("POST", "/auth/token/", {"login": GUARDIAN, "password": "wrong"}), 401)
    check(bad["error"]["code"] == "invalid_credentials", bad)
    invalid = expect(call("POST", "/devices/", {"platform": "symbian", "token": "x"}, token=access), 400)
    check("platform" in invalid["error"].get("fields", {}), invalid)
    anonymous = expect(call("GET", "/me/"), 401)
    check(anonymous["error"]["code"], anonymous)

    step("10. 限流 / rate limits: 429 + Retry-After")
    expect(call("POST", "/auth/sms-code/", {"phone": SMS_PHONE}), 204)
    limited = call("POST", "/auth/sms-code/", {"phone": SMS_PHONE})
    body = expect(limited, 429)
    retry_after = int(limited.headers["Retry-After"])
    check(body["error"]["code"] == "sms_code_rate_limited" and 1 <= retry_after <= 60, (body, retry_after))
    print(f"   429 sms_code_rate_limited, Retry-After: {retry_after}")

    step("11. 退出登录 / log out")
    expect(call("POST", "/auth/logout/", {"refresh": refresh}, token=access), 204)
    expect(call("POST", "/auth/token/refresh/", {"refresh": refresh}), 401)
    print("quickstart.py: all steps passed")


if __name__ == "__main__":
    asyncio.run(main())
