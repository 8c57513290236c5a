#!/usr/bin/env bash
# test_web.sh — the playground: xxxd's static serving checked with curl (types,
# headers, "..", symlinks planted in the served directory, --web-dir errors),
# then the page itself driven in Debian's chromium by web/test/playground.mjs
# (playwright-core), each browser test leaving a screenshot in
# $BUILD/web-shots.
#
# Needs root (xxxd builds real boxes), curl, node and the built playground
# ($BUILD/web, web/node_modules: `make` does both). Prints "N passed, N
# failed"; exits non-zero on a failure. BUILD names the build directory.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
XXXD=$BUILD/xxxd
TMP=$(mktemp -d /tmp/xxx-web.XXXXXX)
FIRST_UID=7360000
SHOTS=$BUILD/web-shots

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
servers=()


cleanup() {
  for p in "${servers[@]}"; do
    kill -KILL "$p" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

# start_server NAME UID [xxxd options...]: sets SRV_PID and URL.
start_server() {
  local name=$1 uid=$2
  shift 2
  "$XXXD" --port 0 --state-dir "/run/xxx-webtest-$name" --cgroup-name "xxx-webtest-$name" \
    --first-uid "$uid" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  SRV_PID=$!
  servers+=("$SRV_PID")
  for _ in $(seq 1 600); do
    if grep -q 'listening on' "$TMP/$name.out" 2>/dev/null; then
      URL=$(sed -n 's/^xxxd: listening on \(http:[^ ]*\).*/\1/p' "$TMP/$name.out")
      return 0
    fi
    kill -0 "$SRV_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "xxxd $name did not start:"
  tail -20 "$TMP/$name.err"
  return 1
}

# fetch [curl args...] PATH: leaves status, content type, headers and body.
fetch() {
  local path=${*: -1}
  CODE=$(curl -s --path-as-is --max-time 30 -o "$TMP/body" -D "$TMP/hdrs" \
    -w '%{http_code} %{content_type}' "${@:1:$#-1}" "$URL$path")
  BODY=$(cat "$TMP/body")
  HDRS=$(tr -d '\r' <"$TMP/hdrs")
}

if [ ! -f "$BUILD/web/index.html" ] || [ ! -d "$ROOT/web/node_modules/playwright-core" ]; then
  echo "the playground is not built ($BUILD/web, web/node_modules): run make"
  echo "0 passed, 1 failed"
  exit 1
fi

# The served copy gets what a careless build or an attacker could plant.
cp -r "$BUILD/web" "$TMP/web"
echo "outside the web directory" >"$TMP/secret.txt"
ln -s ../secret.txt "$TMP/web/leak.txt"
ln -s /etc "$TMP/web/etc"
mkfifo "$TMP/web/pipe.js"

echo "== starting xxxd"
# Two slots and a queue of one: the 429 test fills them.
if ! start_server main $FIRST_UID --languages python,c,ruby,node --slots 2 --queue 1 \
  --web-dir "$TMP/web"; then
  echo "0 passed, 1 failed"
  exit 1
fi
MAIN_PID=$SRV_PID
echo "   $URL (pid $MAIN_PID)"

echo "== static files"
fetch /
check "GET / is the page" eq "$CODE" "200 text/html; charset=utf-8"
check "the page loads its script from the server" contains "$BODY" '<script type="module" src="app.js">'
check "the page may only talk to its own server (CSP)" \
  contains "$HDRS" "Content-Security-Policy: default-src 'self'"
check "nosniff" contains "$HDRS" "X-Content-Type-Options: nosniff"
head=$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "$URL/")
check "HEAD / is 200 without a body" eq "$head" "200 0"
fetch /app.js
check "the script is JavaScript" eq "$CODE" "200 text/javascript; charset=utf-8"
check "the script is the built bundle" eq "$(cmp -s "$TMP/body" "$BUILD/web/app.js" && echo same)" same
fetch /style.css
check "the style sheet is CSS" eq "$CODE" "200 text/css; charset=utf-8"
check "no font or style comes from elsewhere" bash -c "! grep -rqE 'https?://|@import|url\\((https?:)?//' '$BUILD/web/style.css' '$BUILD/web/index.html'"
chunk=$(cd "$BUILD/web" && ls chunks/*.js | head -1)
fetch "/$chunk"
check "a language chunk is served from chunks/" eq "$CODE" "200 text/javascript; charset=utf-8"
fetch /../../../etc/passwd
check "\"..\" is refused with 400" eq "$CODE $(jq -r .error.code <<<"$BODY")" "400 application/json invalid_path"
fetch /%2e%2e/%2e%2e/etc/passwd
check "an escaped \"..\" is refused too" eq "${CODE%% *}" "400"
fetch /leak.txt
check "a symlink to a file outside is not followed" eq "${CODE%% *} $(grep -c outside "$TMP/body")" "404 0"
fetch /etc/passwd
check "a symlink to a directory outside is not followed" eq "${CODE%% *}" "404"
fetch /pipe.js
check "a FIFO is not served (and does not hang the server)" eq "${CODE%% *}" "404"
fetch /nope.js
check "a missing file is a JSON 404" eq "$CODE $(jq -r .error.code <<<"$BODY")" "404 application/json not_found"
fetch -X POST /
check "POST / is not a page" eq "${CODE%% *}" "404"
fetch /api/nope
check "/api/ paths stay the API's (JSON 404)" contains "$BODY" "no such endpoint"
fetch /health
check "the API still answers beside the page" eq "$(jq -r .status <<<"$BODY")" "ok"

echo "== --web-dir"
out=$("$XXXD" --web-dir "$TMP/missing" --port 0 2>&1)
check "a --web-dir that does not exist stops xxxd at once (exit 2)" eq "$? $out" \
  "2 xxxd: --web-dir: cannot open the web directory $TMP/missing: No such file or directory"
MAIN_URL=$URL
if start_server off $((FIRST_UID + 100)) --languages bash --web-dir none; then
  fetch /
  check "--web-dir none: / says the playground is not served" \
    eq "${CODE%% *} $(jq -r .error.message <<<"$BODY")" \
    "404 the playground is not served: build it (make) or point --web-dir at it"
  kill -TERM "$SRV_PID"
  wait "$SRV_PID"
else
  bad "xxxd --web-dir none starts"
fi
URL=$MAIN_URL

echo "== the page in chromium"
rm -rf "$SHOTS"
XXX_URL=$URL SHOTS_DIR=$SHOTS node "$ROOT/web/test/playground.mjs" | tee "$TMP/browser.log"
summary=$(tail -1 "$TMP/browser.log")
bp=$(sed -n 's/^\([0-9]*\) passed.*/\1/p' <<<"$summary")
bf=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$summary")
if [ -z "$bp" ] || [ -z "$bf" ]; then
  bad "the browser tests ran to their end"
else
  pass=$((pass + bp))
  fail=$((fail + bf))
  ((bf)) && failed+=("$(grep '^FAIL' "$TMP/browser.log")")
  check "every browser test left its screenshot" \
    eq "$(ls "$SHOTS"/*.png | grep -vc FAILED)" "$(grep -c '^ok' "$TMP/browser.log")"
fi

echo "== shutdown"
kill -TERM "$MAIN_PID"
wait "$MAIN_PID"
check "xxxd exits 0 on SIGTERM after the browser tests" eq "$?" "0"
((fail)) && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
