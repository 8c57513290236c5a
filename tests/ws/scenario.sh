# scenario.sh — WebSocket scenarios of tests/ws/wsclient.py for test scripts
# that source tests/lib.sh (test_ws.sh; test_podman.sh against the Podman
# backend). scenario NAME runs one against $URL and keeps what it saw, one
# fact per line, in OUT; has and before check OUT; on a failed check,
# bad_detail prints OUT (clear OUT once the scenarios are done).

scenario() { OUT=$(timeout 60 python3 "$ROOT/tests/ws/wsclient.py" "$1" "$URL" 2>&1); }
# On a failure, what the scenario printed.
bad_detail() {
  [ -n "${OUT:-}" ] && sed 's/^/     | /' <<<"$OUT" | cut -c1-1200
}
# has TEXT: some line of OUT holds TEXT.
has() { grep -qF -- "$1" <<<"$OUT"; }
# before A B: the first line holding A comes before the first line holding B.
before() {
  local a b
  a=$(grep -nF -- "$1" <<<"$OUT" | head -1 | cut -d: -f1)
  b=$(grep -nF -- "$2" <<<"$OUT" | head -1 | cut -d: -f1)
  [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}
