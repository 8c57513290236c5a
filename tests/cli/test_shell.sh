#!/usr/bin/env bash
# test_shell.sh — `xxx repl shell` driven through a pseudo-terminal
# (tests/cli/shell.exp, expect) against a real xxxd: define a variable, use
# it on the next line, a multi-line block, line editing and history, Ctrl-C
# on a running loop (the session survives), Ctrl-D (the session is deleted).
#
# The shell runs over sessions (POST /api/repl/sessions, .../execute,
# .../interrupt, DELETE): on a server without them this test fails, saying
# so. Needs root and expect. Prints "N passed, N failed".
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
XXXD=$BUILD/xxxd
XXX=$BUILD/xxx
TMP=$(mktemp -d /tmp/xxx-shell.XXXXXX)
FIRST_UID=7330000
SRV_PID=

cleanup() {
  if [ -n "$SRV_PID" ]; then
    # SIGTERM first: xxxd removes its boxes, mounts and cgroups on the way out.
    kill -TERM "$SRV_PID" 2>/dev/null
    for _ in $(seq 1 100); do
      kill -0 "$SRV_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SRV_PID" 2>/dev/null
  fi
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

"$XXXD" --port 0 --state-dir /run/xxx-shelltest --cgroup-name xxx-shelltest \
  --first-uid $FIRST_UID --languages python >"$TMP/out" 2>"$TMP/err" &
SRV_PID=$!
for _ in $(seq 1 600); do
  grep -q 'listening on' "$TMP/out" 2>/dev/null && break
  kill -0 "$SRV_PID" 2>/dev/null || break
  sleep 0.1
done
URL=$(sed -n 's/^xxxd: listening on \(http:[^ ]*\).*/\1/p' "$TMP/out")
if [ -z "$URL" ]; then
  echo "FAIL xxxd did not start:"
  tail -20 "$TMP/err"
  echo "0 passed, 1 failed"
  exit 1
fi

code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST -d '{"language": "python"}' \
  "$URL/api/repl/sessions")
if [ "$code" != 201 ]; then
  echo "FAIL this xxxd has no sessions API: POST /api/repl/sessions answered $code ($(head -c 200 "$TMP/body"))."
  echo "     xxx repl shell runs over sessions; this test passes once they are built in."
  echo "0 passed, 1 failed"
  exit 1
fi
curl -s -o /dev/null -X DELETE "$URL/api/repl/sessions/$(jq -r .id "$TMP/body")"

expect "$ROOT/tests/cli/shell.exp" "$XXX" "$URL" | tee "$TMP/transcript"
rc=${PIPESTATUS[0]}
pass=$(grep -c '^ok ' "$TMP/transcript")
fail=$(grep -c '^FAIL ' "$TMP/transcript")

# Ctrl-D deleted the session: executing in it now is 410 Gone.
sid=$(sed -n 's/^session //p' "$TMP/transcript")
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"code": "1"}' \
  "$URL/api/repl/sessions/$sid/execute")
if [ -n "$sid" ] && [ "$code" = 410 ]; then
  pass=$((pass + 1))
  echo "ok   the session is gone after Ctrl-D"
else
  fail=$((fail + 1))
  echo "FAIL the session is gone after Ctrl-D (execute answered $code)"
fi
[ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
