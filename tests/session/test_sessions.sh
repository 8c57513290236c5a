#!/usr/bin/env bash
# test_sessions.sh — stateful REPL sessions against a real xxxd: state that
# persists, errors that leave it intact, interrupts, limits that end a
# session (410 afterwards), idle expiry, isolation between sessions, one
# execution at a time (409), a full table (429), and 100 sessions at once.
#
# Needs root (xxxd builds real boxes) plus curl and jq. Runs its own server
# with its own state directory, cgroup name and uids. Prints "N passed, N
# failed"; exits non-zero on a failure. BUILD names the build directory.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
XXXD=$BUILD/xxxd
TMP=$(mktemp -d /tmp/xxx-sessions.XXXXXX)
# Host uids of our boxes (2 x 114 slots), far from the other suites'.
FIRST_UID=7350000
MAX_SESSIONS=110

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
SRV_PID=


cleanup() {
  [ -n "$SRV_PID" ] && kill -KILL "$SRV_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

echo "== starting xxxd"
"$XXXD" --port 0 --state-dir /run/xxx-sessions-test --cgroup-name xxx-sessions-test \
  --first-uid $FIRST_UID --languages python,node,ruby,php,bash --sessions $MAX_SESSIONS \
  >"$TMP/out" 2>"$TMP/err" &
SRV_PID=$!
URL=
for _ in $(seq 1 600); do
  if grep -q 'listening on' "$TMP/out" 2>/dev/null; then
    URL=$(sed -n 's/^xxxd: listening on \(http:[^ ]*\).*/\1/p' "$TMP/out")
    break
  fi
  kill -0 "$SRV_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$URL" ]; then
  echo "xxxd did not start:"
  tail -20 "$TMP/err"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "   $URL (pid $SRV_PID)"

# req METHOD PATH [BODY]: leaves the status in CODE and the body in BODY.
req() {
  local data=()
  [ $# -ge 3 ] && data=(-H 'Content-Type: application/json' --data-binary "$3")
  CODE=$(curl -s --max-time 60 -o "$TMP/body" -w '%{http_code}' -X "$1" "${data[@]}" "$URL$2")
  BODY=$(cat "$TMP/body")
}
jfield() { jq -r "$1" <<<"$BODY"; }
error_is() {
  eq "$CODE $(jfield .error.code)" "$1 $2" || return 1
  [ -n "$(jfield .error.message)" ] || { echo "     no message"; return 1; }
}
# new_session LANGUAGE [JSON_FILTER]: creates a session; sets SID.
new_session() {
  req POST /api/repl/sessions "$(jq -cn --arg l "$1" "{language: \$l} | ${2:-.}")"
  SID=$(jfield .id)
}
# run_cell SID CODE [JSON_FILTER]: one execution; CODE/BODY as req.
run_cell() {
  req POST "/api/repl/sessions/$1/execute" "$(jq -cn --arg c "$2" "{code: \$c} | ${3:-.}")"
}
# value_is SID CODE WANT: the cell answers 200 ok with that value.
value_is() {
  run_cell "$1" "$2"
  eq "$CODE $(jfield .status) $(jfield .value)" "200 ok $3"
}

echo "== languages"
req GET /api/repl/languages
check "session_languages are node, php, python, ruby" eq "$(jfield '.session_languages | join(",")')" \
  "node,php,python,ruby"
check "each runtime says whether it has sessions" eq \
  "$(jfield '[.runtimes[] | "\(.language)=\(.sessions)"] | join(" ")')" \
  "bash=false node=true php=true python=true ruby=true"
check "... and whether its session cells take live stdin over the WebSocket" eq \
  "$(jfield '[.runtimes[] | "\(.language)=\(.session_live_stdin)"] | join(" ")')" \
  "bash=false node=false php=false python=true ruby=true"

echo "== state persists; errors and interrupts leave it intact"
# Per language: set, define, import, write a file; then an exception, a
# syntax error and an endless loop, each followed by a look at the state.
declare -A SET=(
  [python]='x = 41'
  [node]='let x = 41'
  [ruby]='x = 41'
  [php]='$x = 41;'
)
declare -A X=([python]=x [node]=x [ruby]=x [php]='$x')
declare -A SYNTAX_NAME=([python]=SyntaxError [node]=SyntaxError [ruby]=SyntaxError [php]=ParseError)
declare -A DEF=(
  [python]=$'def twice(n):\n    return 2 * n\nimport math'
  [node]=$'function twice(n) { return 2 * n }\nconst path = require("path")'
  [ruby]=$'def twice(n) = 2 * n\nrequire "set"'
  [php]=$'function twice($n) { return 2 * $n; }\n$e = new ArrayObject([1]);'
)
declare -A USE=(
  [python]='twice(x + 1), math.floor(2.5)'
  [node]='[twice(x + 1), path.basename("/a/b")]'
  [ruby]='[twice(x + 1), Set.new([1]).size]'
  [php]='[twice($x + 1), count($e)]'
)
declare -A USE_WANT=(
  [python]='(84, 2)'
  [node]="[ 84, 'b' ]"
  [ruby]='[84, 1]'
  [php]=$'array (\n  0 => 84,\n  1 => 1,\n)'
)
declare -A WRITE=(
  [python]='open("note.txt", "w").write("kept")'
  [node]='require("fs").writeFileSync("note.txt", "kept")'
  [ruby]='File.write("note.txt", "kept")'
  [php]='file_put_contents("note.txt", "kept");'
)
declare -A READ=(
  [python]='open("note.txt").read()'
  [node]='require("fs").readFileSync("note.txt", "utf8")'
  [ruby]='File.read("note.txt")'
  [php]='file_get_contents("note.txt")'
)
declare -A READ_WANT=(
  [python]="'kept'"
  [node]="'kept'"
  [ruby]='"kept"'
  [php]="'kept'"
)
declare -A RAISE=([python]='1 / 0' [node]='null.foo' [ruby]='nil.foo' [php]='intdiv(1, 0);')
declare -A RAISE_NAME=([python]=ZeroDivisionError [node]=TypeError [ruby]=NoMethodError [php]=DivisionByZeroError)
declare -A LOOP=([python]='while True: pass' [node]='while (true) {}' [ruby]='loop {}' [php]='while (true) {}')
declare -A PRINT=([python]='print("out")' [node]='console.log("out")' [ruby]='puts "out"' [php]='echo "out\n";')
for lang in python node ruby php; do
  new_session $lang
  check "$lang: create is 201 with id, language, version, created_at, expires_at" eq \
    "$CODE $(jfield '[(.id | length), .language, (.version | type), (.created_at | test("^20[0-9-]+T")), (.expires_at | test("Z$")), .status] | map(tostring) | join(" ")')" \
    "201 32 $lang string true true ready"
  s=$SID
  run_cell $s "${SET[$lang]}"
  check "$lang: set a variable" eq "$CODE $(jfield .status) $(jfield .execution_count)" "200 ok 1"
  check "$lang: the variable persists" value_is $s "${X[$lang]} + 1" 42
  run_cell $s "${DEF[$lang]}"
  check "$lang: define a function, import a module" eq "$CODE $(jfield .status)" "200 ok"
  check "$lang: function and module persist" value_is $s "${USE[$lang]}" "${USE_WANT[$lang]}"
  run_cell $s "${WRITE[$lang]}"
  check "$lang: files in the workdir persist" value_is $s "${READ[$lang]}" "${READ_WANT[$lang]}"
  run_cell $s "${PRINT[$lang]}"
  check "$lang: output is the cell's stdout" eq "$(jq -c '[.stdout, .result]' <<<"$BODY")" '["out\n","out\n"]'
  run_cell $s "${RAISE[$lang]}"
  check "$lang: an exception is runtime_error with error {name, message, traceback}" eq \
    "$CODE $(jfield .status) $(jfield .success) $(jfield .error.name) $(jfield '.error.message | length > 0') $(jfield .session_ended)" \
    "200 runtime_error false ${RAISE_NAME[$lang]} true false"
  check "$lang: ... and the state is intact" value_is $s "${X[$lang]}" 41
  run_cell $s "${X[$lang]} ="
  check "$lang: a syntax error is runtime_error ${SYNTAX_NAME[$lang]}" eq \
    "$(jfield .status) $(jfield .error.name)" "runtime_error ${SYNTAX_NAME[$lang]}"
  check "$lang: ... and the state is intact" value_is $s "${X[$lang]}" 41
  run_cell $s "${LOOP[$lang]}" '. + {timeout_ms: 700}'
  check "$lang: an endless loop is interrupted at its time limit" eq \
    "$CODE $(jfield .status) $(jfield .session_ended) $(jfield '.message | test("interrupted")')" \
    "200 timeout false true"
  check "$lang: ... and the session still answers with its state" value_is $s "${X[$lang]}" 41
  req GET /api/repl/sessions/$s
  check "$lang: GET says ready, with the execution count" eq \
    "$CODE $(jfield .status) $(jfield .execution_count)" "200 ready 13"
  req DELETE /api/repl/sessions/$s
  check "$lang: DELETE is 200" eq "$CODE" 200
  run_cell $s "${X[$lang]}"
  check "$lang: after DELETE, execute is 410 with the reason" error_is 410 session_ended
  check "$lang: ... the reason is deleted" contains "$(jfield .error.message)" "deleted"
done

echo "== python specifics: values as the REPL shows them, stdin, streaming"
new_session python
s=$SID
check "None shows no value" eq "$(run_cell $s 'None'; jfield .value)" "null"
check "strings show their repr" value_is $s '"a" + "b"' "'ab'"
check "only the last expression is shown" value_is $s $'1\n2\n3' 3
run_cell $s 'input() + input()' '. + {stdin: "ab\ncd\n"}'
check "stdin is the cell's, then EOF" eq "$(jfield .value)" "'abcd'"
run_cell $s 'input()'
check "a cell without stdin reads EOF" eq "$(jfield .error.name)" "EOFError"
curl -sN --max-time 30 -X POST -H 'Content-Type: application/json' \
  -d '{"code": "import time\nprint(\"one\")\ntime.sleep(0.3)\nprint(\"two\")\n6 * 7"}' \
  "$URL/api/repl/sessions/$s/execute/stream" >"$TMP/sse"
check "execute/stream sends stdout events as they come" eq \
  "$(grep -A1 '^event: stdout' "$TMP/sse" | grep '^data: .' | tr '\n' ' ')" "data: one data: two "
check "... then result with the value, then done" eq \
  "$(grep -A1 '^event: result' "$TMP/sse" | sed -n 's/^data: //p' | jq -r '"\(.status) \(.value) \(.execution_count)"') $(grep -c '^event: done' "$TMP/sse")" \
  "ok 42 6 1"

echo "== one execution at a time: 409"
curl -s --max-time 30 -X POST -H 'Content-Type: application/json' \
  -d '{"code": "import time; time.sleep(1.5); \"slept\""}' \
  "$URL/api/repl/sessions/$s/execute" >"$TMP/first" &
first=$!
sleep 0.5
run_cell $s '1'
check "a second execution while one runs is 409 session_busy" error_is 409 session_busy
wait $first
check "the first one still completes" eq "$(jq -r .value "$TMP/first")" "'slept'"
check "and the session answers again" value_is $s '1 + 1' 2

echo "== POST /api/repl/sessions/{id}/interrupt (the CLI shell's Ctrl-C)"
new_session python
si=$SID
run_cell $si 'kept = 41'
req POST /api/repl/sessions/$si/interrupt '{}'
check "interrupting an idle session is 200, nothing interrupted" eq \
  "$CODE $(jfield .interrupted)" "200 false"
# The cell prints once it runs, then loops; the interrupt is sent only
# after that line is in the streamed answer, so it lands inside the cell.
: >"$TMP/intr.sse"
curl -s -N --max-time 60 -X POST -H 'Content-Type: application/json' \
  --data-binary "$(jq -cn --arg c $'print("looping", flush=True)\nwhile True: pass' '{code: $c, timeout_ms: 30000}')" \
  "$URL/api/repl/sessions/$si/execute/stream" >"$TMP/intr.sse" &
cpid=$!
for _ in $(seq 1 300); do grep -q looping "$TMP/intr.sse" && break; sleep 0.05; done
req POST /api/repl/sessions/$si/interrupt '{}'
check "interrupting a running cell is 200, interrupted" eq "$CODE $(jfield .interrupted)" "200 true"
wait $cpid
check "the cell ends with KeyboardInterrupt, long before its 30 s limit" contains \
  "$(grep '^data: {' "$TMP/intr.sse" | tail -1)" '"name":"KeyboardInterrupt"'
check "the session kept its state" value_is $si 'kept + 1' 42
req POST /api/repl/sessions/nosuchsession/interrupt '{}'
check "interrupting an unknown session is 404" error_is 404 not_found
req DELETE /api/repl/sessions/$si
req POST /api/repl/sessions/$si/interrupt '{}'
check "interrupting an ended session is 410" error_is 410 session_ended

echo "== a cell that ignores the interrupt ends the session: timeout, then 410"
run_cell $s $'import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(30)' \
  '. + {timeout_ms: 300}'
check "the execution answers timeout and session_ended" eq \
  "$CODE $(jfield .status) $(jfield .session_ended)" "200 timeout true"
run_cell $s '1'
check "later calls are 410 with the reason" error_is 410 session_ended
check "... which is timeout" contains "$(jfield .error.message)" "timeout"

echo "== a memory bomb ends the session with memory_limit, then 410"
new_session python '. + {limits: {memory_mb: 64}}'
s=$SID
check "limits are the session's" eq "$(jfield .limits.memory_mb)" 64
run_cell $s 'x = 1'
run_cell $s $'a = []\nwhile True: a.append(bytearray(1 << 20))'
check "the execution answers memory_limit, session_ended" eq \
  "$CODE $(jfield .status) $(jfield .session_ended)" "200 memory_limit true"
run_cell $s 'x'
check "a later execution is 410" error_is 410 session_ended
check "... saying memory_limit" contains "$(jfield .error.message)" "memory_limit"
req GET /api/repl/sessions/$s
check "GET of the ended session is 410 too" error_is 410 session_ended

echo "== idle expiry"
new_session python '. + {idle_timeout_s: 1}'
s=$SID
check "idle_timeout_s is the request's" eq "$(jfield .idle_timeout_s)" 1
run_cell $s 'x = 1'
sleep 2.5
run_cell $s 'x'
check "an idle session expires: 410" error_is 410 session_ended
check "... saying expired" contains "$(jfield .error.message)" "expired"

echo "== two sessions cannot see each other's variables, files or processes"
new_session python
a=$SID
new_session python
b=$SID
run_cell $a $'import subprocess\nsecret = 1\nopen("secret.txt", "w").write("s")\np = subprocess.Popen(["sleep", "300"])\np.pid'
check "A sets a variable, writes a file, starts a process" eq "$(jfield .status)" ok
check "B does not see A's variable" value_is $b "'secret' in globals()" False
check "B does not see A's file" value_is $b "import os; os.path.exists('secret.txt')" False
check "B does not see A's process" value_is $b \
  "import os; any(b'sleep' in open(f'/proc/{p}/cmdline', 'rb').read() for p in os.listdir('/proc') if p.isdigit())" \
  False
check "A still sees its own process" value_is $a \
  "import os; any(b'sleep' in open(f'/proc/{p}/cmdline', 'rb').read() for p in os.listdir('/proc') if p.isdigit())" \
  True
req DELETE /api/repl/sessions/$a
req DELETE /api/repl/sessions/$b

echo "== refusals"
req POST /api/repl/sessions '{"language": "bash"}'
check "a language without a driver is 400 sessions_unsupported" error_is 400 sessions_unsupported
check "... naming those that have one" contains "$(jfield .error.message)" "node, php, python, ruby"
req POST /api/repl/sessions '{"language": "cobol"}'
check "an unknown language is 400" error_is 400 unknown_language
req POST /api/repl/sessions '{"language": "python", "idle_timeout_s": 0}'
check "idle_timeout_s must be positive" error_is 400 invalid_field
req POST /api/repl/sessions/0123456789abcdef0123456789abcdef/execute '{"code": "1"}'
check "an unknown session is 404" error_is 404 not_found
new_session python
s=$SID
req POST /api/repl/sessions/$s/execute '{"cell": "1"}'
check "execute without code is 400" error_is 400 missing_field
req PUT /api/repl/sessions/$s
check "PUT on a session is 405" error_is 405 method_not_allowed
req DELETE /api/repl/sessions/$s

echo "== 100 sessions at once, then a full table"
seq 1 100 | xargs -P 16 -I{} curl -s --max-time 120 -o "$TMP/c{}" -w '%{http_code}\n' \
  -X POST -d '{"language": "python"}' "$URL/api/repl/sessions" >"$TMP/codes"
check "100 concurrent creates are all 201" eq "$(sort "$TMP/codes" | uniq -c | awk '{print $1, $2}')" "100 201"
for i in $(seq 1 100); do jq -r .id "$TMP/c$i"; done >"$TMP/ids"
paste -d' ' <(seq 1 100) "$TMP/ids" |
  xargs -P 16 -n 2 sh -c 'curl -s --max-time 120 -X POST -d "{\"code\": \"n = $0\"}" "'"$URL"'/api/repl/sessions/$1/execute" >/dev/null'
paste -d' ' <(seq 1 100) "$TMP/ids" |
  xargs -P 16 -n 2 sh -c 'curl -s --max-time 120 -X POST -d "{\"code\": \"n * 1000\"}" "'"$URL"'/api/repl/sessions/$1/execute" | jq -r "\"$0 \(.value)\""' |
  sort -n >"$TMP/values"
check "each of the 100 answers with its own state" eq "$(awk '$2 == $1 * 1000' "$TMP/values" | wc -l)" 100
req GET /api/repl/sessions
check "the list shows 100 live sessions of max $MAX_SESSIONS" eq \
  "$(jfield '"\(.count) \(.max_sessions) \(.sessions | length)"')" "100 $MAX_SESSIONS 100"
for _ in $(seq 1 $((MAX_SESSIONS - 100))); do req POST /api/repl/sessions '{"language": "python"}'; done
check "the table fills up to max" eq "$CODE" 201
req POST /api/repl/sessions '{"language": "python"}'
check "one more session is 429 too_many_sessions" error_is 429 too_many_sessions

echo "== SIGTERM ends every session and removes every box"
kill -TERM "$SRV_PID"
for _ in $(seq 1 300); do
  kill -0 "$SRV_PID" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$SRV_PID" 2>/dev/null; then
  kill -KILL "$SRV_PID"
fi
wait "$SRV_PID"
check "xxxd exits 0" eq "$?" 0
SRV_PID=
check "no process of our boxes is left" \
  bash -c "! ps -eo uid= | awk '\$1 >= $FIRST_UID && \$1 < $((FIRST_UID + 4 * MAX_SESSIONS))' | grep -q ."

((fail)) && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
