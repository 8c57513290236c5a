#!/usr/bin/env bash
# test_cluster.sh — the cluster of issue 5 against a real etcd: registration
# visible in etcd, expiry after kill -9, load spread over two executors,
# failover under load (retry of runs not yet started, an explicit
# executor_lost for the run in flight), etcd stopped and restarted under
# load, a language served only while a third executor serving it is
# registered, graceful deregistration, CONTAINERS_API_URL, and the
# registry's own contract in memory.
#
# Needs root (container-api builds boxes), etcd, etcdctl, curl and jq.
# Ports from 42200-42979 and box uids 161000-163999 are its own. Prints one line
# per check and "N passed, N failed"; exits non-zero on a failure.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
XXXD=$BUILD/xxxd
TMP=$(mktemp -d /tmp/xxx-cluster.XXXXXX)
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# etcd's two ports are BASE and BASE+1, from a range no socket uses
# (port_base, tests/lib.sh).
if ! BASE=$(port_base 42200 42950 30); then
  echo "no free port range in 42200-42979"
  echo "0 passed, 1 failed"
  exit 1
fi
ETCD_PORT=$BASE
PEER_PORT=$((BASE + 1))
# Every xxxd listens on port 0 and says where (listen_port); only etcd
# needs ports chosen in advance.
declare -A NODE_PORT
NODE_UID=([1]=161000 [2]=162000 [3]=163000)
TTL=3
export ETCDCTL_API=3
ETCDCTL=(etcdctl --endpoints="127.0.0.1:$ETCD_PORT" --command-timeout=2s)
LANGS=python,c

declare -A PID

cleanup() {
  for name in "${!PID[@]}"; do
    kill -TERM "${PID[$name]}" 2>/dev/null
  done
  for name in "${!PID[@]}"; do
    for _ in $(seq 1 100); do kill -0 "${PID[$name]}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "${PID[$name]}" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# listen_port NAME: the port in "... listening on http://host:PORT" that the
# process writing $TMP/NAME.out printed (waits up to 2 minutes).
listen_port() {
  local p
  for _ in $(seq 1 1200); do
    p=$(sed -n 's|.*listening on http://[^ ]*:\([0-9][0-9]*\).*|\1|p' "$TMP/$1.out" 2>/dev/null | tail -1)
    [ -n "$p" ] && { echo "$p"; return 0; }
    sleep 0.1
  done
  return 1
}

wait_http() { # URL TENTHS
  for _ in $(seq 1 "$2"); do
    curl -sf -o /dev/null --max-time 2 "$1" && return 0
    sleep 0.1
  done
  return 1
}

start_etcd() {
  etcd --name xxx-test --data-dir "$TMP/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-cluster "xxx-test=http://127.0.0.1:$PEER_PORT" >>"$TMP/etcd.log" 2>&1 &
  PID[etcd]=$!
  wait_http "http://127.0.0.1:$ETCD_PORT/health" 200
}

start_node() { # N: starts node N; wait_node N waits until it answers.
  local n=$1
  "$XXXD" container-api --port 0 --slots 2 --languages $LANGS \
    --state-dir "/run/xxx-clt-node$n" --cgroup-name "xxx-clt-node$n" \
    --first-uid "${NODE_UID[$n]}" --runtimes "$ROOT/runtimes" --shutdown-grace-ms 2000 \
    --registry-url "$REG" --keepalive-ms 1000 >"$TMP/node$n.out" 2>>"$TMP/node$n.log" &
  PID[node$n]=$!
}
wait_node() {
  NODE_PORT[$1]=$(listen_port "node$1") || return 1
  wait_http "http://127.0.0.1:${NODE_PORT[$1]}/health" 100
}

# keys: the container-api keys in etcd, one per line.
keys() { "${ETCDCTL[@]}" get --prefix /services/container-api/ --keys-only 2>/dev/null | grep -v '^$'; }
nkeys() { keys | wc -l; }
# node_key N: the key of node N (by the port in its value).
node_key() {
  "${ETCDCTL[@]}" get --prefix /services/container-api/ --print-value-only 2>/dev/null |
    jq -r --argjson p "${NODE_PORT[$1]}" 'select(.port == $p) | "/services/container-api/" + .id'
}
# wait_keys N TENTHS: until etcd holds N container-api keys.
wait_keys() {
  for _ in $(seq 1 "$2"); do
    [ "$(nkeys)" -eq "$1" ] && return 0
    sleep 0.1
  done
  echo "     etcd holds $(nkeys) keys, want $1"
  return 1
}

# run_python CODE [URL]: a buffered run; CODE_ and BODY_ get the answer.
run_python() {
  local body
  body=$(jq -cn --arg c "$1" '{language: "python", code: $c}')
  CODE_=$(curl -s --max-time 60 -o "$TMP/body" -w '%{http_code}' "${2:-$REPL}/api/repl/execute" \
    -d "$body")
  BODY_=$(cat "$TMP/body")
}

# load_loop ID SECONDS: back-to-back short runs; one line "http status" per run.
load_loop() {
  local id=$1 until=$((SECONDS + $2)) n=0
  while [ $SECONDS -lt $until ]; do
    n=$((n + 1))
    local code rc
    code=$(curl -s --max-time 40 -o "$TMP/load-$id-$n.json" -w '%{http_code}' \
      "$REPL/api/repl/execute" -d '{"language": "python", "code": "import time; time.sleep(0.1); print(\"ok\")"}')
    rc=$?
    echo "$(date +%s.%N) $rc $code $(jq -r '.status // .error.code' "$TMP/load-$id-$n.json" 2>/dev/null)" >>"$TMP/load-$id.txt"
  done
}

echo "== etcd, registry, two container-api nodes, repl-api"
for d in /run/xxx-clt-node1 /run/xxx-clt-node2 /run/xxx-clt-node3; do [ -e "$d" ] || mkdir -p "$d"; done
if ! start_etcd; then
  echo "etcd did not start:"
  tail -5 "$TMP/etcd.log"
  echo "0 passed, 1 failed"
  exit 1
fi
"$XXXD" service-registry --port 0 --etcd-endpoints "127.0.0.1:$ETCD_PORT" \
  --ttl $TTL >"$TMP/registry.out" 2>"$TMP/registry.log" &
PID[registry]=$!
REG=http://127.0.0.1:$(listen_port registry)
wait_http "$REG/health" 100
start_node 1
start_node 2
wait_node 1
wait_node 2
"$XXXD" repl-api --port 0 --runtimes "$ROOT/runtimes" --registry-url "$REG" \
  --refresh-ms 500 --wait-executors-ms 20000 --silence-ms 3000 >"$TMP/repl.out" 2>"$TMP/repl-api.log" &
PID[repl]=$!
REPL=http://127.0.0.1:$(listen_port repl)
if ! wait_http "$REPL/health" 300; then
  echo "repl-api did not start:"
  tail -n 5 "$TMP/repl-api.log" "$TMP/node1.log" "$TMP/node2.log" "$TMP/registry.log"
  echo "$pass passed, $((fail + 1)) failed"
  exit 1
fi

echo "== registration"
check "the registry's health says etcd is reachable" \
  eq "$(curl -s "$REG/health" | jq -r '.status + " " + .store')" "ok etcd"
check "both executors are registered under /services/container-api/ in etcd" wait_keys 2 100
val=$("${ETCDCTL[@]}" get "$(node_key 1)" --print-value-only)
check "an executor's value has its URL, slots, load, runtimes with versions and build" \
  eq "$(jq -r '[.url, .metadata.slots, (.metadata.free_slots | type), (.metadata.queued | type),
      (.metadata.runtimes | map(.language) | join(",")), (.metadata.runtimes[0].version | length > 0),
      .metadata.backend, (.metadata.version | type)] | join(" ")' <<<"$val")" \
  "http://127.0.0.1:${NODE_PORT[1]} 2 number number c,python true native string"
# (the registry's lease_id is a decimal string; etcdctl wants hex)
lease=$(curl -s "$REG/api/registry/services/container-api" |
  jq -r --argjson p "${NODE_PORT[1]}" '.instances[] | select(.port == $p) | .lease_id')
ttl=$("${ETCDCTL[@]}" lease timetolive "$(printf '%x' "$lease")" | sed -n 's/.*granted with TTL(\([0-9]*\)s).*/\1/p')
check "its key is attached to a lease with the registry's TTL" eq "$ttl" "$TTL"
check "GET /api/registry/services/container-api lists both" \
  eq "$(curl -s "$REG/api/registry/services/container-api" | jq '.instances | length')" 2
check "GET /api/registry/services groups them by name" \
  eq "$(curl -s "$REG/api/registry/services" | jq '.services["container-api"] | length')" 2

echo "== runs through repl-api"
run_python 'print(6 * 7)'
check "a python run through repl-api answers as the all-in-one server does" \
  eq "$CODE_ $(jq -r '[.status, .result, .version, .limits.wall_ms] | join(" ")' <<<"$BODY_")" \
  "200 ok 42
 $(curl -s "$REPL/api/repl/languages" | jq -r '.runtimes[] | select(.language == "python") | .version') 10000"
check "repl-api serves the languages the executors serve" \
  eq "$(curl -s "$REPL/api/repl/languages" | jq -r '.languages | join(",")')" "c,python"
body=$(jq -cn '{language: "c", code: "#include <stdio.h>\nint main(int c, char **v) { char b[64]; FILE *f = fopen(\"d/in.txt\", \"r\"); fgets(b, sizeof b, f); printf(\"%s %s \", v[1], b); fgets(b, sizeof b, stdin); printf(\"%s\", b); return 3; }",
  stdin: "from stdin\n", args: ["arg1"], files: [{name: "d/in.txt", content: "ZmlsZQ==", encoding: "base64"}],
  limits: {wall_ms: 4000}}')
got=$(curl -s --max-time 60 "$REPL/api/repl/execute" -d "$body")
check "a compiled run carries args, files (base64), stdin and limits to the executor" \
  eq "$(jq -r '[.status, .exit_code, .stdout, .compile.status, .limits.wall_ms] | join("|")' <<<"$got")" \
  "runtime_error|3|arg1 file from stdin
|ok|4000"
got=$(curl -s --max-time 60 "$REPL/api/repl/execute" -d '{"language": "c", "code": "int main(void) { return missing; }"}')
check "a compile error comes back with the compiler's text" \
  eq "$(jq -r '.status + " " + (.compile.output | test("missing") | tostring)' <<<"$got")" "compile_error true"
got=$(curl -sN --max-time 60 "$REPL/api/repl/execute/stream" \
  -d '{"language": "python", "code": "import sys, time\nprint(\"a\")\ntime.sleep(0.2)\nsys.stdout.buffer.write(b\"\\xff\\n\")\nsys.stdout.flush()\ntime.sleep(0.2)\nprint(\"b\", file=sys.stderr)"}')
check "a stream passes stdout, non-UTF-8 bytes as base64 and stderr, then result and done (python writes a line in two writes: uniq)" \
  eq "$(grep '^event:' <<<"$got" | uniq | tr '\n' ' ')" \
  "event: stdout event: stdout_base64 event: stderr event: result event: done "
got=$(curl -s --max-time 60 "$REPL/api/containers/create" \
  -d '{"image": "python:3.11-slim", "command": ["python3", "-c", "print(\"Hello\")"]}')
check "the container API goes through repl-api too" \
  eq "$(jq -c '[.message, .output]' <<<"$got")" '["Container executed successfully","Hello\n"]'

echo "== cancel through repl-api"
curl -sN --max-time 60 "$REPL/api/repl/execute/stream" \
  -d '{"language": "python", "code": "import time\nprint(\"started\")\ntime.sleep(30)"}' >"$TMP/cancel.sse" &
cpid=$!
rid=
for _ in $(seq 1 100); do
  rid=$(curl -s "$REPL/api/containers/list" | jq -r '.containers[] | select(.state == "running") | .id' | head -1)
  [ -n "$rid" ] && grep -q '^data: started' "$TMP/cancel.sse" && break
  sleep 0.1
done
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$REPL/api/containers/$rid")
wait "$cpid"
check "DELETE on repl-api cancels a forwarded run: its stream ends cancelled" \
  eq "$code $(grep '^data: {' "$TMP/cancel.sse" | sed 's/^data: //' | jq -r .status)" "200 cancelled"
busy=1
for _ in $(seq 1 50); do
  busy=$(for n in 1 2; do curl -s "http://127.0.0.1:${NODE_PORT[$n]}/api/containers/list" | jq '.containers | length'; done | awk '{s += $1} END {print s + 0}')
  [ "$busy" -eq 0 ] && break
  sleep 0.1
done
check "and the executor's box is gone too" eq "$busy" 0

echo "== 40 concurrent runs"
before1=$(grep -c '"path":"/api/repl/execute/stream"' "$TMP/node1.log")
before2=$(grep -c '"path":"/api/repl/execute/stream"' "$TMP/node2.log")
pids=()
for i in $(seq 1 40); do
  curl -s --max-time 60 -o "$TMP/c40-$i.json" "$REPL/api/repl/execute" \
    -d '{"language": "python", "code": "import time; time.sleep(0.2); print(\"ok\")"}' &
  pids+=($!)
done
wait "${pids[@]}"
okc=$(cat "$TMP"/c40-*.json | jq -r .status | grep -c '^ok$')
check "all 40 succeed" eq "$okc" 40
n1=$(($(grep -c '"path":"/api/repl/execute/stream"' "$TMP/node1.log") - before1))
n2=$(($(grep -c '"path":"/api/repl/execute/stream"' "$TMP/node2.log") - before2))
echo "     node1 ran $n1, node2 ran $n2"
check "both executors took a fair share (at least 12 of 40 each)" test "$n1" -ge 12 -a "$n2" -ge 12

echo "== kill -9 an executor under load"
# A streamed run that is surely running when its node dies.
curl -sN --max-time 60 "$REPL/api/repl/execute/stream" \
  -d '{"language": "python", "code": "import time\nprint(\"started\")\ntime.sleep(20)\nprint(\"never\")"}' >"$TMP/inflight.sse" &
inflight=$!
victim=
for _ in $(seq 1 100); do
  for n in 1 2; do
    if curl -s "http://127.0.0.1:${NODE_PORT[$n]}/api/containers/list" | jq -e '.containers[] | select(.state == "running")' >/dev/null 2>&1; then
      victim=$n
      break 2
    fi
  done
  sleep 0.1
done
check "the long run is running on one node" test -n "$victim"
victim=${victim:-1}
other=$((3 - victim))
victim_key=$(node_key "$victim")
loaders=()
for i in 1 2 3 4; do
  load_loop "$i" 8 &
  loaders+=($!)
done
sleep 2
t_kill=$(date +%s.%N)
kill -KILL "${PID[node$victim]}"
wait "${PID[node$victim]}" 2>/dev/null
unset "PID[node$victim]"
gone=
for _ in $(seq 1 $(((TTL + 3) * 10))); do
  if [ -z "$("${ETCDCTL[@]}" get "$victim_key" --keys-only)" ]; then
    gone=$(date +%s.%N)
    break
  fi
  sleep 0.1
done
check "its key leaves etcd within the TTL (+1 s)" test -n "$gone"
[ -n "$gone" ] && echo "     gone $(awk -v a="$gone" -v b="$t_kill" 'BEGIN {printf "%.2f", a - b}') s after kill -9 (TTL $TTL s)"
wait "$inflight"
check "the run in flight there ends with an explicit executor_lost result" \
  eq "$(grep '^data: {' "$TMP/inflight.sse" | sed 's/^data: //' | jq -r '.status + " " + (.message | test("lost") | tostring)')" \
  "executor_lost true"
check "its stream printed what it had and then ended with done" \
  eq "$(grep -c -e '^data: started' -e '^event: done' "$TMP/inflight.sse")" 2
wait "${loaders[@]}"
cat "$TMP"/load-?.txt | sort -n >"$TMP/load.txt"
total=$(wc -l <"$TMP/load.txt")
okl=$(awk '$2 == 0 && $3 == 200 && $4 == "ok"' "$TMP/load.txt" | wc -l)
lost=$(awk '$4 == "executor_lost"' "$TMP/load.txt" | wc -l)
hung=$(awk '$2 != 0' "$TMP/load.txt" | wc -l)
echo "     $total runs under load: $okl ok, $lost executor_lost, $hung without an answer"
check "every request under load got an answer (none hung or was cut)" eq "$hung" 0
check "each answer is a success or an explicit executor_lost" eq "$((okl + lost))" "$total"
check "at most the runs in flight on the dead node were lost (<= 2 slots)" test "$lost" -le 2
after=$(awk -v t="$t_kill" '$1 > t + 0.5' "$TMP/load.txt" | wc -l)
after_ok=$(awk -v t="$t_kill" '$1 > t + 0.5 && $4 == "ok"' "$TMP/load.txt" | wc -l)
check "requests after the kill keep succeeding on the other node" test "$after" -gt 5 -a "$after" -eq "$after_ok"
run_python 'print("still here")'
check "a new request succeeds" eq "$CODE_ $(jq -r .result <<<"$BODY_")" "200 still here"

echo "== etcd stopped and restarted under load"
loaders=()
for i in 5 6; do
  load_loop "$i" 7 &
  loaders+=($!)
done
sleep 1
kill -TERM "${PID[etcd]}"
wait "${PID[etcd]}" 2>/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$REG/api/registry/services")
check "with etcd down the registry answers 503, not a crash" eq "$code" 503
sleep 2
start_etcd
check "etcd is back" wait_http "http://127.0.0.1:$ETCD_PORT/health" 100
wait "${loaders[@]}"
cat "$TMP"/load-5.txt "$TMP"/load-6.txt >"$TMP/load2.txt"
total=$(wc -l <"$TMP/load2.txt")
okl=$(awk '$2 == 0 && $3 == 200 && $4 == "ok"' "$TMP/load2.txt" | wc -l)
echo "     $total runs while etcd was away and back: $okl ok"
check "the API kept answering every request with a success" test "$total" -gt 5 -a "$okl" -eq "$total"
check "the registry is healthy again" wait_http "$REG/health" 100
check "the surviving executor is registered again in etcd" wait_keys 1 100
check "the registry process is still the one we started" kill -0 "${PID[registry]}"

echo "== an executor comes back"
start_node "$victim"
wait_node "$victim"
check "the restarted node registers" wait_keys 2 100
sleep 1
pids=()
for i in $(seq 1 12); do
  curl -s --max-time 60 -o "$TMP/back-$i.json" "$REPL/api/repl/execute" \
    -d '{"language": "python", "code": "import time; time.sleep(0.2); print(\"ok\")"}' &
  pids+=($!)
done
wait "${pids[@]}"
check "repl-api sends it work again" test "$(grep -c '"path":"/api/repl/execute/stream"' "$TMP/node$victim.log")" -gt 0

echo "== a language comes and goes with the executors that serve it"
# served LANGUAGE yes|no TENTHS: until repl-api lists LANGUAGE (or not).
served() {
  local want=$2 got
  for _ in $(seq 1 "$3"); do
    got=$(curl -s "$REPL/api/repl/languages" | jq -r --arg l "$1" 'if (.languages | index($l)) then "yes" else "no" end')
    [ "$got" = "$want" ] && return 0
    sleep 0.1
  done
  echo "     languages: $(curl -s "$REPL/api/repl/languages" | jq -c .languages)"
  return 1
}
run_bash() {
  CODE_=$(curl -s --max-time 60 -o "$TMP/body" -w '%{http_code}' "$REPL/api/repl/execute" \
    -d '{"language": "bash", "code": "echo $((6 * 7))"}')
  BODY_=$(cat "$TMP/body")
}
run_bash
check "bash, which no executor serves, is an unknown language to repl-api" \
  eq "$CODE_ $(jq -r .error.code <<<"$BODY_")" "400 unknown_language"
LANGS=python,c,bash start_node 3
wait_node 3
check "a third node, serving bash too, registers" wait_keys 3 100
check "repl-api serves bash once an executor reports it (no restart)" served bash yes 100
check "with the version that executor reports" \
  eq "$(curl -s "$REPL/api/repl/languages" | jq -r '.runtimes[] | select(.language == "bash") | .version')" \
  "$(curl -s "http://127.0.0.1:${NODE_PORT[3]}/api/repl/languages" | jq -r '.runtimes[] | select(.language == "bash") | .version')"
run_bash
check "a bash run through repl-api goes to that node" \
  eq "$CODE_ $(jq -r .result <<<"$BODY_")" "200 42"
check "(the node's own log has it)" test "$(grep -c '"language":"bash"' "$TMP/node3.log")" -gt 0
kill -TERM "${PID[node3]}"
wait "${PID[node3]}"
unset "PID[node3]"
check "bash goes when the last executor serving it leaves" served bash no 100
run_bash
check "and a bash request is an unknown language again, the message listing what is served" \
  eq "$CODE_ $(jq -r .error.code <<<"$BODY_") $(jq -r .error.message <<<"$BODY_" | sed 's/.*known languages: //')" \
  "400 unknown_language c, python"

echo "== an executor freezes (SIGSTOP) under load"
curl -sN --max-time 60 "$REPL/api/repl/execute/stream" \
  -d '{"language": "python", "code": "import time\nprint(\"started\")\ntime.sleep(20)"}' >"$TMP/frozen.sse" &
fpid=$!
frozen=
for _ in $(seq 1 100); do
  for n in 1 2; do
    if curl -s "http://127.0.0.1:${NODE_PORT[$n]}/api/containers/list" | jq -e '.containers[] | select(.state == "running")' >/dev/null 2>&1; then
      frozen=$n
      break 2
    fi
  done
  sleep 0.1
done
frozen=${frozen:-1}
frozen_id=$(node_key "$frozen")
frozen_id=${frozen_id##*/}
loaders=()
for i in 7 8; do
  load_loop "$i" 9 &
  loaders+=($!)
done
sleep 0.5
t_stop=$(date +%s.%N)
kill -STOP "${PID[node$frozen]}"
wait "$fpid"
t_lost=$(date +%s.%N)
echo "     the frozen node's run ended $(awk -v a="$t_lost" -v b="$t_stop" 'BEGIN {printf "%.1f", a - b}') s after SIGSTOP (--silence-ms 3000)"
check "a run on a frozen executor ends with executor_lost, not a hang" \
  eq "$(grep '^data: {' "$TMP/frozen.sse" | sed 's/^data: //' | jq -r .status)" "executor_lost"
wait "${loaders[@]}"
cat "$TMP"/load-7.txt "$TMP"/load-8.txt | sort -n >"$TMP/load3.txt"
total=$(wc -l <"$TMP/load3.txt")
okl=$(awk '$2 == 0 && $3 == 200 && $4 == "ok"' "$TMP/load3.txt" | wc -l)
lost=$(awk '$4 == "executor_lost"' "$TMP/load3.txt" | wc -l)
echo "     $total runs while it was frozen: $okl ok, $lost executor_lost"
check "every request got an answer: a success or an explicit executor_lost" eq "$((okl + lost))" "$total"
late=$(awk -v t="$t_stop" '$1 > t + 5 && $4 != "ok"' "$TMP/load3.txt" | wc -l)
check "once its lease expired, requests succeed on the other node" eq "$late" 0
kill -CONT "${PID[node$frozen]}"
check "thawed, it registers again under the same id" wait_keys 2 100
check "(the same id)" eq "$(node_key "$frozen")" "/services/container-api/$frozen_id"

# Real sessions through repl-api (the routing alone is also checked against
# scripted executors further down).
echo "== real sessions through repl-api"
r=$(curl -s -w ' %{http_code}' --max-time 60 "$REPL/api/repl/sessions" -d '{"language": "python"}')
REAL_SID=$(jq -r .id <<<"${r% *}")
check "a session is created through repl-api, its id naming its executor" \
  test "${r##* }" -lt 300 -a "${REAL_SID%%~*}" != "$REAL_SID"
curl -s --max-time 60 "$REPL/api/repl/sessions/$REAL_SID/execute" -d '{"code": "x = 41"}' >/dev/null
r=$(curl -s --max-time 60 "$REPL/api/repl/sessions/$REAL_SID/execute" -d '{"code": "x + 1"}')
check "its state lives on one executor: x = 41, then x + 1 is 42" \
  eq "$(jq -r '.status + " " + .value' <<<"$r")" "ok 42"
check "GET through repl-api lists it" \
  eq "$(curl -s "$REPL/api/repl/sessions" | jq --arg s "$REAL_SID" '[.sessions[] | select(.id == $s)] | length')" 1

echo "== CONTAINERS_API_URL bypasses discovery"
CONTAINERS_API_URL="http://127.0.0.1:${NODE_PORT[$other]}" "$XXXD" repl-api --port 0 \
  --runtimes "$ROOT/runtimes" >"$TMP/static.out" 2>"$TMP/static.log" &
PID[static]=$!
STATIC=http://127.0.0.1:$(listen_port static)
wait_http "$STATIC/health" 100
run_python 'print("static")' "$STATIC"
check "a repl-api with only CONTAINERS_API_URL runs on that executor" \
  eq "$CODE_ $(jq -r .result <<<"$BODY_")" "200 static"

echo "== graceful shutdown deregisters"
other_key=$(node_key "$other")
kill -TERM "${PID[node$other]}"
t0=$(date +%s%N)
for _ in $(seq 1 100); do [ -z "$("${ETCDCTL[@]}" get "$other_key" --keys-only)" ] && break; sleep 0.05; done
ms=$((($(date +%s%N) - t0) / 1000000))
check "SIGTERM removes the node's key at once (in $ms ms, well under the TTL)" test "$ms" -lt 2000
wait "${PID[node$other]}"
check "the node exits 0" eq "$?" 0
unset "PID[node$other]"
run_python 'print("one left")'
check "runs go to the node that is left" eq "$CODE_ $(jq -r ".result // .error.message" <<<"$BODY_")" "200 one left"
kill -TERM "${PID[node$victim]}"
wait "${PID[node$victim]}"
unset "PID[node$victim]"
sleep 1
run_python 'print(1)'
check "with no executor left, repl-api answers 503 unavailable at once" \
  eq "$CODE_ $(jq -r .error.code <<<"$BODY_")" "503 unavailable"
run_python 'print(1)' "$STATIC"
check "and so does the static repl-api whose executor is gone" \
  eq "$CODE_ $(jq -r .error.code <<<"$BODY_")" "503 unavailable"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 30 \
  "$REPL/api/repl/sessions/$REAL_SID/execute" -d '{"code": "x"}')
check "the session's executor is gone: its calls answer 410 session_gone" \
  eq "$code $(jq -r .error.code "$TMP/body")" "410 session_gone"

echo "== the registry's contract, in memory (no etcd)"
"$XXXD" service-registry --port 0 --ttl 2 >"$TMP/memreg.out" 2>"$TMP/memreg.log" &
PID[memreg]=$!
M=http://127.0.0.1:$(listen_port memreg)
wait_http "$M/health" 100
check "the memory registry is healthy" eq "$(curl -s "$M/health" | jq -r '.status + " " + .store')" "ok memory"
r=$(curl -s "$M/api/registry/register" -d '{"name": "web", "address": "10.0.0.1", "port": 80, "metadata": {"zone": "a"}}')
lease=$(jq -r .lease_id <<<"$r")
id=$(jq -r .id <<<"$r")
check "register answers an id and a lease_id" test -n "$id" -a "$lease" != null
check "the instance is listed with its URL and metadata" \
  eq "$(curl -s "$M/api/registry/services/web" | jq -r '.instances[0] | .url + " " + .metadata.zone')" "http://10.0.0.1:80 a"
code=$(curl -s -o /dev/null -w '%{http_code}' "$M/api/registry/keepalive" \
  -d "$(jq -cn --arg l "$lease" --arg id "$id" '{lease_id: $l, name: "web", id: $id, metadata: {zone: "b"}}')")
check "keepalive refreshes and replaces metadata" \
  eq "$code $(curl -s "$M/api/registry/services/web" | jq -r '.instances[0].metadata.zone')" "200 b"
sleep 3
check "without keepalives it expires after its TTL" \
  eq "$(curl -s "$M/api/registry/services/web" | jq '.instances | length')" 0
code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$M/api/registry/keepalive" -d "{\"lease_id\": \"$lease\"}")
check "a keepalive on the expired lease is 404 not_found" eq "$code $(jq -r .error.code "$TMP/body")" "404 not_found"
r=$(curl -s "$M/api/registry/register" -d '{"name": "web", "id": "w1", "address": "10.0.0.2", "port": 81}')
code=$(curl -s -o /dev/null -w '%{http_code}' "$M/api/registry/deregister" -d '{"name": "web", "id": "w1"}')
check "deregister by name and id removes it" \
  eq "$code $(curl -s "$M/api/registry/services" | jq '.services | length')" "200 0"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$M/api/registry/register" -d '{"name": "../x", "address": "a", "port": 1}')
check "a bad name is 400 invalid_field" eq "$code $(jq -r .error.code "$TMP/body")" "400 invalid_field"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$M/api/registry/register" -d '{"name": "x", "address": "a", "port": 1, "ttl": 100000}')
check "a TTL over the bound is 400" eq "$code" 400
code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$M/api/registry/register" -d 'nope')
check "a body that is not JSON is 400 invalid_json" eq "$code $(jq -r .error.code "$TMP/body")" "400 invalid_json"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$M/api/registry/services")
check "a wrong method is 405" eq "$code" 405

echo "== sessions: each call goes to the executor that holds the session"
# Two scripted executors (tests/cluster/fake_executor.py) registered by hand
# in the memory registry, and a repl-api that discovers them there: this
# checks repl-api's routing, not sessions themselves.
declare -A FAKE_PORT
for n in 1 2; do
  python3 "$ROOT/tests/cluster/fake_executor.py" 0 "fake$n" >"$TMP/fake$n.out" 2>&1 &
  PID[fake$n]=$!
done
for n in 1 2; do
  FAKE_PORT[$n]=$(listen_port "fake$n")
  wait_http "http://127.0.0.1:${FAKE_PORT[$n]}/health" 100
  curl -s "$M/api/registry/register" -d "$(jq -cn --arg id "fake$n" --argjson p "${FAKE_PORT[$n]}" \
    '{name: "container-api", id: $id, address: "127.0.0.1", port: $p, ttl: 3600,
      metadata: {slots: 2, queue_capacity: 8, runtimes: [{language: "python", version: "3"}]}}')" >/dev/null
done
"$XXXD" repl-api --port 0 --runtimes "$ROOT/runtimes" --registry-url "$M" \
  --refresh-ms 200 >"$TMP/sessrepl.out" 2>"$TMP/sess-repl.log" &
PID[sessrepl]=$!
S=http://127.0.0.1:$(listen_port sessrepl)
wait_http "$S/health" 100
declare -A SID
for i in 1 2 3 4; do
  r=$(curl -s -w ' %{http_code}' "$S/api/repl/sessions" -d '{"language": "py"}')
  SID[$i]=$(jq -r .id <<<"${r% *}")
  echo "${r##* } $(jq -r .executor <<<"${r% *}")" >>"$TMP/sess-create"
done
check "sessions are created (201 passed through) and spread over both executors" \
  eq "$(sort "$TMP/sess-create" | uniq -c | awk '{print $1, $2, $3}' | tr '\n' ';')" "2 201 fake1;2 201 fake2;"
check "a session id names its executor ({executor}~{session})" test "${SID[1]%%~*}" != "${SID[1]}"
routed=1
for i in 1 2 3 4; do
  r=$(curl -s "$S/api/repl/sessions/${SID[$i]}/execute" -d "{\"code\": \"x$i\"}")
  [ "$(jq -r '.executor + " " + .value + " " + .id' <<<"$r")" == "${SID[$i]%%~*} x$i ${SID[$i]}" ] || routed=0
done
check "every execute reaches the executor that created its session, ids as the client knows them" eq "$routed" 1
check "GET /api/repl/sessions lists the sessions of every executor" \
  eq "$(curl -s "$S/api/repl/sessions" | jq -r '[.count, (.sessions | length), (.sessions | map(.id) | sort == ($ARGS.positional | sort))] | join(" ")' --args "${SID[@]}")" "4 4 true"
code=$(curl -s -o /dev/null -w '%{http_code}' "$S/api/repl/sessions/nosuchexecutor~s1/execute" -d '{"code": "1"}')
check "a session on an executor that is not registered is 410" eq "$code" 410
code=$(curl -s -o /dev/null -w '%{http_code}' "$S/api/repl/sessions/garbage" )
check "an id that names no executor is 404" eq "$code" 404
victim_sid=${SID[1]}
victim_ex=${victim_sid%%~*}
kill -KILL "${PID[$victim_ex]}"
wait "${PID[$victim_ex]}" 2>/dev/null
unset "PID[$victim_ex]"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$S/api/repl/sessions/$victim_sid/execute" -d '{"code": "1"}')
check "when its executor dies, a session's calls answer 410 session_gone" \
  eq "$code $(jq -r .error.code "$TMP/body")" "410 session_gone"
curl -s "$M/api/registry/deregister" -d "{\"name\": \"container-api\", \"id\": \"$victim_ex\"}" >/dev/null
sleep 0.5
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$S/api/repl/sessions/$victim_sid")
check "and still 410 once it has left the registry" eq "$code" 410
for i in 1 2 3 4; do [ "${SID[$i]%%~*}" != "$victim_ex" ] && live=${SID[$i]}; done
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$S/api/repl/sessions/$live")
check "sessions on the living executor still answer" eq "$code" 200
r=$(curl -s -w ' %{http_code}' "$S/api/repl/sessions" -d '{"language": "python"}')
check "new sessions go to the living executor" eq "${r##* } $(jq -r .executor <<<"${r% *}")" "201 ${live%%~*}"

echo "== clean exits"
for name in repl sessrepl static registry memreg; do
  kill -TERM "${PID[$name]}"
  wait "${PID[$name]}"
  rc=$?
  unset "PID[$name]"
  check "$name exits 0 on SIGTERM (nothing leaked under ASan)" eq "$rc" 0
done

echo
((fail)) && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
