#!/usr/bin/env bash
# Glou under hostile and sustained load, on loopback: slow peers (slowloris on HTTP,
# GGZ and the WebSocket), connection and UDP floods, a soak of mixed load from
# `glou bench` with the server's memory and open files measured, and kill -9 under
# heavy writes. Prints the figures docs/security.md quotes; exits non-zero when a
# bound does not hold.
#
#   security/run.sh [--short] [GLOU]      GLOU defaults to target/release/glou, else
#                                         target/debug/glou
#
# --short (what CI runs) takes about a minute; the full run about fifteen.
set -uo pipefail
cd "$(dirname "$0")/.."
short=0
if [ "${1:-}" = "--short" ]; then short=1; shift; fi
glou=${1:-}
if [ -z "$glou" ]; then
    glou=target/release/glou
    [ -x "$glou" ] || glou=target/debug/glou
fi
[ -x "$glou" ] || { echo "security: no glou binary at $glou (cargo build first)" >&2; exit 1; }

if [ $short -eq 1 ]; then
    attack_s=4; soak_rounds=${SOAK_ROUNDS:-3}; soak_s=5; handshake=2
else
    attack_s=20; soak_rounds=10; soak_s=60; handshake=10
fi
cap=64

work=$(mktemp -d)
server=""
cleanup() {
    [ -n "$server" ] && kill -9 "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
failed=0
fail() { echo "security: FAILED: $*"; failed=1; }

# The attackers come from 127.0.0.66 and 127.0.0.67, well-behaved probes from
# 127.0.0.99; the benchmarks of the soak come from 127.0.0.1, trusted (an operator's
# load generator), so the limits bind the attackers alone.
cat >"$work/glou.toml" <<EOF
data_dir = "$work/data"
allow_private = true
trusted = ["127.0.0.1/32"]

[listen]
http = "127.0.0.1:0"
ggz = "127.0.0.1:0"
ggzmeta = "127.0.0.1:0"
q3master = "127.0.0.1:0"
tw07master = "off"
wzlobby = "127.0.0.1:0"

[registry]
max_per_address = 1000000
# The changes kept for clients that resume (bounded; 65536 by default) fill within the
# first round, so later rounds show growth that is not bounded.
change_window = 4096

[limits]
max_connections_per_address = $cap
connections_per_second = 20.0
connection_burst = 100.0
handshake_timeout = $handshake

[lobby]
max_clients = 100000
EOF

"$glou" serve --config "$work/glou.toml" >"$work/ready" 2>"$work/log" &
server=$!
for _ in $(seq 100); do
    [ "$(wc -l <"$work/ready")" -ge 5 ] && break
    sleep 0.1
done
listening() { grep "listening on $1 " "$work/ready" | sed -E 's#.*://##'; }
http=$(grep -m1 'listening on http://' "$work/ready" | sed -E 's#.*http://##')
ggz=$(listening ggz)
q3=$(listening q3master)
[ -n "$http" ] && [ -n "$ggz" ] && [ -n "$q3" ] || { cat "$work/log"; fail "the server did not start"; exit 1; }

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$server/status"; }
fds() { ls "/proc/$server/fd" | wc -l; }

echo "== slowloris: $((cap * 4)) slow connections per listener from one address, ${attack_s}s"
python3 security/peers.py slowloris --http "$http" --ggz "$ggz" --count $((cap * 4)) \
    --cap $cap --seconds "$attack_s" || fail "slowloris"

echo "== flood: connections and Quake 3 queries from one address, ${attack_s}s each"
python3 security/peers.py flood --http "$http" --ggz "$ggz" --q3 "$q3" --from 127.0.0.67 \
    --seconds "$attack_s" || fail "flood"
curl -s "http://$http/metrics" | grep '^glou_connections_refused_total' | sed 's/^/  /'

echo "== soak: $soak_rounds rounds of ${soak_s}s of mixed load (listing, subscribers, GGZ lobby)"
round() {
    "$glou" bench listing --target "http://$http" --servers 2000 --duration "$soak_s" \
        --concurrency 16 --heartbeat-rate 2000 --subscribers 20 --withdraw >"$work/listing.$1" 2>&1 &
    local l=$!
    "$glou" bench ggz --target "$ggz" --clients 100 --rooms 1 --duration "$soak_s" \
        --name-prefix "soak$1-" >"$work/ggz.$1" 2>&1
    local g=$?
    wait $l || { tail -5 "$work/listing.$1"; fail "bench listing, round $1"; }
    [ $g -eq 0 ] || { tail -5 "$work/ggz.$1"; fail "bench ggz, round $1"; }
}
# Memory is sampled after every round. The first half of the rounds fills what is
# bounded (caches, the change window, the allocator's pools); the last round must not
# exceed the most the first half took by more than a quarter, and no descriptor may be
# left behind once the clients are gone.
fds_before=$(fds)
rss_first_half=0
for r in $(seq 0 $((soak_rounds - 1))); do
    round "$r"
    sleep 2
    rss=$(rss_kib)
    echo "  after round $r: rss ${rss} KiB, open files $(fds)"
    if [ "$r" -lt $(((soak_rounds + 1) / 2)) ] && [ "$rss" -gt "$rss_first_half" ]; then
        rss_first_half=$rss
    fi
    [ "$r" -eq 0 ] && fds_warm=$(fds)
done
rss_end=$rss
fds_end=$(fds)
echo "  rss: at most ${rss_first_half} KiB in the first half, ${rss_end} KiB at the end;" \
     "open files: ${fds_before} before, ${fds_warm} after the first round, ${fds_end} at the end"
[ "$rss_end" -le $((rss_first_half + rss_first_half / 4)) ] \
    || fail "memory grew from ${rss_first_half} to ${rss_end} KiB"
[ "$fds_end" -le $((fds_warm + 2)) ] || fail "open files grew from ${fds_warm} to ${fds_end}"
grep -h -E '^(heartbeat|ggz|chat|login)' "$work"/listing.* "$work"/ggz.* 2>/dev/null | tail -4 | sed 's/^/  /'

kill -TERM "$server"
wait "$server" 2>/dev/null
server=""

echo "== kill -9 under heavy writes (announcements, registrations, match reports)"
if command -v cargo >/dev/null; then
    cargo test -q -p glou --test cli crash -- --nocapture 2>&1 | grep -E 'acknowledged|test result' | sed 's/^/  /'
    [ "${PIPESTATUS[0]}" -eq 0 ] || fail "kill -9"
else
    echo "  skipped: cargo is not installed" >&2
fi

if [ $failed -eq 0 ]; then echo "security: all bounds held"; fi
exit $failed
