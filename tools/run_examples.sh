#!/usr/bin/env bash
# `make docs-examples`: run mobile_api_docs/examples/quickstart.{sh,py} against a live
# server. A throwaway SQLite database and media root in a temp dir, migrate, seed_demo,
# daphne on a free loopback port in the background (always stopped, via trap), then both
# examples; any failed assertion makes this exit non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${BIN:-.venv/bin}"
# On tmpfs when there is one: migrate commits ~100 times and fsync on a busy disk is slow.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then TMP=$(mktemp -d -p /dev/shm); else TMP=$(mktemp -d); fi
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

export DATABASE_URL="sqlite:///$TMP/db.sqlite3"
export MEDIA_ROOT="$TMP/media"
export DJANGO_SETTINGS_MODULE=tools.examples_settings  # embedded + a fast password hasher
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
unset REDIS_URL

echo "== migrate and seed_demo in $TMP"
# System checks run once, in migrate; the server starts while seed_demo runs (it serves
# nothing before the wait loop below), which keeps the whole run well under a minute.
"$BIN/python" manage.py migrate --noinput -v 0
PORT=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
"$BIN/daphne" -b 127.0.0.1 -p "$PORT" backend.asgi:application > "$TMP/server.log" 2>&1 &
SERVER_PID=$!
"$BIN/python" manage.py seed_demo --skip-checks > "$TMP/seed.log"
for _ in $(seq 1 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/api/v1/me/" || true)
  [ "$code" = "401" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log"; echo "the server did not start" >&2; exit 1; }
  sleep 0.2
done
[ "$code" = "401" ] || { tail -20 "$TMP/server.log"; echo "the server does not answer on $BASE" >&2; exit 1; }
echo "== server on $BASE (pid $SERVER_PID), ${SECONDS}s"

status=0
PYTHON="$BIN/python" bash mobile_api_docs/examples/quickstart.sh "$BASE" || status=$?
if [ "$status" = 0 ]; then
  "$BIN/python" mobile_api_docs/examples/quickstart.py "$BASE" || status=$?
fi
if [ "$status" != 0 ]; then
  echo "== last server log lines" >&2
  tail -30 "$TMP/server.log" >&2
  exit "$status"
fi
echo "== docs examples passed in ${SECONDS}s"
