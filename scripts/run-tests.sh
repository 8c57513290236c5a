#!/usr/bin/env bash
# Runs every test binary under BUILD/tests (not the box programs) and prints
# one closing line "N passed, N failed".
set -uo pipefail
build=${1:-build}
pass=0
fail=0
failed=()
for t in $(find "$build/tests" -maxdepth 2 -type f -name 'test_*' -perm -u+x | sort); do
  echo "== $t"
  if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$t"); fi
done
for t in $(find tests -maxdepth 2 -type f -name 'test_*.sh' | sort); do
  echo "== $t"
  # Shell tests start servers and boxes with fixed uids and state dirs: they
  # hold the same lock as the box suites, so two checkouts never overlap
  # (-o: held by flock itself, so a server a test leaks cannot keep it).
  if BUILD="$build" flock -o /run/xxxtest.lock bash "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$t"); fi
done
((fail)) && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
