#!/usr/bin/env bash
# Service cost: python hello through HTTP (POST /api/repl/execute on a real
# xxxd) against bare `python3 -c` on the same machine, then throughput at
# concurrency 1, 2, 4, 8, 16, then paired rounds of bare and service for the
# throughput verdict. Needs root. Writes the "Service" section of
# docs/benchmarks.md (between the service markers; other sections stay).
#
#   bash bench/service_bench.sh [BUILD]      (make bench runs it)
# N=... sets the runs per measurement (default 200), ROUNDS=... the paired
# rounds (default 7).
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
n=${N:-200}
make -s "$build/xxxd" "$build/bench/service_load" >/dev/null
load=$build/bench/service_load
tmp=$(mktemp -d)
doc=docs/benchmarks.md

"$build/xxxd" --port 0 --languages python --queue 256 --state-dir /run/xxx-bench \
  --cgroup-name xxx-bench --first-uid 7320000 >"$tmp/out" 2>"$tmp/err" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 600); do
  grep -q 'listening on' "$tmp/out" 2>/dev/null && break
  kill -0 $pid 2>/dev/null || { cat "$tmp/err"; exit 1; }
  sleep 0.1
done
url=$(sed -n 's/^xxxd: listening on \(http:[^ ]*\).*/\1/p' "$tmp/out")
slots=$(curl -s "$url/health" | jq -r .slots)
body='{"language": "python", "code": "print(\"hello\")"}'
cores=$(nproc)

# Busy CPU time of the whole machine, in ms, from /proc/stat.
busy_ms() {
  awk -v hz="$(getconf CLK_TCK)" '/^cpu / {print ($2 + $3 + $4 + $7 + $8) * 1000 / hz}' /proc/stat
}
field() { jq -r ".$1" <<<"$2"; }

# Warm-up: first runs fault in python and the page cache.
"$load" exec 20 -- /usr/bin/python3 -c 'print("hello")' >/dev/null
"$load" http "$url/api/repl/execute" "$body" 1 20 >/dev/null

# CPU per bare run, measured as the service's is: the whole machine's busy
# time during N runs at concurrency 2, divided by N (python, and the
# posix_spawn and wait that start it; kernel threads). Prints that and
# python's own CPU per run (RUSAGE_CHILDREN), which leaves out its start.
bare_cpu() {
  local b0 b1 r
  b0=$(busy_ms)
  r=$("$load" exec "$1" 2 -- /usr/bin/python3 -c 'print("hello")')
  b1=$(busy_ms)
  awk -v a="$b0" -v b="$b1" -v n="$1" -v c="$(field cpu_ms_per_run "$r")" \
    'BEGIN {printf "%.2f %.2f\n", (b - a) / n, c}'
}

bare=$("$load" exec "$n" -- /usr/bin/python3 -c 'print("hello")')
http1=$("$load" http "$url/api/repl/execute" "$body" 1 "$n")
bare_p50=$(field p50_ms "$bare")
http_p50=$(field p50_ms "$http1")
read -r cpu_before own_before < <(bare_cpu "$n")

rows=""
best=0
for c in 1 2 4 8 16; do
  reqs=$((n > 25 * c ? n : 25 * c))
  b0=$(busy_ms)
  r=$("$load" http "$url/api/repl/execute" "$body" "$c" "$reqs")
  b1=$(busy_ms)
  rps=$(field rps "$r")
  cpu_per=$(awk -v a="$b0" -v b="$b1" -v n="$reqs" 'BEGIN {printf "%.1f", (b - a) / n}')
  best=$(awk -v r="$rps" -v b="$best" 'BEGIN {print (r > b) ? r : b}')
  rows+="| $c | $reqs | $(field ok "$r") | $rps | $(field p50_ms "$r") | $(field p99_ms "$r") | $cpu_per | |"$'\n'
done

# This machine's speed drifts by several percent within minutes: the bare
# CPU per run is measured again after the throughput steps, and the ceiling
# uses the mean of the two.
read -r cpu_after own_after < <(bare_cpu "$n")
cpu_run=$(awk -v a="$cpu_before" -v b="$cpu_after" 'BEGIN {printf "%.2f", (a + b) / 2}')
ceiling=$(awk -v c="$cores" -v t="$cpu_run" 'BEGIN {printf "%.1f", c * 1000 / t}')
rows=$(awk -v m="$ceiling" -F'|' 'NF > 8 {printf "|%s|%s|%s|%s|%s|%s|%s| %.1f%% |\n", $2, $3, $4, $5, $6, $7, $8, 100 * $5 / m}' <<<"$rows")$'\n'
added=$(awk -v a="$http_p50" -v b="$bare_p50" 'BEGIN {printf "%+.2f", a - b}')
best_pct=$(awk -v r="$best" -v m="$ceiling" 'BEGIN {printf "%.1f", 100 * r / m}')

# Paired rounds, for the verdict. The speed of this machine drifts by 5 to
# 15% within minutes, more than the margin in question, so one ceiling for
# the whole run can miss the throughput steps. Each round measures bare CPU
# per run, the service at concurrency 8, then bare again; the round's
# ceiling comes from the two bare figures around it (each the next round's
# first). The verdict is on the median round, unrounded (84.6% is not 85%).
rounds=${ROUNDS:-7}
pairs=""
ratios=""
owns=""
read -r prev prev_own < <(bare_cpu 300)
for i in $(seq 1 "$rounds"); do
  rps=$(field rps "$("$load" http "$url/api/repl/execute" "$body" 8 400)")
  read -r next next_own < <(bare_cpu 300)
  read -r ceil ratio raw own < <(awk -v c="$cores" -v a="$prev" -v b="$next" -v r="$rps" \
    -v oa="$prev_own" -v ob="$next_own" 'BEGIN {m = c * 1000 / ((a + b) / 2);
      o = c * 1000 / ((oa + ob) / 2); printf "%.1f %.2f %.6f %.6f\n", m, 100 * r / m, 100 * r / m, 100 * r / o}')
  pairs+="| $i | $prev ($prev_own) | $next ($next_own) | $ceil | $rps | $ratio% |"$'\n'
  ratios+="$raw"$'\n'
  owns+="$own"$'\n'
  prev=$next prev_own=$next_own
done
# The median of one number per line.
median_of() {
  sort -n <<<"${1%$'\n'}" | awk '{v[NR] = $1} END {printf "%.6f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
median_raw=$(median_of "$ratios")
median=$(printf '%.2f' "$median_raw")
low=$(sort -n <<<"${ratios%$'\n'}" | head -1 | xargs printf '%.2f')
high=$(sort -n <<<"${ratios%$'\n'}" | tail -1 | xargs printf '%.2f')
verdict=$(awk -v m="$median_raw" 'BEGIN {print (m >= 85) ? "met" : "missed"}')
median_own=$(printf '%.2f' "$(median_of "$owns")")
section=$(
  cat <<MD
<!-- service:begin -->
## Service

Python hello (\`print("hello")\`) end to end: \`POST /api/repl/execute\` on a
real xxxd (libmicrohttpd, a box per slot serving run after run, result as JSON) from a keep-alive
libcurl client (bench/service_load.c), against bare \`/usr/bin/python3 -c\`
started with posix_spawn on the same machine. $n runs each after 20 warm-up
runs; $cores cores, $slots slots.

| | median ms | p99 ms | mean ms |
|---|---|---|---|
| bare \`python3 -c 'print("hello")'\` | $bare_p50 | $(field p99_ms "$bare") | $(field mean_ms "$bare") |
| HTTP, concurrency 1 | $http_p50 | $(field p99_ms "$http1") | $(field mean_ms "$http1") |
| **added by the service** | **$added** | | |

Throughput. "CPU ms/run" is the whole machine's busy time (/proc/stat)
during a step divided by its runs: for the service, python, the box, xxxd,
the load generator and kernel threads together; for bare python, python and
the posix_spawn and wait that start it (the same measure on both sides).
The CPU allows $cores cores / $cpu_run ms of CPU per bare run = **$ceiling
runs/s** (bare $cpu_before ms before the throughput steps, $cpu_after ms
after, their mean; python's own CPU alone, from RUSAGE_CHILDREN, was
$own_before and $own_after ms); "of ceiling" compares with that.

| concurrency | requests | ok | runs/s | median ms | p99 ms | CPU ms/run | of ceiling |
|---|---|---|---|---|---|---|---|
$rows
The verdict comes from $rounds paired rounds: bare CPU per run (300 runs
at concurrency 2), the service at concurrency 8 (400 requests), bare again;
each round's ceiling is $cores cores over the mean of the two bare figures
around it (python's own CPU in brackets).

| round | bare ms before | bare ms after | ceiling runs/s | service runs/s | of ceiling |
|---|---|---|---|---|---|
$pairs
Targets (issue 3): at most 5 ms added to the median — measured $added ms;
throughput within 85% of the CPU ceiling — **median round $median%**
(rounds $low% to $high%; $verdict); against python's own CPU alone as the
ceiling (stricter: it leaves out what starting python costs), the median
round is $median_own%; the best step of the table above, against its one
ceiling, $best_pct%. The gap is CPU, not waiting: compare the "CPU ms/run"
column with the bare $cpu_run ms.

Where the rest went before a box served more than one step (2026-11-27,
CPU of each thread of xxxd from \`/proc/PID/task/*/stat\` and of its reaped
children over 1000 runs at concurrency 16, in ms per run): python and
xxx-init together 16.3 (bare python alone 15.6 at concurrency 2 in the same
minutes), the warmer threads 0.35, the threads that supervise steps 0.29,
libmicrohttpd's thread 0.21; the load generator, softirq and kernel threads
the rest. Since a box serves its slot's steps (perf, whole machine, ms per
run at concurrency 8): the box's making and teardown in the init, the
warmers and kernel threads went from about 1.9 to 1.4 ms over bare. Where
that goes (perf sampling of the whole machine, 400 runs at concurrency 8,
2026-11-27, ms per run): python itself 16.2 to 16.8 in a box against 16.4
to 16.8 bare, the same within noise; xxxd's threads 0.77, of which the new
workspace per lease about 0.25 (a tmpfs mount, and the unmount of the old
one and of its four binds in the box, each waiting on an expedited RCU
grace period), the pid counter's reset 0.08 (a short-lived child) and the
rest supervision (poll, pipes, cgroup reads, hand-offs between threads);
xxx-init 0.26 (starting the program); libmicrohttpd 0.22; the RCU
grace-period thread 0.07; the load generator 0.17 (0.25 for bare, whose
posix_spawn it makes). No one part is large: without the workspace swap
at all (an unsafe hack, to bound it) the service did +0.9% runs/s, and all
of xxxd at SCHED_BATCH (so that its wake-ups do not preempt python) -0.9%,
in A/Bs of four rounds. The steps that brought this from 68%
(each an A/B of two binaries alternated under the same load,
\`bash bench/service_ab.sh A B\`): xxx-init instead of a copy of xxxd for
every box (tree CPU per run 21.1 against 19.3 ms); the slot's run cgroup
kept instead of made and removed per step (+8% runs/s, 0.6 ms less CPU
per run); the slot's template root, the fd table unshared below a few low
fds, the seccomp filter as a binary tree (+5%, 0.9 ms less); CPU placement
(+10.6%, 0.5 ms less: idle at concurrency 16 went from 7% to under 1%);
the cgroup files kept open, the CPU counter read only when a limit could
be near, five ambient capabilities instead of 41 and only the ignored
signals reset (+1.1%); one IPC namespace per slot, emptied between boxes,
instead of one per box (+2.1%, 0.2 ms less); xxx-init linked with musl
instead of glibc, and several warmer threads (+1.8% together, 0.24 ms
less); a box that serves its slot's steps and leases instead of a box per
step, with the seccomp filter installed once in its init (+4.1%, then
+0.6%). Tried and dropped: emptying the workspace tmpfs in place instead
of a fresh mount per lease (0.08 ms less CPU per run, but 2% fewer runs/s,
with more idle time, in two A/Bs of four rounds each, for reasons not
found; with kept boxes it would also let a tmpfs's inode numbers count
one lease's files for the next).

Measured $(date -u +%Y-%m-%d) on $cores cores ($(uname -r)), with
\`bash bench/service_bench.sh\` (also run by \`make bench\`).
<!-- service:end -->
MD
)

[ -f "$doc" ] || printf '# Benchmarks\n' >"$doc"
if grep -q '<!-- service:begin -->' "$doc"; then
  SECTION=$section awk '
    /<!-- service:begin -->/ {print ENVIRON["SECTION"]; skip = 1; next}
    /<!-- service:end -->/ {skip = 0; next}
    !skip {print}' "$doc" >"$tmp/doc"
  cat "$tmp/doc" >"$doc"
else
  printf '\n%s\n' "$section" >>"$doc"
fi
echo "$section"
