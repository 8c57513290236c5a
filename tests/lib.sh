# lib.sh — the pass/fail harness every shell test sources.
#
# check NAME COMMAND...: runs COMMAND and counts the verdict ("ok   NAME" or
# "FAIL NAME"); eq, contains and ge are COMMANDs that say what they wanted
# when they fail; a test may define bad_detail to print more on a failure.
# finish: lists the failures, prints "N passed, N failed" and exits non-zero
# on any failure.
pass=0
fail=0
failed=()

ok() {
  pass=$((pass + 1))
  echo "ok   $1"
}
bad() {
  fail=$((fail + 1))
  failed+=("$1")
  echo "FAIL $1"
  if declare -F bad_detail >/dev/null; then bad_detail; fi
}
check() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}
# eq GOT WANT: equal, or say both.
eq() {
  [ "$1" == "$2" ] && return 0
  printf '     want: %q\n     got:  %q\n' "$2" "$1"
  return 1
}
# contains TEXT PART
contains() {
  [[ $1 == *"$2"* ]] && return 0
  printf '     want something containing: %q\n     got: %.300q\n' "$2" "$1"
  return 1
}
# ge GOT MIN: a number at least MIN.
ge() {
  [ "$1" -ge "$2" ] && return 0
  echo "     want at least $2, got $1"
  return 1
}
finish() {
  ((fail)) && printf 'failed: %s\n' "${failed[@]}"
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
  exit
}
