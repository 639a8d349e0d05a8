#!/usr/bin/env bash
# The web game browser in a real browser: the TypeScript type check, a rebuild of
# web/dist that must match the committed one byte for byte (the binary embeds what is
# committed), then the Playwright suite (web/tests) in Debian's Chromium against a live
# Glou that serves the page it has built in.
#
#   interop/web.sh [GLOU_BINARY]
#
# Installs chromium (and node/npm) with apt-get when missing, and the suite's npm
# packages with `npm ci`. GLOU_SCREENSHOTS=DIR saves the README's screenshots there.
# Everything stays on 127.0.0.1. Ends with "web interop: N passed, M failed".
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
GLOU=${1:-$ROOT/target/debug/glou}
[ -x "$GLOU" ] || { echo "no glou binary at $GLOU (cargo build -p glou)" >&2; exit 2; }
GLOU=$(cd "$(dirname "$GLOU")" && pwd)/$(basename "$GLOU")

missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || { echo "cannot install ${missing[*]}" >&2; exit 2; }
fi
export CHROMIUM

WORK=$(mktemp -d)
GLOU_PID=
. "$ROOT/interop/lib/common.sh"

cleanup() {
  [ -n "$GLOU_PID" ] && kill "$GLOU_PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

cd "$ROOT/web" || exit 2
check "npm ci installs the pinned packages" \
  bash -c "npm ci --no-audit --no-fund --loglevel=error >'$WORK/npm.out' 2>&1" ||
  tail -20 "$WORK/npm.out"
check "the TypeScript type-checks (npm run check)" \
  bash -c "npm run -s check >'$WORK/tsc.out' 2>&1" || cat "$WORK/tsc.out"
cp -r dist "$WORK/committed-dist"
check "npm run build reproduces the committed web/dist" \
  bash -c "npm run -s build >'$WORK/build.out' 2>&1 && diff -r '$WORK/committed-dist' dist" ||
  { cat "$WORK/build.out"; rm -rf dist; cp -r "$WORK/committed-dist" dist; }

# The same Glou a player runs, with only the HTTP listener; loopback is trusted, so the
# suite's registrations are not limited per address (several runs may share a server).
start_glou --q3master off --ggz off --ggzmeta off --tw07master off --wzlobby off \
  --trusted 127.0.0.0/8
echo "# glou at $HTTP"

# The statistics test reports a match: it needs an account allowed to (made the way an
# operator would, with the admin CLI beside the running server).
"$GLOU" user add webreporter --password "reporter pw" --perm report_results \
  --data-dir "$WORK/data" >/dev/null || { echo "glou user add failed" >&2; exit 1; }
export GLOU_REPORTER="webreporter:reporter pw"

# The rooms test opens and closes rooms through the admin API, with the local admin
# token (written whole before the server's ready lines).
grep -qx '[0-9a-f]\{64\}' "$WORK/data/admin.token" ||
  { echo "no admin token in $WORK/data" >&2; exit 1; }
GLOU_ADMIN_TOKEN=$(cat "$WORK/data/admin.token")
export GLOU_ADMIN_TOKEN

# node --test prints "# pass N" and "# fail M" after its own report.
GLOU_URL=$HTTP npm test 2>&1 | tee "$WORK/suite.out"
suite=${PIPESTATUS[0]}
suite_passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$WORK/suite.out")
suite_failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$WORK/suite.out")
passed=$((passed + ${suite_passed:-0}))
failed=$((failed + ${suite_failed:-0}))
check "the Playwright suite ran and passed" test "$suite" -eq 0 -a "${suite_passed:-0}" -gt 0

stop_glou
echo "web interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
