# lib.sh — the pass/fail harness of the box shell tests (sourced).
# check NAME COMMAND...: runs COMMAND, counts and prints the verdict;
# finish: prints "N passed, N failed" and exits non-zero on any failure.
pass=0
fail=0
check() {
  local name=$1
  shift
  if "$@"; then pass=$((pass + 1)); echo "ok   $name"; else fail=$((fail + 1)); echo "FAIL $name"; fi
}
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
  exit
}
