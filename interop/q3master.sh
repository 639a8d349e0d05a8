#!/usr/bin/env bash
# Interop with real Quake 3 programs (Debian packages): a real OpenArena server
# registers with Glou's q3master listener, shows up in the native API, is listed by
# the real qstat, and is gone within seconds of shutting down.
#
#   interop/q3master.sh [GLOU_BINARY]
#
# Uses ../shared/realpeers/run-openarena.sh and run-qstat.sh (they install
# openarena-server and qstat when missing; root needed then). Everything stays on
# 127.0.0.1. Prints one line per check and ends with "q3master interop: N passed,
# M failed"; exits non-zero if any check failed.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${GLOU_REALPEERS:-$ROOT/../shared/realpeers}
GLOU=${1:-$ROOT/target/debug/glou}
[ -x "$GLOU" ] || { echo "no glou binary at $GLOU (cargo build -p glou)" >&2; exit 2; }
[ -d "$PEERS" ] || { echo "no realpeers directory at $PEERS" >&2; exit 2; }

WORK=$(mktemp -d)
export GLOU_PEERS_DIR=$WORK/peers
passed=0
failed=0
GLOU_PID=
OA_PID=

check() { # check NAME COMMAND...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok - $name"; else failed=$((failed + 1)); echo "not ok - $name"; fi
}
cleanup() {
  [ -n "$OA_PID" ] && kill "$OA_PID" 2>/dev/null
  [ -n "$GLOU_PID" ] && kill "$GLOU_PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# Poll COMMAND for up to SECONDS.
within() { # within SECONDS COMMAND...
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}
free_udp_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- Glou on free ports -------------------------------------------------------------
# Status polls every second, so the bots show up in the player list quickly.
printf '[q3master]\nstatus_interval = 1\n' >"$WORK/glou.toml"
"$GLOU" serve --config "$WORK/glou.toml" --data-dir "$WORK/data" --http 127.0.0.1:0 --q3master 127.0.0.1:0 --ggz off --ggzmeta off --allow-private \
  >"$WORK/glou.out" 2>"$WORK/glou.err" &
GLOU_PID=$!
within 20 grep -q q3master "$WORK/glou.out" || { echo "glou did not start:"; cat "$WORK/glou.err"; exit 1; }
HTTP=$(sed -n 's/^glou listening on \(http:.*\)$/\1/p' "$WORK/glou.out")
Q3PORT=$(sed -n 's/^glou listening on q3master udp:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$WORK/glou.out")
echo "# glou $HTTP, q3master udp 127.0.0.1:$Q3PORT"

# --- a real OpenArena server ------------------------------------------------------------
GAME_PORT=$(free_udp_port)
OA_PID=$(GAME_PORT=$GAME_PORT SV_HOSTNAME="Glou Interop OA" BOTS=2 "$PEERS/run-openarena.sh" "$Q3PORT" 2>"$WORK/oa.err") ||
  { echo "openarena-server did not start:"; cat "$WORK/oa.err"; exit 1; }
echo "# openarena-server pid $OA_PID on 127.0.0.1:$GAME_PORT"

listed() {
  curl -sf "$HTTP/api/v1/servers?game=openarena&source=q3" >"$WORK/list.json" &&
    python3 - "$WORK/list.json" "127.0.0.1:$GAME_PORT" <<'EOF'
import json, sys
servers = json.load(open(sys.argv[1]))["servers"]
ok = any(s["address"] == sys.argv[2] and s["name"] == "Glou Interop OA" and s["map"] == "oa_dm1"
         and s["max_players"] == 8 and s["rules"].get("gamename") == "Quake3Arena" for s in servers)
sys.exit(0 if ok else 1)
EOF
}
check "the OpenArena server is listed in the native API with its hostname and map" within 15 listed

# Two bots (ioquake3 adds them about 10 s after the map loads, and a bot joining sends
# no heartbeat): the status poll must list both, and flag that the counts the server
# announced (no clients) disagree with its status.
status_checked() {
  curl -sf "$HTTP/api/v1/servers?game=openarena" >"$WORK/status.json" &&
    python3 -c '
import json, sys
servers = json.load(open(sys.argv[1]))["servers"]
ok = servers and len(servers[0]["player_list"]) == 2 and servers[0]["rules"].get("glou_counts") == "disagree"
sys.exit(0 if ok else 1)
' "$WORK/status.json"
}
check "a status poll lists its two bots and flags the counts it announced" within 30 status_checked

qstat_lists() { # qstat_lists MODE PATTERN
  "$PEERS/run-qstat.sh" "$Q3PORT" "$1" >"$WORK/qstat-$1.out" 2>&1
  grep -q -- "$2" "$WORK/qstat-$1.out"
}
check "qstat -q3m,71 lists it" qstat_lists list71 "127.0.0.1:$GAME_PORT"
check "qstat -openarenam lists it and reads its info" qstat_lists oa "127.0.0.1:$GAME_PORT .*Glou Interop OA"
check "qstat -q3m (protocol 68) does not list a protocol 71 server" \
  bash -c "! '$PEERS/run-qstat.sh' '$Q3PORT' list | grep -q '127.0.0.1:$GAME_PORT'"

# --- shutdown: two heartbeats, then silence -----------------------------------------------
kill "$OA_PID"
OA_PID=
gone() { ! listed; }
start=$SECONDS
check "the server is gone within 10 s of shutting down" within 10 gone
echo "# removed after about $((SECONDS - start)) s"
check "qstat no longer lists it" bash -c "! '$PEERS/run-qstat.sh' '$Q3PORT' list71 | grep -q '127.0.0.1:$GAME_PORT'"

kill "$GLOU_PID"
wait "$GLOU_PID"
status=$?
GLOU_PID=
check "glou exits 0 on SIGTERM" test "$status" -eq 0

echo "q3master interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
