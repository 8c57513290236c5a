#!/usr/bin/env bash
# `xxxd box run` and `xxxd box check`: the result as JSON, the limits flags,
# the host report, and a clear refusal without root.
set -u
build=${BUILD:-build}
xxxd="$build/xxxd"
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
field() { jq -r "$1" <<<"$2"; }

out=$("$xxxd" box run --stdin 'in put' -- /bin/sh -c 'cat; echo err >&2; exit 3')
is_json() { jq -e . <<<"$1" >/dev/null; }
check "box run prints the result as JSON" is_json "$out"
check "with stdout, stderr, status and exit code" test \
  "$(field '[.stdout, .stderr, .status, .exit_code] | map(tostring) | join("|")' "$out")" = "in put|err
|runtime_error|3"
check "and the accounting fields" test \
  "$(field '[.wall_ms, .cpu_ms, .memory_bytes] | map(type) | join(" ")' "$out")" = "number number number"

out=$("$xxxd" box run --wall-ms 300 -- /bin/sleep 5)
check "--wall-ms ends a sleeper as timeout, limit wall" test \
  "$(field '[.status, .limit, .signal] | join(" ")' "$out")" = "timeout wall SIGKILL"
out=$("$xxxd" box run --output-bytes 100 -- /usr/bin/yes)
check "--output-bytes cuts at exactly the cap" test \
  "$(field '[.status, (.stdout | length), .stdout_truncated] | map(tostring) | join(" ")' "$out")" = "output_limit 100 true"
out=$("$xxxd" box run --memory-mb 64 -- /usr/bin/python3 -c 'b = bytearray(256 << 20)')
check "--memory-mb ends a hog as memory_limit" test "$(field .status "$out")" = memory_limit

report=$("$xxxd" box check)
check "box check says the host can run boxes (exit 0)" grep -q 'xxx can run boxes safely here' <<<"$report"
check "and names the cgroup layout" grep -Eq '^cgroups: +v[12]' <<<"$report"
check "and lists the seccomp policy" grep -Eq '^ +ptrace +-> EPERM' <<<"$report"

nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
err=$(nobody "$xxxd" box run -- /bin/true 2>&1)
rc=$?
check "box run without root exits 1 and says root is needed" \
  test "$rc:$(grep -c 'needs root' <<<"$err")" = "1:1"
report=$(nobody "$xxxd" box check 2>&1)
rc=$?
check "box check without root exits 1 and says why" \
  test "$rc:$(grep -c 'root: *NO' <<<"$report")" = "1:1"

out=$("$xxxd" box run --memory-mb nope -- /bin/true 2>&1)
rc=$?
check "a malformed limit is a usage error (exit 2)" test "$rc:$(grep -c 'wants a number' <<<"$out")" = "2:1"

finish
