#!/usr/bin/env bash
# podman_bench.sh — per-run latency of python hello through xxxd: native
# boxes against the Podman backend, same request, runs interleaved (A B A B)
# so both see the same machine load. One client, one run at a time, keep-
# alive off (a fresh curl per run, as a user would). Needs root, podman,
# runc and the python image (scripts/build-images.sh python).
#
#   bench/podman_bench.sh [BUILD] ; N=40 by default
#
# Prints a markdown table: client-side total (curl), and xxxd's own
# stats.wall_ms (the step: for Podman, /start to the end of the stream).
set -euo pipefail
BUILD=${1:-build}
N=${N:-40}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d /tmp/xxx-podbench.XXXXXX)
SOCK=$TMP/podman.sock
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n\n[engine]\nruntime = "runc"\n' \
  >"$TMP/containers.conf"
(cd "$TMP" && CONTAINERS_CONF=$TMP/containers.conf exec podman system service --time=0 "unix://$SOCK") >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -s --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 && break; sleep 0.1; done
"$ROOT/scripts/build-images.sh" python >/dev/null

# start NAME [options]: sets URL (not in a $(...) subshell: the pid must
# reach this shell's list, or the cleanup leaves the server running).
start() {
  local name=$1
  shift
  "$ROOT/$BUILD/xxxd" --port 0 --slots 2 --languages python --state-dir "/run/xxx-podbench-$name-$$" \
    --cgroup-name "xxx-podbench-$name-$$" --first-uid 7420000 "$@" >"$TMP/$name.out" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 1 600); do
    grep -q 'listening on' "$TMP/$name.out" 2>/dev/null && break
    sleep 0.1
  done
  URL=$(sed -n 's/^xxxd: listening on \(http:[^ ]*\).*/\1/p' "$TMP/$name.out")
}
start native
NATIVE=$URL
start podman --backend podman --podman-url "$SOCK" --first-uid 7421000
PODMAN=$URL
body='{"language": "python", "code": "print(\"hello\")"}'

# one URL FILE: one run; appends "total_ms wall_ms" to FILE.
one() {
  local t
  t=$(curl -s -o "$TMP/body" -w '%{time_total}' -X POST --data-binary "$body" "$1/api/repl/execute")
  [ "$(jq -r .stdout "$TMP/body")" == hello ] || { echo "bad answer: $(cat "$TMP/body")" >&2; exit 1; }
  echo "$(awk -v t="$t" 'BEGIN {printf "%.1f", t * 1000}') $(jq -r .stats.wall_ms "$TMP/body")" >>"$2"
}
for _ in 1 2 3; do one "$NATIVE" /dev/null; one "$PODMAN" /dev/null; done # warm-up
for _ in $(seq 1 "$N"); do
  one "$NATIVE" "$TMP/native"
  one "$PODMAN" "$TMP/podman"
done

# stats FILE COLUMN: "median p90 min max"
stats() {
  cut -d' ' -f"$2" "$1" | sort -n | awk '{a[NR]=$1} END {
    m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
    p = a[int(NR * 0.9 + 0.5)]
    printf "%.1f | %.1f | %.1f | %.1f", m, p, a[1], a[NR] }'
}
echo "| backend | runs | total median ms | p90 | min | max | step wall median ms | p90 | min | max |"
echo "|---|---|---|---|---|---|---|---|---|---|"
echo "| native | $N | $(stats "$TMP/native" 1) | $(stats "$TMP/native" 2) |"
echo "| podman | $N | $(stats "$TMP/podman" 1) | $(stats "$TMP/podman" 2) |"
