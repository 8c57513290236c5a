#!/usr/bin/env bash
# cluster.sh up|down|status — a whole cluster on this machine: etcd (data in
# a temp dir), one service-registry, two container-api nodes, one repl-api,
# each on its own port. `up` prints where; `down` stops what `up` started.
#
# Needs root (container-api builds boxes) and a build (make). Settings, from
# the environment:
#   CLUSTER_DIR   where pids, logs and etcd's data go (default /run/xxx-cluster)
#   CLUSTER_PORT  base port (default 42100): etcd client +0, etcd peer +1,
#                 registry +3, repl-api +2, container-api nodes +11 and +12
#   CLUSTER_UID   first box uid of node 1 (default 170000; node 2 +1000)
#   CLUSTER_TTL   registration TTL in seconds (default 15)
#   CLUSTER_KEEPALIVE_MS  container-api keepalive period (default 5000)
#   BUILD         build directory (default build)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
XXXD=$BUILD/xxxd
DIR=${CLUSTER_DIR:-/run/xxx-cluster}
BASE=${CLUSTER_PORT:-42100}
UID0=${CLUSTER_UID:-170000}
TTL=${CLUSTER_TTL:-15}
KEEPALIVE=${CLUSTER_KEEPALIVE_MS:-5000}
ETCD_PORT=$BASE
PEER_PORT=$((BASE + 1))
REPL_PORT=$((BASE + 2))
REG_PORT=$((BASE + 3))
NODE_PORTS=($((BASE + 11)) $((BASE + 12)))

wait_http() { # URL SECONDS
  for _ in $(seq 1 $(($2 * 10))); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "cluster.sh: $1 did not answer within $2 s" >&2
  return 1
}

start() { # NAME COMMAND...: runs it in the background, pid in DIR/NAME.pid
  local name=$1
  shift
  "$@" >"$DIR/$name.log" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

up() {
  [ -x "$XXXD" ] || { echo "cluster.sh: $XXXD missing; run make" >&2; exit 1; }
  if [ -e "$DIR/etcd.pid" ]; then
    echo "cluster.sh: $DIR holds a cluster already; run down first" >&2
    exit 1
  fi
  mkdir -p "$DIR"
  rm -rf "$DIR/etcd-data"
  start etcd etcd --name xxx-cluster --data-dir "$DIR/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-cluster "xxx-cluster=http://127.0.0.1:$PEER_PORT"
  wait_http "http://127.0.0.1:$ETCD_PORT/health" 20
  start registry "$XXXD" service-registry --port "$REG_PORT" \
    --etcd-endpoints "127.0.0.1:$ETCD_PORT" --ttl "$TTL"
  wait_http "http://127.0.0.1:$REG_PORT/health" 10
  for i in 0 1; do
    local n=$((i + 1))
    start "node$n" "$XXXD" container-api --port "${NODE_PORTS[$i]}" \
      --state-dir "$DIR/node$n" --cgroup-name "xxx-cluster-node$n" \
      --first-uid $((UID0 + 1000 * i)) --runtimes "$ROOT/runtimes" \
      --registry-url "http://127.0.0.1:$REG_PORT" --keepalive-ms "$KEEPALIVE"
  done
  for p in "${NODE_PORTS[@]}"; do wait_http "http://127.0.0.1:$p/health" 120; done
  start repl-api "$XXXD" repl-api --port "$REPL_PORT" --runtimes "$ROOT/runtimes" \
    --registry-url "http://127.0.0.1:$REG_PORT"
  wait_http "http://127.0.0.1:$REPL_PORT/health" 30
  cat <<TXT
cluster up (logs and pids in $DIR):
  repl-api          http://127.0.0.1:$REPL_PORT   (the public API: XXX_API_URL=http://127.0.0.1:$REPL_PORT)
  service-registry  http://127.0.0.1:$REG_PORT   (GET /api/registry/services)
  container-api     http://127.0.0.1:${NODE_PORTS[0]}   http://127.0.0.1:${NODE_PORTS[1]}
  etcd              http://127.0.0.1:$ETCD_PORT   (ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:$ETCD_PORT get --prefix /services/)
TXT
}

down() {
  [ -d "$DIR" ] || { echo "cluster.sh: no cluster in $DIR"; return 0; }
  # repl-api first (no new runs), then the nodes (they deregister), then the rest.
  for name in repl-api node1 node2 registry etcd; do
    [ -e "$DIR/$name.pid" ] || continue
    local pid
    pid=$(cat "$DIR/$name.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$DIR/$name.pid"
  done
  rm -rf "$DIR/etcd-data"
  echo "cluster down (logs left in $DIR)"
}

status() {
  for name in etcd registry node1 node2 repl-api; do
    if [ -e "$DIR/$name.pid" ] && kill -0 "$(cat "$DIR/$name.pid")" 2>/dev/null; then
      echo "$name: running (pid $(cat "$DIR/$name.pid"))"
    else
      echo "$name: stopped"
    fi
  done
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
*) echo "usage: scripts/cluster.sh up|down|status" >&2; exit 2 ;;
esac
