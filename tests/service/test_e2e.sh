#!/usr/bin/env bash
# test_e2e.sh — a real xxxd on a free loopback port, driven through raw HTTP
# (curl) and the xxx CLI: every endpoint and error path of issue 3.
#
# Needs root (xxxd builds real boxes) plus curl and jq. Runs its own servers
# with their own state directory, cgroup name and uids, so it can share the
# host with another xxxd. Prints "N passed, N failed"; exits non-zero on a
# failure. BUILD names the build directory (default: build).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
XXXD=$BUILD/xxxd
XXX=$BUILD/xxx
PROGRAMS=$ROOT/tests/service/programs
TMP=$(mktemp -d /tmp/xxx-e2e.XXXXXX)
PY=/usr/bin/python3
# Host uids of our boxes: far from what other suites pick, so that "no
# process of ours is left" cannot see theirs.
FIRST_UID=7310000

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
servers=()


cleanup() {
  for p in "${servers[@]}"; do
    kill -KILL "$p" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

# wait_exit PID SECONDS: waits for a server to exit; kills it after SECONDS.
# Returns its exit status (137 when it had to be killed).
wait_exit() {
  local pid=$1 limit=$2
  for _ in $(seq 1 $((limit * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "     pid $pid still running after ${limit}s: killing it"
    kill -KILL "$pid"
  fi
  wait "$pid"
}

# start_server NAME UID [xxxd options...]: starts xxxd on a free port; sets
# SRV_PID and URL. The port is the one xxxd reports (it binds port 0).
start_server() {
  local name=$1 uid=$2
  shift 2
  "$XXXD" --port 0 --state-dir "/run/xxx-e2e-$name" --cgroup-name "xxx-e2e-$name" \
    --first-uid "$uid" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  SRV_PID=$!
  servers+=("$SRV_PID")
  for _ in $(seq 1 600); do
    if grep -q 'listening on' "$TMP/$name.out" 2>/dev/null; then
      URL=$(sed -n 's/^xxxd: listening on \(http:[^ ]*\).*/\1/p' "$TMP/$name.out")
      return 0
    fi
    kill -0 "$SRV_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "xxxd $name did not start:"
  tail -20 "$TMP/$name.err"
  return 1
}

# post PATH BODY: POSTs, leaves the status in CODE, the body in BODY, headers in HDRS.
post() {
  CODE=$(curl -s --max-time 60 -o "$TMP/body" -D "$TMP/hdrs" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' --data-binary "$2" "$URL$1")
  BODY=$(cat "$TMP/body")
  HDRS=$(cat "$TMP/hdrs")
}
get() {
  CODE=$(curl -s --max-time 60 -o "$TMP/body" -D "$TMP/hdrs" -w '%{http_code}' -X "${2:-GET}" "$URL$1")
  BODY=$(cat "$TMP/body")
  HDRS=$(cat "$TMP/hdrs")
}
jfield() { jq -r "$1" <<<"$BODY"; }
# code_req LANGUAGE CODE [JQ_FILTER]: a request body built by jq (no quoting
# by hand), optionally passed through one more filter (e.g. adding limits).
code_req() {
  jq -cn --arg l "$1" --arg c "$2" "{language: \$l, code: \$c} | ${3:-.}"
}

# error_is STATUS CODE: the last answer is that status with {"error": {"code": CODE, message}}.
error_is() {
  eq "$CODE" "$1" || return 1
  eq "$(jfield .error.code)" "$2" || return 1
  [ -n "$(jfield .error.message)" ] || { echo "     no message"; return 1; }
}

echo "== starting xxxd"
if ! start_server main $FIRST_UID --queue 6 --max-wall-ms 20000 --stream-buffer-mb 2; then
  echo "0 passed, 1 failed"
  exit 1
fi
MAIN_PID=$SRV_PID
MAIN_URL=$URL
echo "   $URL (pid $MAIN_PID)"

echo "== health, languages, help"
get /health
check "GET /health is 200 ok" eq "$CODE $(jfield .status)" "200 ok"
get /api/repl/languages
check "languages lists all twelve" eq "$(jfield '.languages | sort | join(",")')" \
  "bash,c,cpp,go,java,lua,node,perl,php,python,ruby,rust"
check "languages carry real versions" eq "$(jfield '[.runtimes[] | select(.version == null or .version == "")] | length')" "0"
check "python's version is the host's" eq "$(jfield '.runtimes[] | select(.language == "python") | .version')" \
  "$($PY -c 'import platform; print(platform.python_version())')"
check "node has aliases javascript and js" eq "$(jfield '.runtimes[] | select(.language == "node") | .aliases | map(select(. == "js" or . == "javascript")) | length')" "2"
check "compiled flags" eq "$(jfield '[.runtimes[] | select(.compiled) | .language] | join(",")')" "c,cpp,go,java,rust"
help=$("$XXXD" --help)
check "xxxd --help lists flags, env and defaults" contains "$help" "--port N"
check "xxxd --help names XXX_PORT and default 3002" contains "$help" "env XXX_PORT, default 3002"
check "xxxd --help has max-body default" contains "$help" "default 1048576"
quiet() { "$@" >/dev/null 2>&1; }
check "xxx --help" quiet "$XXX" --help
check "xxx repl execute --help" quiet "$XXX" repl execute --help
check "xxx container create --help" quiet "$XXX" container create --help
check "xxx container list --help" quiet "$XXX" container list --help

echo "== the description's examples through the CLI"
export XXX_API_URL=$URL
out=$("$XXX" repl execute --language python --code 'print(2 + 2)')
check "cli python 2+2" eq "$out" "4"
out=$("$XXX" repl execute --language node --code 'console.log(10 * 5)')
check "cli node 10*5" eq "$out" "50"
out=$("$XXX" repl execute --language ruby --code 'puts 7 + 3')
check "cli ruby 7+3" eq "$out" "10"
out=$("$XXX" repl execute --language go --code $'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println(15 + 5) }')
check "cli go 15+5" eq "$out" "20"
out=$("$XXX" repl execute --language rust --code 'fn main() { println!("{}", 12 + 8) }')
check "cli rust 12+8" eq "$out" "20"
out=$("$XXX" repl execute --api-url "$URL" --language javascript --code 'console.log("alias")')
check "cli --api-url and alias javascript" eq "$out" "alias"
out=$("$XXX" repl execute --language python --code "for i in range(3): print(f'Hello from Python! Line {i}')")
check "cli description loop" eq "$out" $'Hello from Python! Line 0\nHello from Python! Line 1\nHello from Python! Line 2'

echo "== the same examples through raw HTTP"
example() { # name lang code want
  post /api/repl/execute "$(code_req "$2" "$3")"
  check "http $1" eq "$CODE|$(jfield .result)|$(jfield .success)|$(jfield .status)|$(jfield .exit_code)" "200|$4|true|ok|0"
}
example "python 2+2" python 'print(2 + 2)' 4
example "node 10*5" node 'console.log(10 * 5)' 50
example "ruby 7+3" ruby 'puts 7 + 3' 10
example "go 15+5" go $'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println(15 + 5) }' 20
example "rust 12+8" rust 'fn main() { println!("{}", 12 + 8) }' 20
post /api/repl/execute "$(code_req python 'print(1)')"
check "answer has id, language, version, stats, limits" eq \
  "$(jfield '[(.id | length), .language, (.version | type), (.stats.wall_ms | type), (.stats.memory_bytes | type), (.limits.wall_ms | type), .truncated, .stdout, .stderr] | map(tostring) | join(" ")')" \
  "32 python string number number number false 1"$'\n'" "
check "X-Request-Id header" contains "$HDRS" "X-Request-Id:"

echo "== one program per language: stdin, two args, a second file"
for f in "$PROGRAMS"/*; do
  base=$(basename "$f")
  lang=${base%%.*}
  body=$(jq -cn --arg l "$lang" --rawfile c "$f" \
    '{language: $l, code: $c, stdin: "from-stdin\n", args: ["a b", "c"],
      files: [{name: "data.txt", content: "file-data\n"}]}')
  post /api/repl/execute "$body"
  check "$lang: stdin, args, file" eq "$CODE|$(jfield .status)|$(jfield .stdout)" \
    "200|ok|from-stdin|a b|c|file-data"
done
b64=$(printf 'line-one\n' | base64)
body=$(jq -cn --arg b "$b64" '{language: "python", code: "print(open(\"sub/dir/f.bin\").read(), end=\"\")",
  files: [{name: "sub/dir/f.bin", content: $b, encoding: "base64"}]}')
post /api/repl/execute "$body"
check "base64 file in a nested directory" eq "$(jfield .stdout)" "line-one"
printf 'print("from a file")\n' >"$TMP/prog.py"
check "cli --file" eq "$("$XXX" repl execute -l python --file "$TMP/prog.py")" "from a file"
check "cli code on stdin" eq "$(printf 'print(6 * 7)\n' | "$XXX" repl execute -l python)" "42"
check "cli --stdin and --arg" eq "$("$XXX" repl execute -l python -c 'import sys; print(input(), sys.argv[1:])' --stdin 'in' --arg x --arg 'y z')" "in ['x', 'y z']"
echo 'payload' >"$TMP/put.txt"
check "cli --put" eq "$("$XXX" repl execute -l bash -c 'cat extra.txt' --put "extra.txt=$TMP/put.txt")" "payload"

echo "== exit status, stdout and stderr through the CLI"
"$XXX" repl execute -l python -c 'import sys; print("out"); print("err", file=sys.stderr); sys.exit(7)' \
  >"$TMP/o" 2>"$TMP/e"
rc=$?
check "cli exit status is the program's" eq "$rc" 7
check "cli stdout to stdout" eq "$(cat "$TMP/o")" "out"
check "cli stderr to stderr" eq "$(cat "$TMP/e")" "err"
"$XXX" repl execute -l python -c 'import os, signal; os.kill(os.getpid(), signal.SIGKILL)' 2>/dev/null
check "cli: killed by SIGKILL exits 137" eq "$?" 137
"$XXX" repl execute -l python -c 'while True: pass' --wall-ms 500 --cpu-ms 400 2>"$TMP/e"
check "cli: time limit exits 124" eq "$?" 124
check "cli: time limit is explained" contains "$(cat "$TMP/e")" "timeout"
out=$("$XXX" repl execute -l python -c 'print("j")' --json)
check "cli --json prints the whole result" eq "$(jq -r '.status + " " + .stdout' <<<"$out")" "ok j"

echo "== streaming"
# One write per line: print() under PYTHONUNBUFFERED writes text and newline
# separately, and the box may read them as two chunks.
body=$(code_req python $'import sys, time\nsys.stdout.write("first\\n")\ntime.sleep(1)\nsys.stdout.write("second\\n")')
curl -sN --max-time 60 -X POST --data-binary "$body" "$URL/api/repl/execute/stream" |
  while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$TMP/sse"
t_first=$(awk '$2 == "data:" && $3 == "first" {print $1; exit}' "$TMP/sse")
t_done=$(awk '$2 == "event:" && $3 == "done" {print $1; exit}' "$TMP/sse")
check "stream: first chunk arrives before the program ends" \
  $PY -c "import sys; sys.exit(0 if float('$t_done') - float('${t_first:-0}') > 0.7 and '$t_first' else 1)"
check "stream: events are stdout, stdout, result, done" eq \
  "$(awk '$2 == "event:" {printf "%s ", $3}' "$TMP/sse")" "stdout stdout result done "
check "stream: every event has an id, counting from 1" eq \
  "$(awk '$2 == "id:" {printf "%s ", $3}' "$TMP/sse")" "1 2 3 4 "
result=$(awk '$2 == "event:" && $3 == "result" {getline; sub(/^[^ ]+ data: /, ""); print; exit}' "$TMP/sse")
check "stream: result event is the answer without output" eq \
  "$(jq -r '[.status, .exit_code, has("stdout"), has("result")] | map(tostring) | join(" ")' <<<"$result")" "ok 0 false false"
body=$(code_req python 'import sys; sys.stdout.write("a\nb\n\nc\n")')
curl -sN --max-time 60 -X POST --data-binary "$body" "$URL/api/repl/execute/stream" >"$TMP/sse2"
check "stream: multi-line chunk split into data lines" eq \
  "$(sed -n '/^event: stdout$/,/^$/p' "$TMP/sse2")" $'event: stdout\ndata: a\ndata: b\ndata: \ndata: c\ndata: '
"$XXX" repl execute -l python --streaming -c $'import sys, time\nprint("live")\nsys.stdout.flush()\nprint("to err", file=sys.stderr)\nsys.exit(3)' \
  >"$TMP/o" 2>"$TMP/e"
rc=$?
check "cli --streaming: stdout, stderr, exit status" eq "$rc|$(cat "$TMP/o")|$(cat "$TMP/e")" "3|live|to err"
start=$EPOCHREALTIME
"$XXX" repl execute -l python --streaming -c $'import time\nprint("early", flush=True)\ntime.sleep(1.5)\nprint("late")' |
  { IFS= read -r first; printf '%s\n' "$EPOCHREALTIME" >"$TMP/t_first"; cat >/dev/null; }
check "cli --streaming prints before the program ends" \
  $PY -c "import sys; sys.exit(0 if float(open('$TMP/t_first').read()) - float('$start') < 1.2 else 1)"
for lang in node ruby perl lua bash c php; do
  case $lang in
  node) code='console.log("t1"); setTimeout(() => console.log("t2"), 1000);' ;;
  ruby) code=$'puts "t1"\nsleep 1\nputs "t2"' ;;
  perl) code=$'print "t1\\n";\nsleep 1;\nprint "t2\\n";' ;;
  lua) code=$'print("t1")\nlocal t = os.time() + 1\nwhile os.time() < t do end\nos.execute("sleep 1")\nprint("t2")' ;;
  bash) code=$'echo t1\nsleep 1\necho t2' ;;
  c) code=$'#include <stdio.h>\n#include <unistd.h>\nint main(void) { puts("t1"); sleep(1); puts("t2"); return 0; }' ;;
  php) code=$'<?php\necho "t1\\n";\nsleep(1);\necho "t2\\n";' ;;
  esac
  curl -sN --max-time 60 -X POST --data-binary "$(code_req $lang "$code")" \
    "$URL/api/repl/execute/stream" |
    while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$TMP/sse-$lang"
  t1=$(awk '$2 == "data:" && $3 == "t1" {print $1; exit}' "$TMP/sse-$lang")
  t2=$(awk '$2 == "data:" && $3 == "t2" {print $1; exit}' "$TMP/sse-$lang")
  check "stream is live in $lang (no pipe buffering)" \
    $PY -c "import sys; sys.exit(0 if '$t1' and '$t2' and float('$t2') - float('$t1') > 0.7 else 1)"
done

echo "== compile errors"
compile_error() { # lang code
  post /api/repl/execute "$(code_req "$1" "$2")"
  check "$1 compile error: 200, status, compiler output" eq \
    "$CODE|$(jfield .status)|$(jfield .success)|$(jfield '.compile.output | length > 0')|$(jfield .exit_code)" \
    "200|compile_error|false|true|null"
}
compile_error c 'int main(void) { return missing; }'
compile_error cpp 'int main() { return missing; }'
compile_error go $'package main\n\nfunc main() { undefined() }'
compile_error rust 'fn main() { let x: i32 = "s"; }'
compile_error java 'public class Main { public static void main(String[] a) { int x = "s"; } }'
"$XXX" repl execute -l c -c 'int main(void) { return missing; }' >"$TMP/o" 2>"$TMP/e"
rc=$?
check "cli compile error: compiler's status and output on stderr" eq "$rc|$(grep -q "error: .*missing.* undeclared" "$TMP/e" && echo yes)" "1|yes"
body=$(code_req go $'package main\n\nfunc main() { undefined() }')
curl -sN --max-time 60 -X POST --data-binary "$body" "$URL/api/repl/execute/stream" >"$TMP/sse3"
result=$(sed -n '/^event: result$/{n;s/^data: //p}' "$TMP/sse3")
check "streamed compile error keeps the compiler output" eq \
  "$(jq -r '.status + " " + (.compile.output | test("undefined") | tostring)' <<<"$result")" "compile_error true"

echo "== malformed and hostile requests"
post /api/repl/execute '{"language": "python", "code": '
check "bad JSON: 400 invalid_json" error_is 400 invalid_json
post /api/repl/execute '[1, 2]'
check "not an object: 400" error_is 400 invalid_json
post /api/repl/execute ''
check "empty body: 400" error_is 400 invalid_json
post /api/repl/execute '{"language": 5, "code": "x"}'
check "language not a string: 400 invalid_field" error_is 400 invalid_field
post /api/repl/execute '{"language": "python", "code": {"a": 1}}'
check "code not a string: 400 invalid_field" error_is 400 invalid_field
post /api/repl/execute '{"language": "python", "code": "x", "args": "a"}'
check "args not an array: 400" error_is 400 invalid_field
post /api/repl/execute '{"language": "python", "code": "x", "args": [1]}'
check "args element not a string: 400" error_is 400 invalid_field
post /api/repl/execute '{"language": "python", "code": "x", "limits": {"wall_ms": "fast"}}'
check "limit not a number: 400" error_is 400 invalid_field
post /api/repl/execute '{"language": "python", "code": "x", "files": [{"name": "../../etc/x", "content": ""}]}'
check "file name escaping the workdir: 400" error_is 400 invalid_field
post /api/repl/execute '{"code": "x"}'
check "missing language: 400 missing_field" error_is 400 missing_field
post /api/repl/execute '{"language": "cobol", "code": "x"}'
check "unknown language: 400 listing the known ones" eq "$CODE|$(jfield .error.code)|$(jfield '.error.message | test("known languages: bash, c, cpp, go")')" "400|unknown_language|true"
post /api/repl/execute '{"language": "python", "code": "x", "version": "2.7"}'
check "unavailable version: 400" error_is 400 unknown_version
post /api/repl/execute '{"language": "python", "code": "x", "code": "y"}'
check "duplicate keys: 400" error_is 400 invalid_json
printf '{"language": "python", "code": "print(1)\x00"}' >"$TMP/nul.json"
CODE=$(curl -s --max-time 60 -o "$TMP/body" -w '%{http_code}' -X POST --data-binary @"$TMP/nul.json" "$URL/api/repl/execute")
BODY=$(cat "$TMP/body")
check "raw NUL byte in the body: 400" error_is 400 invalid_json
post /api/repl/execute '{"language": "python", "code": "import sys\nprint(open(sys.argv[0], \"rb\").read()[-3:])\n#\u0000"}'
check "escaped NUL in code reaches the box byte-exact" eq "$CODE|$(jfield .stdout)" "200|b'\\n#\\x00'"
post /api/repl/execute '{"language": "python", "code": "print(repr(open(\"f\").read()))", "files": [{"name": "f", "content": "a\u0000b"}]}'
check "escaped NUL in a file reaches the box" eq "$(jfield .stdout)" "'a\\x00b'"
post /api/repl/execute '{"language": "python", "code": "import sys; print(sys.argv[1:])", "args": ["a\u0000b"]}'
check "NUL in an argument: 400 (argv cannot carry it)" error_is 400 invalid_field
post /api/repl/execute '{"language": "python", "code": "import sys; print(repr(sys.stdin.read()))", "stdin": "a\u0000b"}'
check "NUL in stdin is delivered" eq "$(jfield .stdout)" "'a\\x00b'"
post /api/containers/create '{"image": "bash", "command": ["cat"], "stdin": "no newline at the end", "limits": {"wall_ms": 3000}}'
check "stdin without a final newline ends with EOF (cat returns)" eq "$(jfield .status)|$(jfield .stdout)" "ok|no newline at the end"
head -c 2000000 /dev/zero | tr '\0' 'a' >"$TMP/big"
CODE=$(curl -s --max-time 60 -o "$TMP/body" -w '%{http_code}' -X POST -H 'Expect:' --data-binary @"$TMP/big" "$URL/api/repl/execute")
BODY=$(cat "$TMP/body")
check "2 MB body: 413" error_is 413 payload_too_large
CODE=$(curl -s --max-time 60 -o "$TMP/body" -w '%{http_code}' -X POST -H 'Expect: 100-continue' --data-binary @"$TMP/big" "$URL/api/repl/execute")
BODY=$(cat "$TMP/body")
check "2 MB body with Expect: 100-continue: 413" error_is 413 payload_too_large
CODE=$(curl -s --max-time 60 -o "$TMP/body" -w '%{http_code}' -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/big" "$URL/api/repl/execute")
BODY=$(cat "$TMP/body")
check "2 MB chunked body: 413" error_is 413 payload_too_large
get /health
check "the server still answers after the big bodies" eq "$CODE" 200
get /api/nothing
check "unknown path: 404" error_is 404 not_found
get /api/repl/execute
check "GET on a POST route: 405" error_is 405 method_not_allowed
check "405 says what is allowed" contains "$HDRS" "Allow: POST"
post /health '{}'
check "POST on /health: 405" error_is 405 method_not_allowed
get /api/containers/ffffffffffffffffffffffffffffffff DELETE
check "DELETE unknown id: 404" error_is 404 not_found

echo "== output that is not UTF-8"
post /api/repl/execute "$(code_req python 'import sys; sys.stdout.buffer.write(b"ok \xff\xfe\x00 end\n")')"
check "binary output: valid JSON with U+FFFD" eq "$(jfield '.stdout == "ok \ufffd\ufffd\u0000 end\n"')" true
check "binary output: exact bytes in stdout_base64" eq \
  "$(jfield .stdout_base64 | base64 -d | od -An -tx1 | tr -d ' \n')" "6f6b20fffe0020656e640a"
check "binary output: result_base64 too" eq "$(jfield '.result_base64 != null')" "true"
post /api/repl/execute "$(code_req python 'print("plain")')"
check "UTF-8 output has no base64 twin" eq "$(jfield 'has("stdout_base64")')" "false"
body=$(code_req python 'import sys; sys.stdout.buffer.write(b"\xff\xfe"); sys.stdout.flush()')
curl -sN --max-time 60 -X POST --data-binary "$body" "$URL/api/repl/execute/stream" >"$TMP/sse4"
check "streamed binary chunk: stdout_base64 event" eq \
  "$(sed -n '/^event: stdout_base64$/{n;s/^data: //p}' "$TMP/sse4" | base64 -d | od -An -tx1 | tr -d ' \n')" "fffe"
"$XXX" repl execute -l python -c 'import sys; sys.stdout.buffer.write(b"\xff\x00\xfe")' >"$TMP/o"
check "cli writes the exact bytes" eq "$(od -An -tx1 "$TMP/o" | tr -d ' \n')" "ff00fe"
"$XXX" repl execute -l python --streaming -c 'import sys; sys.stdout.buffer.write(b"\xff\r\n")' >"$TMP/o"
check "cli --streaming writes the exact bytes" eq "$(od -An -tx1 "$TMP/o" | tr -d ' \n')" "ff0d0a"

echo "== limits"
post /api/repl/execute "$(code_req python 'print(1)' '. + {limits: {wall_ms: 99999999, memory_mb: 99999999}}')"
check "request limits are capped by the server maxima" eq "$(jfield '.limits.wall_ms')" 20000
post /api/repl/execute "$(code_req python 'while True: pass' '. + {limits: {wall_ms: 300, cpu_ms: 5000}}')"
check "wall limit: status timeout" eq "$(jfield .status)|$(jfield '.message | test("wall-clock")')" "timeout|true"
post /api/repl/execute "$(code_req python 'print("x" * 100000)' '. + {limits: {output_bytes: 1000}}')"
check "output limit: status output_limit, truncated" eq "$(jfield .status)|$(jfield .truncated)" "output_limit|true"

echo "== container API"
post /api/containers/create '{"image": "python:3.11-slim", "command": ["python3", "-c", "print(\"Hello\")"]}'
check "create: id, message, output" eq "$CODE|$(jfield '.id | length')|$(jfield .message)|$(jfield .output)|$(jfield .exit_code)" \
  "200|32|Container executed successfully|Hello|0"
post /api/containers/create '{"image": "docker.io/library/node:20", "command": ["node", "-e", "process.exit(4)"]}'
check "create: non-zero exit" eq "$(jfield .status)|$(jfield .exit_code)|$(jfield .message)" "runtime_error|4|Container exited with code 4"
post /api/containers/create '{"image": "python"}'
check "create without command: 400" error_is 400 missing_field
post /api/containers/create '{"image": "cobol:1", "command": ["x"]}'
check "create with unknown image: 400" error_is 400 unknown_language
curl -sN --max-time 60 -X POST --data-binary '{"image": "bash", "command": ["bash", "-c", "echo one; echo two >&2"]}' \
  "$URL/api/containers/create/stream" >"$TMP/sse5"
check "create/stream: stdout, stderr, result, done" eq \
  "$(grep '^event:' "$TMP/sse5" | sort | tr '\n' ' ')" "event: done event: result event: stderr event: stdout "
check "create/stream result has the container message" eq \
  "$(sed -n '/^event: result$/{n;s/^data: //p}' "$TMP/sse5" | jq -r .message)" "Container executed successfully"
out=$("$XXX" container create --image python:3.11-slim -- python3 -c "print('Hello')")
check "cli container create" eq "$out" "Hello"
get /api/containers/list
check "list: empty when idle" eq "$CODE|$(jfield '.containers | length')" "200|0"
check "cli container list when idle" contains "$("$XXX" container list)" "no boxes"
body=$(code_req python $'import time\ntime.sleep(30)')
curl -s --max-time 60 -X POST --data-binary "$body" "$URL/api/repl/execute" >"$TMP/long.json" &
long_pid=$!
id=""
for _ in $(seq 1 200); do
  get /api/containers/list
  id=$(jfield '.containers[0].id // empty')
  # running, and past box_acquire (a worker takes the run, then the slot)
  [ -n "$id" ] && [ "$(jfield '.containers[0].state')" == running ] &&
    [ "$(jfield '.containers[0].slot | type')" == number ] && break
  sleep 0.1
done
check "list shows the running box" eq "$(jfield '.containers[0] | [.language, .state, .kind, (.slot | type)] | join(" ")')" "python running repl number"
check "cli container list shows it" contains "$("$XXX" container list)" "$id"
get "/api/containers/$id" DELETE
check "DELETE a running box: 200" eq "$CODE|$(jfield .id)" "200|$id"
wait "$long_pid"
check "its waiting client gets status cancelled" eq "$(jq -r .status "$TMP/long.json")" cancelled
get /api/containers/list
check "list is empty again" eq "$(jfield '.containers | length')" 0
get "/api/containers/$id" DELETE
check "DELETE it again: 404" error_is 404 not_found
"$XXX" container remove "$id" 2>"$TMP/e"
check "cli container remove of a gone id: 125 and a message" eq "$?|$(grep -c not_found "$TMP/e")" "125|1"

echo "== a streaming client that goes away cancels its run"
body=$(code_req python $'import time\ntime.sleep(30)')
curl -sN --max-time 1.5 -X POST --data-binary "$body" "$URL/api/repl/execute/stream" >/dev/null 2>&1
gone=no
for _ in $(seq 1 200); do
  get /api/containers/list
  [ "$(jfield '.containers | length')" == 0 ] && gone=yes && break
  sleep 0.1
done
check "disconnected stream: its box is gone within seconds" eq "$gone" yes
check "its request was logged as cancelled" \
  bash -c "grep '\"msg\":\"request\"' '$TMP/main.err' | jq -e -s 'map(select(.path == \"/api/repl/execute/stream\" and .run_status == \"cancelled\")) | length >= 1' >/dev/null"

echo "== a reader that never reads stalls nobody"
body=$(code_req python 'print(("y" * 99 + "\n") * 8000)')
$PY - "$URL" "$body" >"$TMP/slow.out" 2>&1 <<'EOF' &
import socket, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); body = sys.argv[2].encode()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((u.hostname, u.port))
s.sendall(b"POST /api/repl/execute/stream HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
time.sleep(6)
s.close()
EOF
slow_pid=$!
sleep 0.5
t0=$EPOCHREALTIME
out=$("$XXX" repl execute -l python -c 'print("meanwhile")')
t1=$EPOCHREALTIME
check "other clients are served while it does not read" eq "$out" meanwhile
check "... promptly" $PY -c "import sys; sys.exit(0 if float('$t1') - float('$t0') < 2 else 1)"
done_run=no
# Under the 6 s the client holds the stream unread: the run must end while it does.
for _ in $(seq 1 40); do
  get /api/containers/list
  [ "$(jfield '.containers | length')" == 0 ] && done_run=yes && break
  sleep 0.1
done
check "the unread run still finished and gave its slot back" eq "$done_run" yes
wait "$slow_pid"

echo "== a reader that falls too far behind is cut off, not buffered for"
body=$(code_req python $'import sys\nfor i in range(100000): sys.stdout.write("z" * 99 + "\\n")' \
  '. + {limits: {output_bytes: 15000000}}')
$PY - "$URL" "$body" >"$TMP/behind.out" 2>&1 <<'PYEOF' &
import socket, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); body = sys.argv[2].encode()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((u.hostname, u.port))
s.sendall(b"POST /api/repl/execute/stream HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
time.sleep(4)
data = b""
s.settimeout(20)
while b"event: done" not in data:
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    data += chunk
print(b"slow_reader" in data, b'"status":"cancelled"' in data, len(data) < 6 << 20)
PYEOF
behind_pid=$!
wait "$behind_pid"
check "a client 2 MiB behind: its run is cancelled and it is told why (slow_reader)" eq \
  "$(cat "$TMP/behind.out")" "True True True"

echo "== a thousand idle connections"
$PY - "$URL" <<'EOF' >"$TMP/idle.out" 2>&1 &
import socket, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
socks = [socket.create_connection((u.hostname, u.port)) for _ in range(1000)]
print("open", len(socks), flush=True)
time.sleep(5)
EOF
idle_pid=$!
for _ in $(seq 1 50); do grep -q open "$TMP/idle.out" && break; sleep 0.1; done
t0=$EPOCHREALTIME
out=$("$XXX" repl execute -l python -c 'print("still here")')
t1=$EPOCHREALTIME
check "1000 idle connections open" grep -q "open 1000" "$TMP/idle.out"
check "the server answers beside them" eq "$out" "still here"
check "... promptly" $PY -c "import sys; sys.exit(0 if float('$t1') - float('$t0') < 2 else 1)"
wait "$idle_pid"

echo "== 50 concurrent requests: each a result or a 429"
pids=()
for i in $(seq 1 50); do
  curl -s --max-time 60 -o "$TMP/c$i.body" -D "$TMP/c$i.hdr" -w '%{http_code}' -X POST \
    --data-binary "$(code_req python $'import time\ntime.sleep(0.2)\nprint('"$i"')')" \
    "$URL/api/repl/execute" >"$TMP/c$i.code" &
  pids+=($!)
done
wait "${pids[@]}"
n200=0 n429=0 nbad=0
for i in $(seq 1 50); do
  code=$(cat "$TMP/c$i.code")
  if [ "$code" == 200 ] && [ "$(jq -r .stdout "$TMP/c$i.body")" == "$i" ]; then
    n200=$((n200 + 1))
  elif [ "$code" == 429 ] && grep -qi '^Retry-After: [0-9]' "$TMP/c$i.hdr" &&
    [ "$(jq -r .error.code "$TMP/c$i.body")" == queue_full ]; then
    n429=$((n429 + 1))
  else
    nbad=$((nbad + 1))
    echo "     request $i: $code $(head -c 200 "$TMP/c$i.body")"
  fi
done
echo "     $n200 results, $n429 told to retry"
check "50 concurrent: none lost, each a result or 429 with Retry-After" eq "$((n200 + n429))|$nbad" "50|0"
check "50 concurrent: some got results" test "$n200" -ge 8
check "50 concurrent: the bounded queue said 429 to some" test "$n429" -ge 1

echo "== the CLI when things go wrong"
"$XXX" --api-url http://127.0.0.1:1 repl languages 2>"$TMP/e"
check "unreachable service: 125 and a clear message" eq "$?|$(grep -c 'cannot reach' "$TMP/e")" "125|1"
"$XXX" repl execute -l cobol -c x 2>"$TMP/e"
check "error answer: 125 and the server's message" eq "$?|$(grep -c 'unknown language' "$TMP/e")" "125|1"
"$XXX" repl execute -c x 2>/dev/null
check "usage error: 2" eq "$?" 2
check "cli repl languages" contains "$("$XXX" repl languages)" "python"

echo "== one JSON log line per request"
check "every stderr line is JSON" bash -c "jq -e . '$TMP/main.err' >/dev/null"
check "request lines carry id, status, times, bytes, language" bash -c \
  "grep '\"msg\":\"request\"' '$TMP/main.err' | jq -e -s 'map(select(.path == \"/api/repl/execute\" and .status == 200)) | .[0] | (.req and .ms != null and .bytes_in > 0 and .bytes_out > 0 and .language and .run_status and .queue_ms != null)' >/dev/null"

echo "== SIGTERM during runs"
if ! start_server term $((FIRST_UID + 100)) --languages python,bash --shutdown-grace-ms 1500; then
  bad "second xxxd starts"
  kill -KILL "$SRV_PID" 2>/dev/null
  URL=$MAIN_URL
else
TERM_PID=$SRV_PID
curl -s --max-time 60 -X POST --data-binary "$(code_req python $'import time\ntime.sleep(0.5)\nprint("finished")')" \
  "$URL/api/repl/execute" >"$TMP/short.json" &
c1=$!
curl -s --max-time 60 -X POST --data-binary "$(code_req python $'import time\ntime.sleep(30)')" \
  "$URL/api/repl/execute" >"$TMP/long2.json" &
c2=$!
for _ in $(seq 1 200); do
  get /api/containers/list
  [ "$(jfield '[.containers[] | select(.state == "running")] | length')" == 2 ] && break
  sleep 0.1
done
t0=$EPOCHREALTIME
kill -TERM "$TERM_PID"
sleep 0.2
late=$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' "$URL/health")
check "after SIGTERM no new request is served" test "$late" != 200
wait_exit "$TERM_PID" 30
rc=$?
t1=$EPOCHREALTIME
wait "$c1" "$c2"
check "xxxd exits 0 on SIGTERM" eq "$rc" 0
check "... within the grace period plus a little" $PY -c "import sys; sys.exit(0 if float('$t1') - float('$t0') < 6 else 1)"
check "the run that fit in the grace finished" eq "$(jq -r '.status + " " + .stdout' "$TMP/short.json")" "ok finished"
check "the run that did not was cancelled and answered" eq "$(jq -r .status "$TMP/long2.json")" cancelled
check "no process of the server's boxes is left" \
  bash -c "! ps -eo uid= | awk '\$1 >= $((FIRST_UID + 100)) && \$1 < $((FIRST_UID + 200))' | grep -q ."
check "no cgroup of the server's boxes is left" \
  bash -c "[ -z \"\$(find /sys/fs/cgroup -maxdepth 2 -name 'xxx-e2e-term*' 2>/dev/null)\" ]"
check "its log ends with stopped" eq "$(tail -1 "$TMP/term.err" | jq -r .msg)" stopped
fi

echo "== no box can be had: 503"
# A real fault, not a switch: inside the server's own mount namespace an
# empty read-only tmpfs hides its state directory, so the slot's workspace
# cannot be mounted again once the run that holds it ends.
if ! start_server nobox $((FIRST_UID + 200)) --languages bash --slots 1 --warm-spares 0 --sessions 0; then
  bad "the one-slot xxxd starts"
else
  NOBOX_PID=$SRV_PID
  post /api/repl/execute "$(code_req bash 'echo hi')"
  check "before the fault a run succeeds" eq "$CODE $(jfield .stdout)" "200 hi"
  nsenter -t "$NOBOX_PID" -m mount -t tmpfs -o ro,size=16k xxx-broken "/run/xxx-e2e-nobox"
  codes=""
  for _ in 1 2 3; do
    post /api/repl/execute "$(code_req bash 'echo hi')"
    codes+="$CODE "
    [ "$CODE" == 503 ] && break
  done
  check "a run with no box to be had is 503 unavailable" error_is 503 unavailable
  check "... whose message says why" contains "$(jfield .error.message)" "no box available"
  check "every answer was a result or that 503" bash -c "[[ '$codes' =~ ^(200\ )*503\ $ ]]"
  post /api/repl/execute/stream "$(code_req bash 'echo hi')"
  check "a streamed run is refused the same way" error_is 503 unavailable
  get /health
  check "the server still answers" eq "$CODE" 200
  kill -TERM "$NOBOX_PID"
  wait_exit "$NOBOX_PID" 30
  check "and still exits 0 on SIGTERM" eq "$?" 0
fi

echo "== SIGTERM on the main server"
kill -TERM "$MAIN_PID"
wait_exit "$MAIN_PID" 30
check "main xxxd exits 0" eq "$?" 0
check "no process of the main server's boxes is left" \
  bash -c "! ps -eo uid= | awk '\$1 >= $FIRST_UID && \$1 < $((FIRST_UID + 100))' | grep -q ."
servers=()

((fail)) && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
