#!/usr/bin/env bash
# test_podman.sh — xxxd --backend podman against a real Podman service.
#
# Starts `podman system service` on a unix socket in a temp dir (runc: crun
# refuses this host's hybrid cgroups), builds the images the checks need
# with scripts/build-images.sh (skipped when an image with the same content
# label exists), runs xxxd with its own state dir, cgroup name (= the
# containers' label) and uids, and checks the seed languages, streaming
# order, the limits, the sandbox settings, the container API, that every
# container is removed (also after xxxd is killed), and pulls from a local
# registry (Debian's docker-registry). Needs root, podman, runc, curl, jq.
# Prints "N passed, N failed"; exits non-zero on a failure.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
XXXD=$BUILD/xxxd
TMP=$(mktemp -d /tmp/xxx-podman.XXXXXX)
SOCK=$TMP/podman.sock
INSTANCE=xxx-podtest-$$
FIRST_UID=7410000
IMAGES=(python node ruby c)

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# The registry on REG_PORT, Podman's TCP service on REG_PORT + 1: two ports
# no socket uses (port_base).
REG_PORT=${XXX_TEST_REGISTRY_PORT:-$(port_base 41200 41990 10)} || {
  echo "no free port range in 41200-41999"
  echo "0 passed, 1 failed"
  exit 1
}
pids=()


# ours: how many containers carry our label (any state).
ours() {
  podman --url "unix://$SOCK" ps -a -q --filter "label=xxx.instance=$INSTANCE" | wc -l
}

cleanup() {
  for p in "${pids[@]}"; do
    kill -KILL "$p" 2>/dev/null
  done
  if [ -S "$SOCK" ]; then
    podman --url "unix://$SOCK" ps -a -q --filter "label=xxx.instance=$INSTANCE" |
      xargs -r podman --url "unix://$SOCK" rm -f >/dev/null 2>&1
    podman --url "unix://$SOCK" rmi -f localhost/xxx-pulltest:latest "127.0.0.1:$REG_PORT/xxx-pulltest:latest" >/dev/null 2>&1
  fi
  [ -n "${SVC_PID:-}" ] && kill "$SVC_PID" 2>/dev/null && wait "$SVC_PID" 2>/dev/null
  for d in /run/xxx-podtest-*-$$; do
    [ -d "$d/podman" ] && for m in "$d"/podman/*; do umount -l "$m" 2>/dev/null; done
    rm -rf "$d"
  done
  rm -rf "$TMP"
}
trap cleanup EXIT


echo "== podman service (runc) on $SOCK"
cat >"$TMP/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF=$TMP/containers.conf
# From $TMP: conmon writes an "oom" file into its working directory when
# the OOM killer fires, and it inherits the service's.
(cd "$TMP" && exec podman system service --time=0 "unix://$SOCK") >"$TMP/podman.log" 2>&1 &
SVC_PID=$!
for _ in $(seq 1 600); do
  curl -s --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 && break
  sleep 0.1
done
check "podman service answers, runtime runc" eq \
  "$(curl -s --unix-socket "$SOCK" http://d/v4.0.0/libpod/info | jq -r .host.ociRuntime.name)" runc

echo "== images: ${IMAGES[*]}"
if ! "$ROOT/scripts/build-images.sh" "${IMAGES[@]}" >"$TMP/build.log" 2>&1; then
  tail -20 "$TMP/build.log"
  bad "scripts/build-images.sh ${IMAGES[*]}"
  finish
fi
grep -E '^[a-z]+: (built|.*up to date)' "$TMP/build.log" | sed 's/^/     /'
ok "scripts/build-images.sh ${IMAGES[*]}"
"$ROOT/scripts/build-images.sh" python >"$TMP/build2.log" 2>&1
check "a second build of the same content is skipped" contains "$(cat "$TMP/build2.log")" "up to date"

# start_server NAME [xxxd options...]: sets SRV_PID and URL. Podman is the
# one on $SOCK unless URL_FLAG says otherwise.
URL_FLAG=(--podman-url "$SOCK")
start_server() {
  local name=$1
  shift
  "$XXXD" --backend podman "${URL_FLAG[@]}" --port 0 --slots 2 \
    --state-dir "/run/xxx-podtest-$name-$$" --cgroup-name "$INSTANCE" \
    --first-uid "$FIRST_UID" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  SRV_PID=$!
  pids+=("$SRV_PID")
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
post() {
  CODE=$(curl -s --max-time 120 -o "$TMP/body" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' --data-binary "$2" "$URL$1")
  BODY=$(cat "$TMP/body")
}
get() {
  CODE=$(curl -s --max-time 60 -o "$TMP/body" -w '%{http_code}' -X "${2:-GET}" "$URL$1")
  BODY=$(cat "$TMP/body")
}
jfield() { jq -r "$1" <<<"$BODY"; }
code_req() {
  jq -cn --arg l "$1" --arg c "$2" "{language: \$l, code: \$c} | ${3:-.}"
}

echo "== xxxd --backend podman"
if ! start_server main --languages python,node,ruby,c; then
  bad "xxxd --backend podman starts"
  finish
fi
ok "xxxd --backend podman starts ($URL)"
MAIN_PID=$SRV_PID
get /api/repl/languages
check "every language with an image passed its self-test in a container" eq \
  "$(jfield '.languages | sort | join(",")')" "c,node,python,ruby"

echo "== the seed examples"
post /api/repl/execute "$(code_req python 'print(2 + 2)')"
check "python print(2+2) -> 4" eq "$CODE|$(jfield .status)|$(jfield .stdout)|$(jfield .exit_code)" "200|ok|4|0"
post /api/repl/execute "$(code_req node 'console.log(10 * 5)')"
check "node console.log(10*5) -> 50" eq "$(jfield .status)|$(jfield .stdout)" "ok|50"
post /api/repl/execute "$(code_req ruby 'puts 7 + 3')"
check "ruby puts 7+3 -> 10" eq "$(jfield .status)|$(jfield .stdout)" "ok|10"
post /api/repl/execute "$(code_req c $'#include <stdio.h>\nint main(void) { printf("%d\\n", 6 * 7); return 0; }\n')"
check "c compiles in one container and runs in the next (same workspace) -> 42" eq \
  "$(jfield .status)|$(jfield .stdout)" "ok|42"
post /api/repl/execute "$(code_req c 'int main(void) { return missing; }')"
check "c compile error: status compile_error" eq "$(jfield .status)" compile_error
post /api/repl/execute "$(code_req python $'import sys\nprint("out")\nprint("err", file=sys.stderr)\nsys.exit(3)')"
check "exit code, stdout and stderr apart" eq \
  "$(jfield .status)|$(jfield .exit_code)|$(jfield .stdout)|$(jfield .stderr)" "runtime_error|3|out|err"
post /api/repl/execute "$(jq -cn '{language: "python", code: "import sys; print(sys.argv[1:])", args: ["a b", "c"]}')"
check "args reach the program as argv elements" eq "$(jfield .stdout)" "['a b', 'c']"
post /api/repl/execute "$(jq -cn '{language: "python", code: "print(open(\"data.txt\").read(), open(\"sub/dir/more.txt\").read())", files: [{name: "data.txt", content: "from a file"}, {name: "sub/dir/more.txt", content: "and a nested one"}]}')"
check "request files are in the workdir, nested ones too" eq "$(jfield .stdout)" "from a file and a nested one"

post /api/repl/execute "$(jq -cn '{language: "python", code: "import sys\nd = sys.stdin.read()\nprint(len(d), repr(d[:12]))", stdin: "hello\nworld\n"}')"
check "stdin reaches the program, then EOF" eq "$(jfield .status)|$(jfield .stdout)" "ok|12 'hello\\nworld\\n'"
python3 -c 'import json; print(json.dumps({"language": "python", "code": "import sys\nprint(len(sys.stdin.read()))", "stdin": "y" * 300000}))' >"$TMP/big.json"
post /api/repl/execute "@$TMP/big.json"
check "300 kB of stdin (more than a pipe holds before the program starts)" eq "$(jfield .stdout)" 300000
post /api/repl/execute "$(code_req python 'print(input())')"
check "no stdin: EOF at once" eq "$(jfield .status)|$(jfield '.stderr | test("EOFError")')" "runtime_error|true"
post /api/repl/execute "$(jq -cn '{language: "c", code: "#include <stdio.h>\nint main(void) { int a, b; if (scanf(\"%d %d\", &a, &b) != 2) return 1; printf(\"%d\\n\", a + b); return 0; }", stdin: "3 4"}')"
check "stdin to a compiled program (scanf)" eq "$(jfield .status)|$(jfield .stdout)" "ok|7"

echo "== streaming"
curl -sN --max-time 60 -X POST --data-binary \
  "$(code_req python $'import sys, time\nsys.stdout.write("one\\n")\ntime.sleep(0.3)\nsys.stderr.write("two\\n")\ntime.sleep(0.3)\nsys.stdout.write("three\\n")')" \
  "$URL/api/repl/execute/stream" >"$TMP/sse"
# One write() per line: print() writes the text and the newline apart, and
# they may come as two events.
check "stream: stdout, stderr, stdout in write order, then result and done" eq \
  "$(grep -A1 '^event:' "$TMP/sse" | grep -v '^--' | paste -d' ' - - | sed -n 's/^event: \([a-z]*\) data: \(.*\)/\1:\2/p' | grep -v '^result' | tr '\n' ' ')" \
  "stdout:one stderr:two stdout:three done:Container execution completed "

echo "== WebSocket runs: live stdin and SIGINT (tests/ws/wsclient.py)"
# shellcheck source=tests/ws/scenario.sh
. "$ROOT/tests/ws/scenario.sh"
scenario two_lines
# The client sends the second line only after it has read the answer to the
# first: a container whose stdin were not live could not answer in between.
check "live stdin: the program answers the first line before the second is sent" \
  before 'saw got first' 'sent second'
check "... then the second" has 'stdout "got first\ngot second\n"'
check "... and ends ok, its stdin still open" has '"status": "ok"'
scenario stdin_close
check "the request's stdin, text and binary frames, then stdin_close's EOF" \
  has $'stdout "7 b\'abcde\\\\xff\\\\x00\'\\n"'
scenario interrupt
check "SIGINT reaches the container's program, which handles it and ends ok" \
  has 'stdout "waiting\ninterrupted\n"'
check "(status ok, not cancelled)" has '"status": "ok"'
OUT= # bad_detail: later checks are not about a scenario

echo "== limits"
post /api/repl/execute "$(code_req python 'while True: pass' '. + {limits: {wall_ms: 1000}}')"
check "wall limit: status timeout, killed by xxx" eq \
  "$(jfield .status)|$(jfield '.message | test("wall-clock limit of 1000 ms")')|$(jfield .signal)" "timeout|true|SIGKILL"
post /api/repl/execute "$(code_req python $'x = bytearray(300 << 20)\nprint(len(x))' '. + {limits: {memory_mb: 64}}')"
check "memory limit: status memory_limit" eq "$(jfield .status)|$(jfield .stdout)" "memory_limit|"
post /api/repl/execute "$(code_req python $'x = bytearray(20 << 20)\nprint(len(x))' '. + {limits: {memory_mb: 64}}')"
check "under the memory limit: ok" eq "$(jfield .status)|$(jfield .stdout)" "ok|20971520"
post /api/repl/execute "$(code_req python 'while True: print("x" * 100)' '. + {limits: {output_bytes: 1000}}')"
check "output limit: status output_limit, 1000 bytes kept, truncated" eq \
  "$(jfield .status)|$(jfield '.stdout | length')|$(jfield .truncated)" "output_limit|1000|true"
post /api/repl/execute "$(code_req python $'import os\npids = []\nfor i in range(100):\n    try:\n        pid = os.fork()\n    except OSError as e:\n        print("refused", e.errno)\n        break\n    if pid == 0:\n        import time; time.sleep(5); os._exit(0)\n    pids.append(pid)\nprint(len(pids) < 100)' '. + {limits: {processes: 8, wall_ms: 8000}}')"
check "process limit: fork refused (EAGAIN) below 100" eq "$(jfield .stdout)" $'refused 11\nTrue'

echo "== the container's sandbox"
post /api/repl/execute "$(code_req python $'import os, socket\nprint(os.getuid() != 0)\ntry:\n    open("/usr/x", "w")\nexcept OSError as e:\n    print("ro", e.errno)\nst = open("/proc/self/status").read()\nprint([l.split()[1] for l in st.splitlines() if l.startswith(("CapEff", "NoNewPrivs"))])\nprint(sorted(os.listdir("/sys/class/net")))\ntry:\n    socket.create_connection(("1.1.1.1", 53), timeout=2)\nexcept OSError as e:\n    print("net", e.errno)\nprint(os.getcwd(), os.access(".", os.W_OK), os.access("/tmp", os.W_OK))')"
check "not root, read-only root, no capabilities, no_new_privs, only lo, no network, writable workdir and /tmp" eq \
  "$(jfield .stdout)" $'True\nro 30\n[\'0000000000000000\', \'1\']\n[\'lo\']\nnet 101\n/box True True'
post /api/repl/execute "$(code_req python $'import os\nfor d in ("/tmp", "/box"):\n    st = os.statvfs(d)\n    print(d, st.f_blocks * st.f_frsize >> 20)')"
check "/tmp and the workdir are tmpfs of the lease's size (512 MiB)" eq "$(jfield .stdout)" $'/tmp 512\n/box 512'

echo "== container API"
post /api/containers/create '{"image": "python:3.11-slim", "command": ["python3", "-c", "print(\"Hello\")"]}'
check "create: id, message, output" eq "$CODE|$(jfield '.id | length')|$(jfield .message)|$(jfield .output)|$(jfield .exit_code)" \
  "200|32|Container executed successfully|Hello|0"
post /api/containers/create '{"image": "localhost/xxx-node:latest", "command": ["node", "-e", "process.exit(4)"]}'
check "create by the runtime's image name: non-zero exit" eq "$(jfield .status)|$(jfield .exit_code)" "runtime_error|4"
body=$(code_req python $'import time\ntime.sleep(60)')
curl -s --max-time 90 -X POST --data-binary "$body" "$URL/api/repl/execute" >"$TMP/long.json" &
long_pid=$!
id=""
for _ in $(seq 1 300); do
  get /api/containers/list
  id=$(jfield '.containers[0].id // empty')
  [ -n "$id" ] && [ "$(jfield '.containers[0].state')" == running ] &&
    [ "$(jfield '.containers[0].slot | type')" == number ] && [ "$(ours)" -ge 1 ] && break
  sleep 0.1
done
check "list shows the running run, Podman holds its container" eq \
  "$(jfield '.containers[0] | [.language, .state] | join(" ")')|$(ours)" "python running|1"
get "/api/containers/$id" DELETE
check "DELETE a running run: 200" eq "$CODE|$(jfield .id)" "200|$id"
wait "$long_pid"
check "its client gets status cancelled" eq "$(jq -r .status "$TMP/long.json")" cancelled
check "and its container is gone" eq "$(ours)" 0

echo "== every container is removed"
check "no container of ours is left after the runs" eq "$(ours)" 0

echo "== after a crash, the next xxxd removes what the last one left"
curl -s --max-time 90 -X POST --data-binary "$(code_req python $'import time\ntime.sleep(60)')" \
  "$URL/api/repl/execute" >/dev/null 2>&1 &
crash_client=$!
for _ in $(seq 1 300); do
  [ "$(ours)" -ge 1 ] && break
  sleep 0.1
done
kill -KILL "$MAIN_PID"
wait "$MAIN_PID" 2>/dev/null
wait "$crash_client" 2>/dev/null
check "xxxd killed mid-run leaves its container behind" eq "$(ours)" 1
if start_server again --languages python; then
  check "the next xxxd with the same name removed it at start" eq "$(ours)" 0
  check "and said so" contains "$(cat "$TMP/again.err")" "removed 1 containers left by an earlier run"
  kill -TERM "$SRV_PID"
  wait "$SRV_PID"
  check "SIGTERM: exit 0, nothing left" eq "$?|$(ours)" "0|0"
else
  bad "xxxd starts again after a crash"
fi

echo "== images from a registry (docker-registry on 127.0.0.1:$REG_PORT)"
mkdir -p "$TMP/registry" "$TMP/rt"
cat >"$TMP/registry.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $TMP/registry
http:
  addr: 127.0.0.1:$REG_PORT
EOF
docker-registry serve "$TMP/registry.yml" >"$TMP/registry.log" 2>&1 &
REG_PID=$!
pids+=($REG_PID)
for _ in $(seq 1 300); do
  curl -s "http://127.0.0.1:$REG_PORT/v2/" >/dev/null 2>&1 && break
  sleep 0.1
done
podman --url "unix://$SOCK" tag localhost/xxx-python:latest localhost/xxx-pulltest:latest
"$ROOT/scripts/build-images.sh" --push "127.0.0.1:$REG_PORT" python >"$TMP/push0.log" 2>&1
check "build-images.sh --push: the registry holds xxx-python" contains \
  "$(curl -s "http://127.0.0.1:$REG_PORT/v2/_catalog")" '"xxx-python"'
podman --url "unix://$SOCK" push --tls-verify=false localhost/xxx-pulltest:latest \
  "127.0.0.1:$REG_PORT/xxx-pulltest:latest" >"$TMP/push.log" 2>&1
check "push to the local registry" eq "$?" 0
podman --url "unix://$SOCK" rmi localhost/xxx-pulltest:latest >/dev/null 2>&1
check "the image is gone from Podman's storage" eq \
  "$(podman --url "unix://$SOCK" image exists localhost/xxx-pulltest:latest && echo present || echo absent)" absent
jq '.name = "pulltest" | .aliases = [] | .image = "localhost/xxx-pulltest:latest" | del(.session)' \
  "$ROOT/runtimes/python.json" >"$TMP/rt/pulltest.json"
jq '.name = "nosuch" | .aliases = [] | .image = "localhost/xxx-nosuch:latest" | del(.session)' \
  "$ROOT/runtimes/python.json" >"$TMP/rt/nosuch.json"
if start_server pull --runtimes "$TMP/rt" --image-registry "127.0.0.1:$REG_PORT"; then
  post /api/repl/execute "$(code_req pulltest 'print(2 + 2)')"
  check "a missing image is pulled from --image-registry, then runs" eq "$(jfield .status)|$(jfield .stdout)" "ok|4"
  check "the pulled image carries the runtime's name" eq \
    "$(podman --url "unix://$SOCK" image exists localhost/xxx-pulltest:latest && echo present)" present
  check "an image the registry lacks: a clear reason, the language left out" contains \
    "$(grep '"nosuch"' "$TMP/pull.err")" "pulling 127.0.0.1:$REG_PORT/xxx-nosuch:latest"
  kill -TERM "$SRV_PID"
  wait "$SRV_PID"
else
  bad "xxxd starts with --image-registry"
fi
kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
if "$XXXD" --backend podman --podman-url "$SOCK" --port 0 --state-dir "/run/xxx-podtest-noreg-$$" \
  --cgroup-name "$INSTANCE" --first-uid "$FIRST_UID" --runtimes "$TMP/rt" --languages nosuch \
  >"$TMP/noreg.out" 2>"$TMP/noreg.err"; then
  bad "without a registry, a missing image keeps xxxd from serving it"
else
  check "without a registry, a missing image: xxxd says which image and how to build it" contains \
    "$(cat "$TMP/noreg.err")" "image localhost/xxx-nosuch:latest is not in Podman's storage and no image registry is set"
fi
check "no container of ours is left at the end" eq "$(ours)" 0

echo "== Podman over http:// (tcp://127.0.0.1:$((REG_PORT + 1))), named by COREOS_URL"
(cd "$TMP" && exec podman system service --time=0 "tcp://127.0.0.1:$((REG_PORT + 1))") >"$TMP/podman-tcp.log" 2>&1 &
TCP_PID=$!
pids+=($TCP_PID)
for _ in $(seq 1 600); do
  curl -s "http://127.0.0.1:$((REG_PORT + 1))/_ping" >/dev/null 2>&1 && break
  kill -0 "$TCP_PID" 2>/dev/null || break
  sleep 0.1
done
URL_FLAG=()
if COREOS_URL="http://127.0.0.1:$((REG_PORT + 1))" start_server tcp --languages python; then
  post /api/repl/execute "$(jq -cn '{language: "python", code: "import sys; print(sys.stdin.read())", stdin: "via tcp"}')"
  check "a run through http:// with stdin" eq "$(jfield .status)|$(jfield .stdout)" "ok|via tcp"
  kill -TERM "$SRV_PID"
  wait "$SRV_PID"
else
  bad "xxxd starts with COREOS_URL=http://..."
  echo "     podman's TCP service said:"
  tail -5 "$TMP/podman-tcp.log" | sed 's/^/     /'
fi
kill "$TCP_PID" 2>/dev/null && wait "$TCP_PID" 2>/dev/null
URL_FLAG=(--podman-url "$SOCK")
check "no container of ours is left" eq "$(ours)" 0

echo "== bad settings"
"$XXXD" --backend podman --podman-url "$TMP/nothing.sock" --port 0 --state-dir "/run/xxx-podtest-bad-$$" \
  --cgroup-name "$INSTANCE" --first-uid "$FIRST_UID" >/dev/null 2>"$TMP/bad.err"
check "an unreachable Podman: exit 1 with the reason" eq "$?|$(grep -c 'cannot use Podman' "$TMP/bad.err")" "1|1"
"$XXXD" --backend docker --port 0 >/dev/null 2>"$TMP/bad.err"
check "an unknown backend: exit 2" eq "$?|$(grep -c 'expected native or podman' "$TMP/bad.err")" "2|1"
check "xxxd --help lists the backend flags" eq \
  "$("$XXXD" --help | grep -cE -- '--(backend|podman-url|image-registry) ')" 3

finish
