# Shared by the interop scripts (sourced, never run): checks that count, polling, free
# ports, and starting Glou on free ports. Scripts set GLOU, WORK and PEERS first.

passed=0
failed=0

check() { # check NAME COMMAND... (returns the command's success, for "check … || explain")
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok - $name"; else failed=$((failed + 1)); echo "not ok - $name"; return 1; fi
}

# Polls COMMAND for up to SECONDS.
within() { # within SECONDS COMMAND...
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

free_port() { # free_port tcp|udp
  python3 -c '
import socket, sys
kind = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, kind)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' "$1"
}

# Starts Glou with ARGS (listeners on port 0 or off) and sets GLOU_PID and HTTP; the
# other listeners' addresses are in $WORK/glou.out ("glou listening on NAME URL").
start_glou() { # start_glou ARGS...
  "$GLOU" serve --data-dir "$WORK/data" --http 127.0.0.1:0 --allow-private "$@" \
    >"$WORK/glou.out" 2>"$WORK/glou.err" &
  GLOU_PID=$!
  within 20 grep -q '^glou listening on http' "$WORK/glou.out" ||
    { echo "glou did not start:"; cat "$WORK/glou.err"; exit 1; }
  # Glou writes every listener's line at once, after the last one is bound.
  HTTP=$(sed -n 's/^glou listening on \(http:.*\)$/\1/p' "$WORK/glou.out")
}

# The port of a listener from Glou's ready lines.
listener_port() { # listener_port NAME
  sed -n "s/^glou listening on $1 [a-z]*:\/\/127.0.0.1:\([0-9]*\)\$/\1/p" "$WORK/glou.out"
}

# Stops Glou with SIGTERM and checks that it exits 0.
stop_glou() {
  kill "$GLOU_PID"
  wait "$GLOU_PID"
  local status=$?
  GLOU_PID=
  check "glou exits 0 on SIGTERM" test "$status" -eq 0
}
