# lib.sh — the pass/fail harness every shell test sources.
#
# check NAME COMMAND...: runs COMMAND and counts the verdict ("ok   NAME" or
# "FAIL NAME"); eq, contains and ge are COMMANDs that say what they wanted
# when they fail; a test may define bad_detail to print more on a failure.
# finish: lists the failures, prints "N passed, N failed" and exits non-zero
# on any failure. port_base chooses ports for servers that cannot take
# port 0 and say where they listen.
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

# port_base FIRST LAST WIDTH: the first BASE from FIRST to LAST, in steps of
# WIDTH, such that no socket uses a port from BASE to BASE+WIDTH-1. Fixed
# ports sit in the ephemeral range, so some client's connection can hold
# one, and a listener will not bind beside it. Failing a clean range, one
# with only TIME-WAIT leftovers will do; failing that, status 1.
port_base() {
  local filter b
  for filter in "" "exclude time-wait"; do
    for b in $(seq "$1" "$3" "$2"); do
      # shellcheck disable=SC2086
      if [ -z "$(ss -tanH $filter "( sport >= :$b and sport <= :$((b + $3 - 1)) )")" ]; then
        echo "$b"
        return 0
      fi
    done
  done
  return 1
}
