#!/usr/bin/env bash
# Session cost: end-to-end latency of `x = x + 1` in a warm python session
# over HTTP (POST /api/repl/sessions/{id}/execute from a keep-alive libcurl
# client, bench/service_load.c), then the memory held by idle sessions: the
# proportional set size (PSS, shared pages split between their users) of
# every process of the server's boxes, idle and with 100 python, 20 node and
# 20 ruby sessions open. Needs root. Writes the "Sessions" section of
# docs/benchmarks.md (between the sessions markers; other sections stay).
#
#   bash bench/session_bench.sh [BUILD]      (make bench runs it)
# N=... sets the executions measured (default 2000).
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
n=${N:-2000}
make -s "$build/xxxd" "$build/bench/service_load" >/dev/null
load=$build/bench/service_load
tmp=$(mktemp -d)
doc=docs/benchmarks.md
first_uid=7360000
sessions=150

"$build/xxxd" --port 0 --languages python,node,ruby --sessions $sessions \
  --state-dir /run/xxx-bench-sessions --cgroup-name xxx-bench-sessions --first-uid $first_uid \
  >"$tmp/out" 2>"$tmp/err" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 600); do
  grep -q 'listening on' "$tmp/out" 2>/dev/null && break
  kill -0 $pid 2>/dev/null || { cat "$tmp/err"; exit 1; }
  sleep 0.1
done
url=$(sed -n 's/^xxxd: listening on \(http:[^ ]*\).*/\1/p' "$tmp/out")
cores=$(nproc)
field() { jq -r ".$1" <<<"$2"; }
create() { curl -s -X POST -d "{\"language\": \"$1\"}" "$url/api/repl/sessions" | jq -r .id; }

# PSS in KiB of every process whose uid belongs to this server's boxes.
box_pss_kib() {
  local total=0 p uid kib
  for p in /proc/[0-9]*; do
    uid=$(awk '/^Uid:/ {print $2}' "$p/status" 2>/dev/null) || continue
    [ -n "$uid" ] && [ "$uid" -ge $first_uid ] && [ "$uid" -lt $((first_uid + 2 * (sessions + 4))) ] || continue
    kib=$(awk '/^Pss:/ {print $2}' "$p/smaps_rollup" 2>/dev/null) || continue
    total=$((total + ${kib:-0}))
  done
  echo $total
}
xxxd_rss_kib() { awk '/^VmRSS:/ {print $2}' /proc/$pid/status; }

# ---- latency ----
sid=$(create python)
curl -s -X POST -d '{"code": "x = 0"}' "$url/api/repl/sessions/$sid/execute" >/dev/null
"$load" http "$url/api/repl/sessions/$sid/execute" '{"code": "x = x + 1"}' 1 200 >/dev/null
lat=$("$load" http "$url/api/repl/sessions/$sid/execute" '{"code": "x = x + 1"}' 1 "$n")
final=$(curl -s -X POST -d '{"code": "x"}' "$url/api/repl/sessions/$sid/execute" | jq -r .value)
curl -s -X DELETE "$url/api/repl/sessions/$sid" >/dev/null
sleep 1

# ---- memory ----
idle_pss=$(box_pss_kib)
idle_rss=$(xxxd_rss_kib)
mem_row() { # language count
  local ids=() before after i
  before=$(box_pss_kib)
  for i in $(seq 1 "$2"); do ids+=("$(create "$1")"); done
  sleep 2
  after=$(box_pss_kib)
  echo "| $1 | $2 | $(awk -v a="$before" -v b="$after" -v c="$2" 'BEGIN {printf "%.1f", (b - a) / c / 1024}') | $(awk -v b="$after" 'BEGIN {printf "%.0f", b / 1024}') |"
}
rows=$(mem_row python 100)$'\n'$(mem_row node 20)$'\n'$(mem_row ruby 20)
all_rss=$(xxxd_rss_kib)

section=$(
  cat <<MD
<!-- sessions:begin -->
## Sessions

**Latency.** \`x = x + 1\` in a warm python session, end to end over HTTP:
\`POST /api/repl/sessions/{id}/execute\` from one keep-alive libcurl client
(bench/service_load.c), one execution at a time, $n executions after 200
warm-up ones (the session counted to $final). Each goes HTTP thread ->
session manager thread (writes the cell to the driver's control socket) ->
the python driver in its box -> its "done" line back through the box's
control reader -> the connection resumed.

| | median ms | p99 ms | mean ms | executions/s |
|---|---|---|---|---|
| \`x = x + 1\` over HTTP | **$(field p50_ms "$lat")** | $(field p99_ms "$lat") | $(field mean_ms "$lat") | $(field rps "$lat") |

Target (issue 4): median under 2 ms.

**Memory of idle sessions.** PSS (shared pages divided among the processes
sharing them) summed over every process of the server's boxes, from
/proc/PID/smaps_rollup. With $sessions session slots (plus 2 run slots and 2
warm spares) and no session open, the parked inits of all $((sessions + 4))
slots hold $(awk -v a="$idle_pss" 'BEGIN {printf "%.1f", a / 1024}') MiB
($(awk -v a="$idle_pss" -v s="$((sessions + 4))" 'BEGIN {printf "%.2f", a / s / 1024}') MiB per slot). A session
turns its slot's parked init into a running driver: the table shows what
that adds per session, idle after its start.

| language | sessions opened | MiB PSS added per idle session | MiB PSS of all boxes after |
|---|---|---|---|
$rows

xxxd itself (threads: one per live session, parked in box_exec) went from
$(awk -v a="$idle_rss" 'BEGIN {printf "%.1f", a / 1024}') MiB RSS idle to $(awk -v a="$all_rss" 'BEGIN {printf "%.1f", a / 1024}') MiB RSS with all 140 sessions open.

Measured $(date -u +%Y-%m-%d) on $cores cores ($(uname -r)), with
\`bash bench/session_bench.sh\` (also run by \`make bench\`).
<!-- sessions:end -->
MD
)

[ -f "$doc" ] || printf '# Benchmarks\n' >"$doc"
if grep -q '<!-- sessions:begin -->' "$doc"; then
  SECTION=$section awk '
    /<!-- sessions:begin -->/ {print ENVIRON["SECTION"]; skip = 1; next}
    /<!-- sessions:end -->/ {skip = 0; next}
    !skip {print}' "$doc" >"$tmp/doc"
  cat "$tmp/doc" >"$doc"
else
  printf '\n%s\n' "$section" >>"$doc"
fi
echo "$section"
