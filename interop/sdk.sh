#!/usr/bin/env bash
# The C SDK as a game developer uses it: libglou built and installed under a prefix
# (make -C sdk install), the C examples compiled with gcc and pkg-config against what
# was installed, then run against a live Glou — each under valgrind, which must report
# no leak and no memory error. Also checks the library's size (≤ 3 MiB stripped) and
# that it needs nothing beyond the C library.
#
#   interop/sdk.sh [GLOU_BINARY]
#
# Installs gcc, make, pkg-config and valgrind when missing (root needed then).
# Everything stays on 127.0.0.1. Ends with "sdk interop: N passed, M failed".
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
GLOU=${1:-$ROOT/target/debug/glou}
[ -x "$GLOU" ] || { echo "no glou binary at $GLOU (cargo build -p glou)" >&2; exit 2; }

missing=()
for tool in gcc make pkg-config valgrind; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]/gcc/build-essential}" >/dev/null || { echo "cannot install ${missing[*]}" >&2; exit 2; }
fi

WORK=$(mktemp -d)
PREFIX=$WORK/prefix
GLOU_PID=
BG_PIDS=()
. "$ROOT/interop/lib/common.sh"

cleanup() {
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  [ -n "$GLOU_PID" ] && kill "$GLOU_PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- build and install, as docs/sdk/c.md says ----------------------------------------
check "make -C sdk install builds and installs the library" \
  bash -c "make -s -C '$ROOT/sdk' install PREFIX='$PREFIX' >'$WORK/make.out' 2>&1" ||
  tail -20 "$WORK/make.out"
check "the header, both libraries and glou.pc are installed" \
  test -f "$PREFIX/include/glou.h" -a -f "$PREFIX/lib/libglou.so" -a -f "$PREFIX/lib/libglou.a" \
  -a -f "$PREFIX/lib/pkgconfig/glou.pc"
check "the installed header is the committed one" cmp -s "$PREFIX/include/glou.h" "$ROOT/include/glou.h"
size=$(stat -c %s "$PREFIX/lib/libglou.so")
echo "# libglou.so: $size bytes ($((size / 1024)) KiB), stripped"
check "libglou.so is at most 3 MiB" test "$size" -le $((3 * 1024 * 1024))
needed=$(objdump -p "$PREFIX/lib/libglou.so" | awk '/NEEDED/ {print $2}' | sort | tr '\n' ' ')
echo "# libglou.so needs: $needed"
only_libc() {
  for lib in $needed; do
    case $lib in libc.so.*|libm.so.*|libgcc_s.so.*|ld-linux*|libpthread.so.*|libdl.so.*) ;; *) return 1 ;; esac
  done
}
check "libglou.so needs nothing beyond the C library" only_libc

EX=$WORK/examples
check "the examples compile with gcc -Wall -Wextra -Werror and pkg-config" \
  make -s -C "$ROOT/sdk" examples PREFIX="$PREFIX" EXAMPLES_OUT="$EX"
check "a program links the static library too" bash -c \
  "PKG_CONFIG_PATH='$PREFIX/lib/pkgconfig' gcc -o '$WORK/static' '$ROOT/examples/c/chat.c' \
   \$(PKG_CONFIG_PATH='$PREFIX/lib/pkgconfig' pkg-config --cflags glou) '$PREFIX/lib/libglou.a' \
   \$(PKG_CONFIG_PATH='$PREFIX/lib/pkgconfig' pkg-config --libs-only-other --static glou) -lpthread -ldl -lm"

# --- against a live Glou ----------------------------------------------------------------
start_glou --ggz off --ggzmeta off --q3master off --tw07master off --wzlobby off
echo "# glou $HTTP"

# Each example under valgrind: any leak ("definitely" or "indirectly" lost) or memory
# error makes it exit 99.
vg() { # vg LOG PROGRAM ARGS...
  local log=$1; shift
  valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --log-file="$log" "$@"
}

PORT=$(free_port udp)
vg "$WORK/announce.vg" "$EX/announce" "$HTTP" "$PORT" 8 >"$WORK/announce.out" 2>&1 &
ANNOUNCE_PID=$!
BG_PIDS+=("$ANNOUNCE_PID")
vg "$WORK/browse.vg" "$EX/browse" "$HTTP" "game=glouexample" 12 >"$WORK/browse.out" 2>&1 &
BROWSE_PID=$!
BG_PIDS+=("$BROWSE_PID")

check "announce: listed (GLOU_EVENT_ANNOUNCED)" within 20 grep -q "^announced on $HTTP/ as " "$WORK/announce.out"
check "the native API lists the announced server at the port it gave" \
  within 10 bash -c "curl -sf '$HTTP/api/v1/servers?game=glouexample' | grep -q '\"address\":\"127.0.0.1:$PORT\"'"
check "its player count reaches 3 on the server (updates travel)" \
  within 15 bash -c "curl -sf '$HTTP/api/v1/servers?game=glouexample' | grep -q '\"players\":[3-9]'"
check "its player list travels too" \
  within 10 bash -c "curl -sf '$HTTP/api/v1/servers?game=glouexample' | grep -q '\"name\":\"bot2\"'"
check "browse: follows the server live (updated lines with more players)" \
  within 15 grep -Eq "^updated glouexample 127.0.0.1:$PORT C example server [3-9]/16 map=q3dm17 mode=ffa" "$WORK/browse.out"
check "browse: the subscription reports it is live" grep -q '^live$' "$WORK/browse.out"

wait "$ANNOUNCE_PID"; announce_status=$?
check "announce exits 0 with no leak or memory error under valgrind" test "$announce_status" -eq 0 ||
  cat "$WORK/announce.vg" "$WORK/announce.out"
check "announce withdrew its listing on exit" within 5 bash -c "! curl -sf '$HTTP/api/v1/servers?game=glouexample' | grep -q '127.0.0.1:$PORT'"
check "browse: sees the server removed" within 10 grep -q "^removed glouexample 127.0.0.1:$PORT" "$WORK/browse.out"
wait "$BROWSE_PID"; browse_status=$?
check "browse exits 0 with no leak or memory error under valgrind" test "$browse_status" -eq 0 ||
  cat "$WORK/browse.vg" "$WORK/browse.out"
BG_PIDS=()

# Two lobby clients: the first stays and hears the second.
vg "$WORK/chat1.vg" "$EX/chat" "$HTTP" ann "" 20 >"$WORK/chat1.out" 2>&1 &
CHAT1=$!
BG_PIDS+=("$CHAT1")
check "chat: the first client is in the entry room" within 20 grep -q '^in room 0$' "$WORK/chat1.out"
vg "$WORK/chat2.vg" "$EX/chat" "$HTTP" bob "hello from C" 6 >"$WORK/chat2.out" 2>&1
chat2_status=$?
check "chat: the second client logs in, enters and speaks" \
  grep -q '^said it$' "$WORK/chat2.out"
check "chat: it hears its own message (normal chat is echoed)" \
  grep -q '^chat normal <bob> hello from C$' "$WORK/chat2.out"
check "chat: the other client hears it" within 5 grep -q '^chat normal <bob> hello from C$' "$WORK/chat1.out"
check "chat exits 0 with no leak or memory error under valgrind" test "$chat2_status" -eq 0 ||
  cat "$WORK/chat2.vg" "$WORK/chat2.out"
wait "$CHAT1"; chat1_status=$?
check "the first chat client exits 0 with no leak under valgrind" test "$chat1_status" -eq 0 ||
  cat "$WORK/chat1.vg" "$WORK/chat1.out"
BG_PIDS=()

# A server that goes away: a client of a dead address reports it, and does not crash.
DEAD=http://127.0.0.1:$(free_port tcp)
vg "$WORK/dead.vg" "$EX/browse" "$DEAD" "" 3 >"$WORK/dead.out" 2>&1
check "browse against a dead server: a clear error, no leak" \
  bash -c "grep -q '^query failed: .*cannot connect' '$WORK/dead.out' && ! grep -q 'definitely lost' '$WORK/dead.vg'"

stop_glou
echo "sdk interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
