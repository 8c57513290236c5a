#!/usr/bin/env bash
# A/B of two xxxd binaries under the same load: python hello at concurrency
# 16, the binaries alternated round by round (this machine's speed drifts by
# several percent within minutes, so two separate runs of
# bench/service_bench.sh cannot tell a 3% change from noise). Per round and
# binary: runs/s, and the whole machine's busy CPU time per run
# (/proc/stat: python, the boxes, the server, kernel threads and the load
# generator; a kept box's programs are reaped by its init, not by xxxd, so
# xxxd's own counters would miss them).
#
#   bash bench/service_ab.sh A/xxxd B/xxxd [ROUNDS] [REQUESTS]
#
# e.g. build the base into another directory first:
#   git worktree add /tmp/base HEAD~1 && make -C /tmp/base BUILD=$PWD/build-base \
#       $PWD/build-base/xxxd && git worktree remove /tmp/base
#   bash bench/service_ab.sh build-base/xxxd build/xxxd 4
# Needs root; not part of make bench (it compares, it does not measure).
set -euo pipefail
[ $# -ge 2 ] || {
  sed -n '2,17p' "$0"
  exit 2
}
a=$1 b=$2 rounds=${3:-3} reqs=${4:-500}
cd "$(dirname "$0")/.."
make -s build/bench/service_load >/dev/null
load=build/bench/service_load
body='{"language": "python", "code": "print(\"hello\")"}'
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -TERM $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT

# Busy CPU time of the whole machine, in clock ticks, from /proc/stat.
busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }

# Prints "runs/s busy-us-per-run" for one binary.
one() {
  "$1" --port 0 --languages python --queue 256 --state-dir /run/xxx-ab --cgroup-name xxx-ab \
    --first-uid 7330000 >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  for _ in $(seq 1 600); do
    grep -q 'listening on' "$tmp/out" 2>/dev/null && break
    kill -0 $pid 2>/dev/null || { cat "$tmp/err" >&2; exit 1; }
    sleep 0.1
  done
  local url
  url=$(sed -n 's/^xxxd: listening on \(http:[^ ]*\).*/\1/p' "$tmp/out")
  "$load" http "$url/api/repl/execute" "$body" 4 40 >/dev/null
  local t0 t1 r
  t0=$(busy)
  r=$("$load" http "$url/api/repl/execute" "$body" 16 "$reqs")
  t1=$(busy)
  kill -TERM $pid
  wait $pid 2>/dev/null || true
  pid=
  echo "$(jq -r .rps <<<"$r") $(((t1 - t0) * 1000000 / $(getconf CLK_TCK) / reqs))"
}

sa=0 sb=0 ca=0 cb=0
for i in $(seq 1 "$rounds"); do
  read -r ra ta < <(one "$a")
  read -r rb tb < <(one "$b")
  echo "round $i: A $ra runs/s, $ta us CPU/run | B $rb runs/s, $tb us CPU/run"
  sa=$(awk -v x="$sa" -v y="$ra" 'BEGIN {print x + y}')
  sb=$(awk -v x="$sb" -v y="$rb" 'BEGIN {print x + y}')
  ca=$((ca + ta)) cb=$((cb + tb))
done
awk -v sa="$sa" -v sb="$sb" -v ca="$ca" -v cb="$cb" -v n="$rounds" 'BEGIN {
  printf "mean: A %.1f runs/s, %d us CPU/run | B %.1f runs/s, %d us CPU/run | B/A %+.1f%% runs/s\n",
    sa / n, ca / n, sb / n, cb / n, 100 * (sb / sa - 1) }'
