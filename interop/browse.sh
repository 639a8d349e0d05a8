#!/usr/bin/env bash
# The terminal game browser (`glou browse`) as a player uses it, driven by keystrokes in
# a detached tmux session of fixed size against a live Glou: the announced servers
# appear, a server announced later appears without a key pressed, a withdrawn one goes,
# a typed filter narrows the list, a fake Quake 3 server and real OpenArena 0.8.8 and
# Teeworlds 0.7.5 servers (Debian's, through ../shared/realpeers) answer pings over
# their own protocols (a number in the Ping column), Enter starts the game's launch template (a recording command here) with
# the server's address as one argument, and the connection state follows Glou going
# away.
#
#   interop/browse.sh [GLOU_BINARY]
#
# Installs tmux when missing, and the realpeers scripts install openarena-server and
# teeworlds-server (root needed then); needs curl and python3. Everything stays
# on 127.0.0.1. Ends with "browse interop: N passed, M failed".
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
GLOU=${1:-$ROOT/target/debug/glou}
[ -x "$GLOU" ] || { echo "no glou binary at $GLOU (cargo build -p glou)" >&2; exit 2; }
GLOU=$(cd "$(dirname "$GLOU")" && pwd)/$(basename "$GLOU")

if ! command -v tmux >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    tmux >/dev/null || { echo "cannot install tmux" >&2; exit 2; }
fi
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "browse interop needs $tool" >&2; exit 2; }
done

WORK=$(mktemp -d)
GLOU_PID=
BG_PIDS=()
# A tmux server of our own, so that nothing else's sessions are touched.
TMUX_SOCKET=glou-browse-$$
SESSION=browse
. "$ROOT/interop/lib/common.sh"

tm() { tmux -L "$TMUX_SOCKET" "$@"; }

cleanup() {
  tm kill-server 2>/dev/null
  [ -n "${PEERS:-}" ] && "$PEERS/stop-peer.sh" --all >/dev/null 2>&1
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  [ -n "$GLOU_PID" ] && kill "$GLOU_PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- a fake Quake 3 server: answers getinfo with an infoResponse ----------------------
python3 - "$WORK/q3.port" "$WORK/q3.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
log = open(sys.argv[2], "a")
prefix = b"\xff\xff\xff\xffgetinfo"
while True:
    data, peer = s.recvfrom(4096)
    if not data.startswith(prefix):
        continue
    challenge = data[len(prefix):].strip()
    log.write("getinfo %s from %s:%d\n" % (challenge.decode("latin-1"), peer[0], peer[1]))
    log.flush()
    s.sendto(b"\xff\xff\xff\xffinfoResponse\n\\challenge\\" + challenge +
             b"\\hostname\\Alpha Arena\\mapname\\q3dm17\\clients\\3\\sv_maxclients\\16", peer)
PY
BG_PIDS+=($!)
within 10 test -s "$WORK/q3.port" || { echo "the fake Quake 3 server did not start"; exit 1; }
Q3PORT=$(cat "$WORK/q3.port")

start_glou --ggz off --ggzmeta off --q3master off --tw07master off --wzlobby off
echo "# glou $HTTP, fake Quake 3 server on 127.0.0.1:$Q3PORT"

# The launch template records its argument: argv, no shell sees the address unquoted.
cat >"$WORK/browse.toml" <<TOML
[games.openarena]
launch = ["sh", "-c", 'printf "%s\n" "\$0" > "$WORK/launched"', "{addr}"]
packages = []
[games.teeworlds]
launch = ["glou-no-such-game", "connect {addr}"]
packages = []
TOML

announce() { # announce JSON → prints "ID SECRET"
  curl -sf -X POST "$HTTP/api/v1/servers" -d "$1" |
    python3 -c 'import json, sys; r = json.load(sys.stdin); print(r["id"], r["secret"])'
}
read -r _ _ < <(announce "{\"game\":\"openarena\",\"address\":\"127.0.0.1:$Q3PORT\",\"name\":\"Alpha Arena\",\"map\":\"q3dm17\",\"players\":3,\"max_players\":16}")
read -r BRAVO_ID BRAVO_SECRET < <(announce '{"game":"openarena","address":"127.0.0.1:27961","name":"Bravo Base","map":"dm6","players":5,"max_players":8}')
read -r _ _ < <(announce '{"game":"teeworlds","address":"127.0.0.1:8303","name":"Charlie CTF","map":"ctf5","players":0,"max_players":8}')
read -r _ _ < <(announce '{"game":"openarena","address":"127.0.0.1:27962","name":"Evil\u202e name","map":"q3dm1","players":1,"max_players":4}')
check "four servers announced" test -n "$BRAVO_SECRET"

# --- the browser, in a 120×30 terminal ------------------------------------------------
tm new-session -d -s "$SESSION" -x 120 -y 30 \
  "TERM=xterm-256color '$GLOU' browse --server '$HTTP' --config '$WORK/browse.toml' 2>'$WORK/browse.err'; echo \$? >'$WORK/browse.status'"
pane() { tm capture-pane -p -t "$SESSION" 2>/dev/null; }
shows() { pane | grep -qF -- "$1"; }
hides() { ! pane | grep -qF -- "$1"; }
shows_re() { pane | grep -qE -- "$1"; }
keys() { tm send-keys -t "$SESSION" "$@"; }
dump() { echo "# pane:"; pane | sed 's/^/#   /'; }

listed() { shows "Alpha Arena" && shows "Bravo Base" && shows "Charlie CTF"; }
check "the browser shows the announced servers" within 15 listed || dump
check "it says it is connected" within 5 shows "connected to $HTTP" || dump
check "with counts: 4 of 4 servers, 9 players" shows "4 of 4 servers · 9 players" || dump
check "most players first, with their counts" shows_re "Bravo Base +openarena +dm6 +5/8 " || dump
check "a right-to-left override in a name is dropped, the columns stay" \
  shows_re "Evil name +openarena +q3dm1 +1/4 +- 127\.0\.0\.1:27962" || dump
check "the fake Quake 3 server is pinged with getinfo" within 10 grep -q "^getinfo " "$WORK/q3.log"
check "its ping shows as a number of milliseconds" \
  within 10 shows_re "Alpha Arena +openarena +q3dm17 +3/16 +[0-9]+ 127\.0\.0\.1:$Q3PORT" || dump
check "a server that answers nothing shows ping -" shows_re "Charlie CTF .* 0/8 +- 127\.0\.0\.1:8303" || dump

read -r _ _ < <(announce '{"game":"openarena","address":"127.0.0.1:27963","name":"Delta Late","players":2,"max_players":8}')
check "a server announced afterwards appears with no key pressed (live)" within 10 shows "Delta Late" || dump
curl -sf -X DELETE -H "Authorization: Bearer $BRAVO_SECRET" "$HTTP/api/v1/servers/$BRAVO_ID"
check "a withdrawn server disappears" within 10 hides "Bravo Base" || dump

keys '?'
check "? shows the keys" within 5 shows "installed games first" || dump
keys x
check "any key closes the help" within 5 hides "installed games first" || dump

keys /
keys -l alpha
narrowed() { shows "1 of 4 servers" && shows "Alpha Arena" && hides "Charlie CTF" && hides "Delta Late"; }
check "typing a filter after / narrows the list" within 5 narrowed || dump
check "the typed text is shown" shows "search: alpha" || dump
keys Enter
keys d
detailed() { shows "Source    native" && shows 'Launch    "sh" "-c"' && shows "Address   127.0.0.1:$Q3PORT"; }
check "d opens the details: address, source and launch command" within 5 detailed || dump
keys Escape
check "Esc closes the details" within 5 hides "Source    native" || dump

keys Enter
check "Enter runs the launch template with the address as one argument" \
  within 10 bash -c "[ \"\$(cat '$WORK/launched' 2>/dev/null)\" = '127.0.0.1:$Q3PORT' ]" ||
  { echo "# launched: $(cat "$WORK/launched" 2>/dev/null)"; dump; }
check "the browser comes back, saying the game exited" within 10 shows "openarena exited" || dump
check "and still lists the server" shows "Alpha Arena" || dump

# A game whose client is not installed: a message in the status line, no crash.
keys / C-u
keys -l charlie
keys Enter
check "a new filter shows the Teeworlds server" within 5 shows "Charlie CTF" || dump
keys Enter
check "Enter on a game that is not installed says so" \
  within 5 shows "cannot launch teeworlds: glou-no-such-game is not installed" || dump
check "and the browser goes on" shows "Charlie CTF" || dump

# --- real game servers, pinged over their own protocols -------------------------------
# OpenArena 0.8.8 (Q3 getinfo) and Teeworlds 0.7.5 (token, then gie3), from Debian's
# packages through ../shared/realpeers. Their masters are unused ports: they are
# announced here through the API, as a relay would.
PEERS=${GLOU_REALPEERS:-$ROOT/../shared/realpeers}
export GLOU_PEERS_DIR=$WORK/peers
if [ -d "$PEERS" ]; then
  OA_PORT=$(free_port udp)
  OA_PID=$(GAME_PORT=$OA_PORT SV_HOSTNAME="Real OA" "$PEERS/run-openarena.sh" "$(free_port udp)" 2>"$WORK/oa.err") ||
    { echo "# openarena-server did not start:"; cat "$WORK/oa.err"; }
  TW_PORT=$(free_port udp)
  TW_PID=$(TW_NO_DNAT=1 GAME_PORT=$TW_PORT SV_NAME="Real TW" "$PEERS/run-teeworlds.sh" 8283 2>"$WORK/tw.err") ||
    { echo "# teeworlds-server did not start:"; cat "$WORK/tw.err"; }
  BG_PIDS+=(${OA_PID:-} ${TW_PID:-})
  read -r _ _ < <(announce "{\"game\":\"openarena\",\"address\":\"127.0.0.1:$OA_PORT\",\"name\":\"Real OpenArena\",\"max_players\":8}")
  read -r _ _ < <(announce "{\"game\":\"teeworlds\",\"address\":\"127.0.0.1:$TW_PORT\",\"name\":\"Real Teeworlds\",\"max_players\":8}")
  keys c
  real_listed() { shows "Real OpenArena" && shows "Real Teeworlds"; }
  check "c clears the filters: the real servers are listed" within 10 real_listed || dump
  check "the real OpenArena server's ping (Q3 getinfo) is a number" \
    within 20 shows_re "Real OpenArena .* 0/8 +[0-9]+ 127\.0\.0\.1:$OA_PORT" || dump
  check "the real Teeworlds server's ping (0.7 token and gie3) is a number" \
    within 20 shows_re "Real Teeworlds .* 0/8 +[0-9]+ 127\.0\.0\.1:$TW_PORT" || dump
else
  echo "# no realpeers directory at $PEERS: real-server pings not checked" >&2
  failed=$((failed + 1))
fi

stop_glou
check "with Glou gone it says it is reconnecting" within 15 shows "reconnecting" || dump
keys q
check "q quits" within 5 test -s "$WORK/browse.status" || dump
check "glou browse exits 0" test "$(cat "$WORK/browse.status" 2>/dev/null)" = 0 ||
  cat "$WORK/browse.err"

echo "browse interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
