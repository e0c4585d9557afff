#!/usr/bin/env bash
# 家校通 quickstart with curl: from nothing to a received, confirmed notice.
#
#   bash quickstart.sh http://127.0.0.1:8000
#
# JSON is read with `python3 -c` (no jq needed). Every step checks the HTTP status and
# what came back, and the script stops with a non-zero exit on any surprise
# (`make docs-examples` runs it against a live server). curl cannot speak WebSocket, so
# this script receives events through the REST fallback GET /api/v1/events/?after_seq=
# (same frames, same seq); quickstart.py shows the WebSocket. Step numbers match
# quickstart.zh.md / quickstart.en.md.
set -euo pipefail

BASE="${1:-http://127.0.0.1:8000}"
API="$BASE/api/v1"
PY="${PYTHON:-python3}"
GUARDIAN=13900000001   # guardian of a student of 三年级(2)班
TEACHER=13800000001    # head teacher of 三年级(2)班
PASSWORD=demo-pass-2026
SMS_PHONE=13900000002  # quickstart.py uses 13900000003: each number may ask once a minute
BODY=$(mktemp)
HEADERS=$(mktemp)
trap 'rm -f "$BODY" "$HEADERS"' EXIT

# req METHOD PATH [curl args…]: the body goes to $BODY, the headers to $HEADERS; prints the status.
req() {
  local method=$1 path=$2
  shift 2
  case "$path" in http*) ;; *) path="$API$path" ;; esac
  curl -sS -X "$method" -o "$BODY" -D "$HEADERS" -w '%{http_code}' "$@" "$path"
}
# expect STATUS METHOD PATH [curl args…]: fail unless the status matches.
expect() {
  local want=$1 got
  shift
  got=$(req "$@")
  if [ "$got" != "$want" ]; then
    echo "FAILED: $2 $3 answered $got, expected $want: $(head -c 300 "$BODY")" >&2
    exit 1
  fi
}
# py EXPR: evaluate a Python expression over the last JSON body (as d) and print it.
py() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$BODY"; }
# check EXPR: fail unless the Python expression over the last body is true.
check() {
  if [ "$(py "bool($1)")" != "True" ]; then
    echo "FAILED: $1 — body: $(head -c 300 "$BODY")" >&2
    exit 1
  fi
}
json=(-H "Content-Type: application/json")

echo "== 1. 登录 / log in (password)"
expect 200 POST /auth/token/ "${json[@]}" -d "{\"login\": \"$GUARDIAN\", \"password\": \"$PASSWORD\"}"
check '{"access", "refresh", "user"} <= set(d)'
ACCESS=$(py 'd["access"]')
REFRESH=$(py 'd["refresh"]')
auth=(-H "Authorization: Bearer $ACCESS")
expect 200 GET /me/ "${auth[@]}"
check 'd["children"]'

echo "== 2. 刷新令牌 / refresh (the old refresh token stops working)"
expect 200 POST /auth/token/refresh/ "${json[@]}" -d "{\"refresh\": \"$REFRESH\"}"
NEW_ACCESS=$(py 'd["access"]')
NEW_REFRESH=$(py 'd["refresh"]')
expect 401 POST /auth/token/refresh/ "${json[@]}" -d "{\"refresh\": \"$REFRESH\"}"
check 'd["error"]["code"]'
ACCESS=$NEW_ACCESS
REFRESH=$NEW_REFRESH
auth=(-H "Authorization: Bearer $ACCESS")

echo "== 3. 事件游标 / the event cursor (REST fallback of the WebSocket resume)"
expect 200 GET "/events/?after_seq=0&limit=500" "${auth[@]}"
CURSOR=$(py 'd["last_seq"]')

echo "== 4. 老师发布通知 / the teacher posts a notice to 三年级(2)班"
expect 200 POST /auth/token/ "${json[@]}" -d "{\"login\": \"$TEACHER\", \"password\": \"$PASSWORD\"}"
TEACHER_ACCESS=$(py 'd["access"]')
teacher=(-H "Authorization: Bearer $TEACHER_ACCESS")
expect 200 GET /classes/ "${teacher[@]}"
CLASS_ID=$(py 'next(c["id"] for c in d["results"] if c["name"] == "三年级(2)班")')
KEY=$("$PY" -c 'import uuid; print(uuid.uuid4())')
NOTICE='{"title": "运动会通知", "body": "请家长在周五前确认。", "class_ids": ['"$CLASS_ID"'],
         "audience": "guardians", "require_confirmation": true, "sms_fallback": false}'
expect 201 POST /notices/ "${teacher[@]}" "${json[@]}" -H "Idempotency-Key: $KEY" -d "$NOTICE"
NOTICE_ID=$(py 'd["id"]')
expect 200 POST /notices/ "${teacher[@]}" "${json[@]}" -H "Idempotency-Key: $KEY" -d "$NOTICE"
check "d['id'] == $NOTICE_ID"  # a retry with the same key returns the same notice

echo "== 5. 家长收到 notice.created / the guardian receives notice.created"
expect 200 GET "/events/?after_seq=$CURSOR&limit=500" "${auth[@]}"
check "d['results'] and d['results'][0]['seq'] == $CURSOR + 1"
check "[f['seq'] for f in d['results']] == list(range($CURSOR + 1, d['last_seq'] + 1))"  # gap-free
check "any(f['type'] == 'notice.created' and f['data']['notice_id'] == $NOTICE_ID for f in d['results'])"
CURSOR=$(py 'd["last_seq"]')
echo "   received notice.created notice_id=$NOTICE_ID, cursor now $CURSOR"

echo "== 6. 查看、已读、确认 / read and confirm"
expect 200 GET "/notices/$NOTICE_ID/" "${auth[@]}"
check 'd["my_receipt"]["confirmed_at"] is None'
expect 200 POST "/notices/$NOTICE_ID/read/" "${auth[@]}"
expect 200 POST "/notices/$NOTICE_ID/confirm/" "${auth[@]}"
expect 200 GET "/notices/$NOTICE_ID/" "${auth[@]}"
check 'd["my_receipt"]["read_at"] and d["my_receipt"]["confirmed_at"]'

echo "== 7. 注册推送令牌 / register an FCM token"
expect 201 POST /devices/ "${auth[@]}" "${json[@]}" -d "{\"platform\": \"android\", \"token\": \"fcm-demo-$KEY\"}"

echo "== 8. 上传文件 / upload a file"
PNG=$(mktemp --suffix=.png)
"$PY" -c 'import sys; open(sys.argv[1], "wb").write(bytes.fromhex(
"89504e470d0a1a0a0000000d4948445200000001000000010806000000"
"1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"))' "$PNG"
expect 201 POST /files/ "${auth[@]}" -F "file=@$PNG;type=image/png"
check 'd["content_type"] == "image/png" and d["size"] == 67'
URL=$(py 'd["url"]')
case "$URL" in http*) ;; *) URL="$BASE$URL" ;; esac
expect 200 GET "$URL"
cmp -s "$BODY" "$PNG" || { echo "FAILED: the download differs from the upload" >&2; exit 1; }
rm -f "$PNG"

echo "== 9. 错误信封 / the error envelope"
expect 404 GET /notices/999999999/ "${auth[@]}"
check 'd["error"]["code"] == "not_found" and d["error"]["message"]'
expect 401 POST /auth/token/ "${json[@]}" -d "{\"login\": \"$GUARDIAN\", \"password\": \"wrong\"}"
check 'd["error"]["code"] == "invalid_credentials"'
expect 400 POST /devices/ "${auth[@]}" "${json[@]}" -d '{"platform": "symbian", "token": "x"}'
check '"platform" in d["error"]["fields"]'

echo "== 10. 限流 / rate limits: 429 + Retry-After"
expect 204 POST /auth/sms-code/ "${json[@]}" -d "{\"phone\": \"$SMS_PHONE\"}"
expect 429 POST /auth/sms-code/ "${json[@]}" -d "{\"phone\": \"$SMS_PHONE\"}"
check 'd["error"]["code"] == "sms_code_rate_limited"'
RETRY_AFTER=$(tr -d '\r' < "$HEADERS" | sed -n 's/^[Rr]etry-[Aa]fter: *//p')
[ "$RETRY_AFTER" -ge 1 ] || { echo "FAILED: no Retry-After header" >&2; exit 1; }
echo "   429 sms_code_rate_limited, Retry-After: $RETRY_AFTER"

echo "== 11. 退出登录 / log out"
expect 204 POST /auth/logout/ "${auth[@]}" "${json[@]}" -d "{\"refresh\": \"$REFRESH\"}"
echo "quickstart.sh: all steps passed"
