#!/usr/bin/env bash
# test_ws.sh — interactive runs over WebSocket (GET /api/repl/connect)
# against a real xxxd: live stdin, stdin close, kill, stages, binary
# output, every refusal and its close code, and the CLI's --interactive.
#
# The client is tests/ws/wsclient.py (python3's standard library, RFC 6455
# by hand on the test side only); each scenario prints what it saw, one fact
# per line, and the checks below assert on that transcript. Needs root.
# Prints "N passed, N failed"; exits non-zero on a failure.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
XXXD=$BUILD/xxxd
XXX=$BUILD/xxx
CLIENT=$ROOT/tests/ws/wsclient.py
TMP=$(mktemp -d /tmp/xxx-ws.XXXXXX)
FIRST_UID=7320000

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
SRV_PID=

# shellcheck source=tests/ws/scenario.sh
. "$(dirname "$0")/scenario.sh"
closed_with() { [ "$(tail -1 <<<"$OUT")" == "close $1" ]; }

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

"$XXXD" --port 0 --state-dir /run/xxx-wstest --cgroup-name xxx-wstest --first-uid $FIRST_UID \
  --languages python,c,ruby,php --max-ws-connections 2 --max-body 262144 \
  >"$TMP/out" 2>"$TMP/err" &
SRV_PID=$!
for _ in $(seq 1 600); do
  grep -q 'listening on' "$TMP/out" 2>/dev/null && break
  kill -0 "$SRV_PID" 2>/dev/null || break
  sleep 0.1
done
URL=$(sed -n 's/^xxxd: listening on \(http:[^ ]*\).*/\1/p' "$TMP/out")
if [ -z "$URL" ]; then
  echo "xxxd did not start:"
  tail -20 "$TMP/err"
  echo "0 passed, 1 failed"
  exit 1
fi

echo "== live stdin"
scenario two_lines
# The client sends the second line only once it has read the answer to the
# first (and 500 ms later): if stdin were not live, "got first" could not
# come before "sent second", and the program would wait until its time limit.
check "stage queued, then run" before '"stage": "queued"' '"stage": "run"'
check "the program answers the first line once it is sent" before 'sent first' 'saw got first'
check "... before the second line is sent, and only the first" \
  has 'stdout before the second line "got first\n"'
check "... and the second line after it is sent" has 'stdout "got first\ngot second\n"'
check "... in that order" before 'sent second' 'stdout "got first\ngot second\n"'
check "the result says ok" has '"status": "ok", "success": true, "truncated": false, "type": "result"'
check "close 1000 after the result" closed_with 1000

scenario stdin_close
check "request stdin, text and binary stdin, then EOF" has $'stdout "7 b\'abcde\\\\xff\\\\x00\'\\n"'
check "stdin_close ends stdin (the program saw EOF and finished)" has '"status": "ok"'

scenario compiled
check "a compiled language: stage compile, then run" before '"stage": "compile"' '"stage": "run"'
check "the compiled program reads live stdin" has 'stdout "C got hello\n"'

echo "== signals"
scenario kill
check "SIGKILL cancels the run" has '"status": "cancelled"'
check "close 1000 after the result of a killed run" closed_with 1000
scenario interrupt
check "SIGINT reaches the program, which handles it" has 'stdout "waiting\ninterrupted\n"'
check "... and ends on its own" has '"status": "ok"'
scenario bad_signal
check "an unknown signal is an error message" has '"code": "invalid_signal"'
check "... and the run goes on" has '"status": "ok"'

echo "== output"
scenario binary_output
check "output that is not UTF-8 comes as data_base64" has '"data_base64": "Y2Fm6Qo="'

echo "== refusals"
scenario not_json
check "a first message that is not JSON: invalid_json" has '"code": "invalid_json"'
check "... close 4400" closed_with 4400
scenario wrong_type
check "a first message that is not execute: invalid_message, 4400" \
  eval 'has "\"code\": \"invalid_message\"" && closed_with 4400'
scenario unknown_language
check "an unknown language: unknown_language, 4400" \
  eval 'has "\"code\": \"unknown_language\"" && closed_with 4400'
scenario binary_first
check "a binary first message: 4400" closed_with 4400
scenario oversized
check "a message over --max-body: close 1009" closed_with 1009
scenario session_hook
check "a session execution in an unknown session: not_found, 4404" \
  eval 'has "\"code\": \"not_found\"" && closed_with 4404'
scenario session_exec
check "session executions over WebSocket share the session's state" has '"value": "40"'
check "... their output streams" has 'stdout "21\n"'
check "SIGINT interrupts a session's cell" has '"name": "KeyboardInterrupt"'
check "... and the session lives on" has '"value": "20"'

echo "== live stdin for session cells"
# As for two_lines: "second" is sent only once the answer to "first" was
# seen, 500 ms later, so "got first" before "sent second" proves it live.
for lang in python ruby; do
  if [ $lang = python ]; then
    scenario session_two_lines
    eof='EOFError'
    last="\"value\": \"'second'\""
    interrupt='"name": "KeyboardInterrupt"'
  else
    scenario session_two_lines_ruby
    eof='gets after close: nil'
    last='"value": "\"second\\n\""'
    interrupt='"name": "Interrupt"'
  fi
  check "$lang: a session cell reads the request's stdin, then the first line once it is sent" \
    before 'sent first' 'saw got first'
  check "$lang: ... before the second line is sent, and only those" \
    has 'stdout before the second line "got zero\ngot first\n"'
  check "$lang: ... and the second line after it is sent" before 'sent second' 'got second'
  check "$lang: stdin_close is EOF ($eof)" eval 'before "sent stdin_close" "$eof" && has "$eof"'
  check "$lang: the cell ends ok with the session's state (x + 1)" \
    eval 'has "\"status\": \"ok\"" && has "\"value\": \"42\""'
  check "$lang: what the cell read stays in the session" has "$last"
  check "$lang: SIGINT interrupts a cell that waits for stdin" has "$interrupt"
  check "... and the session lives on (x is 41)" \
    eval 'grep -F "\"type\": \"result\"" <<<"$OUT" | tail -1 | grep -qF "\"value\": \"41\""'
done
scenario session_stdin_bytes
check "a session cell: request stdin, text and binary (base64) stdin, then EOF" \
  has $'stdout "7 b\'abcde\\\\xff\\\\x00\'\\n"'
check "live stdin past 1 MiB per execution is dropped, with an error" \
  eval 'has "\"code\": \"stdin_limit\"" && has "stdout \"read 1048576\\n\""'
scenario session_no_live_stdin
check "stdin for a session whose driver takes none (php): stdin_unsupported" \
  eval 'has "\"code\": \"stdin_unsupported\"" && before "stdin_unsupported" "\"type\": \"result\""'
check "... and the cell still ends ok" has '"value": "42"'

code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$URL/api/repl/connect")
check "a plain GET: 400 invalid_handshake" eval '[ "$code" = 400 ] && grep -q invalid_handshake "$TMP/body"'
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'Upgrade: websocket' -H 'Connection: Upgrade' \
  -H 'Sec-WebSocket-Version: 8' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$URL/api/repl/connect")
check "WebSocket version 8: 426" eval '[ "$code" = 426 ]'
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/api/repl/connect")
check "POST: 405" eval '[ "$code" = 405 ]'

# --max-ws-connections 2: two idle connections fill it.
python3 "$CLIENT" hold "$URL" >"$TMP/h1" 2>&1 &
h1=$!
python3 "$CLIENT" hold "$URL" >"$TMP/h2" 2>&1 &
h2=$!
for _ in $(seq 1 50); do
  grep -q open "$TMP/h1" && grep -q open "$TMP/h2" && break
  sleep 0.1
done
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'Upgrade: websocket' -H 'Connection: Upgrade' \
  -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$URL/api/repl/connect")
check "past --max-ws-connections: 503 too_many_connections" \
  eval '[ "$code" = 503 ] && grep -q too_many_connections "$TMP/body"'
wait $h1 $h2

echo "== a client that leaves"
scenario client_leaves
gone=no
for _ in $(seq 1 50); do
  if [ "$(curl -s "$URL/api/containers/list")" = '{"containers":[]}' ]; then
    gone=yes
    break
  fi
  sleep 0.1
done
check "its run is cancelled and its slot freed" [ "$gone" = yes ]

echo "== xxx repl execute --interactive"
# The CLI forwards its stdin as it arrives: a FIFO written in two steps.
mkfifo "$TMP/in"
"$XXX" --api-url "$URL" repl execute --interactive -l python \
  -c $'a = input()\nprint("one", a, flush=True)\nb = input()\nprint("two", b)' \
  <"$TMP/in" >"$TMP/cli.out" 2>"$TMP/cli.err" &
cli=$!
exec 3>"$TMP/in"
echo alpha >&3
seen=no
for _ in $(seq 1 100); do
  grep -q "one alpha" "$TMP/cli.out" && seen=yes && break
  sleep 0.1
done
OUT=$(cat "$TMP/cli.out" "$TMP/cli.err")
check "the first line reaches the program before the second is written" [ "$seen" = yes ]
echo beta >&3
exec 3>&-
wait $cli
rc=$?
OUT=$(cat "$TMP/cli.out" "$TMP/cli.err")
check "the second line too, and the CLI exits 0" eval '[ "$rc" = 0 ] && [ "$OUT" = $'"'"'one alpha\ntwo beta'"'"' ]'

"$XXX" --api-url "$URL" repl execute --interactive -l python -c 'import sys; sys.exit(3)' </dev/null
rc=$?
check "--interactive exits with the program's status" [ "$rc" = 3 ]

kill -TERM "$SRV_PID"
for _ in $(seq 1 100); do
  kill -0 "$SRV_PID" 2>/dev/null || break
  sleep 0.1
done
wait "$SRV_PID"
rc=$?
SRV_PID=
check "xxxd stops cleanly (exit 0)" [ "$rc" = 0 ]

((fail)) && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
