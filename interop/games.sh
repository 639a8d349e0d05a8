#!/usr/bin/env bash
# Interop with three more real game servers (Debian packages): a Teeworlds 0.7.5
# server registers with Glou's tw07master listener, freeciv-server 3.0.6 reports to
# /metaserver.php, and a Warzone 2100 4.3.3 host lists its game with the wzlobby
# listener. Each appears in the native API with its name and map and in the GGZ
# metaserver, each master's list answers the game's own clients, and freeciv's `quit`
# and Warzone's exit remove them.
#
#   interop/games.sh [GLOU_BINARY]
#
# Uses ../shared/realpeers/run-{teeworlds,freeciv,warzone2100}.sh (they install
# teeworlds-server, freeciv-server, warzone2100 and nftables when missing; root
# needed then). Teeworlds talks to masters on UDP port 8283 only: run-teeworlds.sh
# redirects the server's packets to Glou's port with an nftables DNAT rule (root), and
# removes it on stop. Everything stays on 127.0.0.1. Prints one line per check and
# ends with "games interop: N passed, M failed"; exits non-zero if any check failed.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${GLOU_REALPEERS:-$ROOT/../shared/realpeers}
GLOU=${1:-$ROOT/target/debug/glou}
[ -x "$GLOU" ] || { echo "no glou binary at $GLOU (cargo build -p glou)" >&2; exit 2; }
[ -d "$PEERS" ] || { echo "no realpeers directory at $PEERS" >&2; exit 2; }

WORK=$(mktemp -d)
export GLOU_PEERS_DIR=$WORK/peers
GLOU_PID=
. "$ROOT/interop/lib/common.sh"

cleanup() {
  # stop-peer.sh also removes the Teeworlds DNAT rule.
  "$PEERS/stop-peer.sh" --all >/dev/null 2>&1
  [ -n "$GLOU_PID" ] && kill "$GLOU_PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

start_glou --q3master off --ggz off --ggzmeta 127.0.0.1:0 --tw07master 127.0.0.1:0 --wzlobby 127.0.0.1:0
TWPORT=$(listener_port tw07master)
WZPORT=$(listener_port wzlobby)
METAPORT=$(listener_port ggzmeta)
HTTPPORT=${HTTP##*:}
echo "# glou $HTTP, tw07master udp :$TWPORT, wzlobby tcp :$WZPORT, ggzmeta tcp :$METAPORT"

# listed GAME ADDRESS NAME MAP: the native API lists the server with that name and map.
listed() {
  curl -sf "$HTTP/api/v1/servers?game=$1" >"$WORK/list-$1.json" &&
    python3 - "$WORK/list-$1.json" "$2" "$3" "$4" <<'PY'
import json, sys
_, path, address, name, map_ = sys.argv
servers = json.load(open(path))["servers"]
sys.exit(0 if any(s["address"] == address and s["name"] == name and s["map"] == map_
                  for s in servers) else 1)
PY
}
unlisted() { # unlisted GAME ADDRESS
  curl -sf "$HTTP/api/v1/servers?game=$1" | grep -vq "\"address\":\"$2\""
}
# The GGZ metaserver's URI query lists the server.
in_ggzmeta() { # in_ggzmeta GAME ADDRESS
  python3 - "$METAPORT" "$1" "$2" <<'PY'
import socket, sys
_, port, game, address = sys.argv
with socket.create_connection(("127.0.0.1", int(port)), timeout=5) as s:
    s.sendall(f"query://{game}/server\n".encode())
    reply = b""
    while not reply.endswith(b"\n\n") and reply != b"\n":
        chunk = s.recv(4096)
        if not chunk:
            break
        reply += chunk
sys.exit(0 if f"{game}://{address}".encode() in reply else 1)
PY
}

# --- Teeworlds 0.7.5 --------------------------------------------------------------------
TW_PORT=$(free_port udp)
TW_PID=$(GAME_PORT=$TW_PORT SV_NAME="Glou Interop TW" "$PEERS/run-teeworlds.sh" "$TWPORT" 2>"$WORK/tw.err") ||
  { echo "teeworlds-server did not start:"; cat "$WORK/tw.err"; exit 1; }
echo "# teeworlds-server pid $TW_PID on udp 127.0.0.1:$TW_PORT"
check "the Teeworlds server is listed with its name and map" \
  within 20 listed teeworlds "127.0.0.1:$TW_PORT" "Glou Interop TW" dm1
check "the Teeworlds server's log says it registered" \
  within 5 grep -q "server registered" "$GLOU_PEERS_DIR/teeworlds-$TW_PORT/server.log"
check "a 0.7 client's req2 gets it in lis2" \
  bash -c "python3 '$PEERS/tw07_query.py' master '127.0.0.1:$TWPORT' | grep -q '127.0.0.1:$TW_PORT'"
check "the GGZ metaserver lists it" in_ggzmeta teeworlds "127.0.0.1:$TW_PORT"

# --- freeciv-server 3.0.6 -------------------------------------------------------------------
FC_PORT=$(free_port tcp)
FC_PID=$(GAME_PORT=$FC_PORT "$PEERS/run-freeciv.sh" "$HTTPPORT" 2>"$WORK/fc.err") ||
  { echo "freeciv-server did not start:"; cat "$WORK/fc.err"; exit 1; }
FC_DIR=$GLOU_PEERS_DIR/freeciv-$FC_PORT
echo "# freeciv-server pid $FC_PID on tcp 127.0.0.1:$FC_PORT"
check "the freeciv server is listed under its identity" \
  within 20 listed freeciv "127.0.0.1:$FC_PORT" glou-freeciv.local ""
echo 'metamessage Glou interop game' >"$FC_DIR/stdin.fifo"
# freeciv reports a change no sooner than 7 s after its previous report.
check "its metamessage renames it" \
  within 20 listed freeciv "127.0.0.1:$FC_PORT" "Glou interop game" ""
client_list() {
  curl -sf -F "client_cap=+Freeciv-3.0-network" "$HTTP/metaserver.php" >"$WORK/fc-list.txt" &&
    grep -q "^nservers = 1" "$WORK/fc-list.txt" && grep -q "port = \"$FC_PORT\"" "$WORK/fc-list.txt"
}
check "a freeciv client's list request gets it in freeciv's format" client_list
check "the GGZ metaserver lists it" in_ggzmeta freeciv "127.0.0.1:$FC_PORT"
echo quit >"$FC_DIR/stdin.fifo"
check "freeciv's quit (bye=1) removes it" within 10 unlisted freeciv "127.0.0.1:$FC_PORT"

# --- Warzone 2100 4.3.3 ---------------------------------------------------------------------
WZ_GAME_PORT=$(free_port tcp)
WZ_PID=$(GAME_PORT=$WZ_GAME_PORT GAME_NAME="Glou Interop WZ" "$PEERS/run-warzone2100.sh" "$WZPORT" 2>"$WORK/wz.err") ||
  { echo "warzone2100 did not start:"; cat "$WORK/wz.err"; exit 1; }
echo "# warzone2100 pid $WZ_PID, game port $WZ_GAME_PORT"
check "the Warzone 2100 game is listed with its name and map" \
  within 30 listed warzone2100 "127.0.0.1:$WZ_GAME_PORT" "Glou Interop WZ" Sk-Rush
wz_list() {
  python3 - "$WZPORT" "$WZ_GAME_PORT" <<'PY'
import socket, struct, sys
_, port, game_port = sys.argv
with socket.create_connection(("127.0.0.1", int(port)), timeout=5) as s:
    s.sendall(b"list\0")
    data = b""
    while chunk := s.recv(65536):
        data += chunk
count = struct.unpack(">I", data[:4])[0]
games = [data[4 + i * 814: 4 + (i + 1) * 814] for i in range(count)]
ok = any(g[4:20].startswith(b"Glou Interop WZ") and g[76:86].startswith(b"127.0.0.1")
         and struct.unpack(">H", g[377:379])[0] == int(game_port) for g in games)
sys.exit(0 if ok else 1)
PY
}
check "a Warzone client's list gets the game with the host's address" wz_list
check "the GGZ metaserver lists it" in_ggzmeta warzone2100 "127.0.0.1:$WZ_GAME_PORT"
kill "$WZ_PID"
check "the game leaves when the host exits" within 10 unlisted warzone2100 "127.0.0.1:$WZ_GAME_PORT"

stop_glou

echo "games interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
