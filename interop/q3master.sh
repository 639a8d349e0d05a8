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
GLOU_PID=
OA_PID=
. "$ROOT/interop/lib/common.sh"

cleanup() {
  [ -n "$OA_PID" ] && kill "$OA_PID" 2>/dev/null
  [ -n "$GLOU_PID" ] && kill "$GLOU_PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- Glou on free ports -------------------------------------------------------------
# Status polls every second, so the bots show up in the player list quickly.
printf '[q3master]\nstatus_interval = 1\n' >"$WORK/glou.toml"
start_glou --config "$WORK/glou.toml" --q3master 127.0.0.1:0 --ggz off --ggzmeta off --tw07master off --wzlobby off
Q3PORT=$(listener_port q3master)
echo "# glou $HTTP, q3master udp 127.0.0.1:$Q3PORT"

# --- a real OpenArena server ------------------------------------------------------------
GAME_PORT=$(free_port udp)
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

stop_glou

echo "q3master interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
