#!/usr/bin/env bash
# A crashed xxxd leaves nothing running, and the next start removes what it
# left behind (run cgroups, slot mounts). Needs root.
set -u
build=${BUILD:-build}
xxxd="$build/xxxd"
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
box_pids() { ps -eo uid=,pid= | awk '$1 >= 60000 && $1 < 61000 {print $2}'; }
stale_cgroups() { find /sys/fs/cgroup -maxdepth 4 -path '*/xxx/slot-*/run' -type d 2>/dev/null; }

"$xxxd" box run --wall-ms 20000 -- /bin/sh -c 'sleep 60 & sleep 60' >/dev/null &
victim=$!
for _ in $(seq 100); do [ -n "$(box_pids)" ] && [ -n "$(stale_cgroups)" ] && break; sleep 0.05; done
check "a running box exists before the crash" test -n "$(box_pids)"
kill -9 "$victim"
wait "$victim" 2>/dev/null
for _ in $(seq 100); do [ -z "$(box_pids)" ] && break; sleep 0.05; done
check "no process of the box survives its supervisor (PR_SET_PDEATHSIG)" test -z "$(box_pids)"
check "the crash left its run cgroup behind (what the next start must clean)" test -n "$(stale_cgroups)"
check "no workspace stays mounted on the host (private mount namespace)" \
  sh -c '! grep -q " /run/xxx/" /proc/self/mountinfo'

out=$("$xxxd" box run -- /bin/echo clean)
check "the next start runs boxes" grep -q '"stdout": "clean\\n"' <<<"$out"
check "and removed every run cgroup the crash left" test -z "$(stale_cgroups)"
check "and left no process behind" test -z "$(box_pids)"

finish
