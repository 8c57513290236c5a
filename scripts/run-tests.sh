#!/usr/bin/env bash
# Runs every test binary under BUILD/tests (not the box programs) and prints
# one closing line "N passed, N failed".
set -uo pipefail
build=${1:-build}
pass=0
fail=0
failed=()
# A suite that hangs fails on its own instead of stalling the whole run
# (the slowest, tests/service/test_e2e.sh, takes about a minute, plain or
# under ASan).
limit=${TEST_TIMEOUT:-900}
for t in $(find "$build/tests" -maxdepth 2 -type f -name 'test_*' -perm -u+x | sort); do
  echo "== $t"
  start=$SECONDS
  if timeout -k 10 "$limit" "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$t"); fi
  echo "-- $t: $((SECONDS - start)) s"
done
for t in $(find tests -maxdepth 2 -type f -name 'test_*.sh' | sort); do
  echo "== $t"
  # Shell tests start servers and boxes with fixed uids and state dirs: they
  # hold the same lock as the box suites, so two checkouts never overlap
  # (-o: held by flock itself, so a server a test leaks cannot keep it).
  start=$SECONDS
  if BUILD="$build" flock -o /run/xxxtest.lock timeout -k 10 "$limit" bash "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$t"); fi
  echo "-- $t: $((SECONDS - start)) s"
done
((fail)) && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
