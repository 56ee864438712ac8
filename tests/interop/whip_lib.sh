# SPDX-License-Identifier: MIT
# Shared by the WHIP interop tests (werift_whip.sh, chromium_whip.sh),
# sourced after they set $name (the test's name in its output lines), $sg,
# $dp and $extport: a network namespace of the test's own with the
# external port in it, a swarm in the background ($spid), the
# pass/fail tally in the Criterion-style line tools/check counts, and the
# checks every run ends with.

ns=sgw$$ # the port, the swarm and the peer in a namespace of their own
nx() { ip netns exec "$ns" "$@"; }
dir=$(mktemp -d "/tmp/swarmgen-$name-XXXXXX")
spid=
whip_cleanup_hook=: # a test's own clean-up (its peer), run first
whip_cleanup() {
  $whip_cleanup_hook
  if [ -n "$spid" ] && kill -0 "$spid" 2>/dev/null; then
    kill -INT "$spid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$spid" 2>/dev/null
  fi
  "$extport" down --netns "$ns" >/dev/null 2>&1
  rm -rf "$dir"
}
trap whip_cleanup EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "$name: ok: $*"; }
bad() { failed=$((failed + 1)); echo "$name: FAILED: $*"; }
summary() { echo "[====] $name: Tested: $((passed + failed)) | Passing: $passed | Failing: $failed"; }

# A TCP port free on the namespace's loopback.
free_port() {
  nx python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts `swarmgen run` in the namespace, in the background ($spid), with
# its output in LOG: whip_start LOG REPORT PORT RUN_FLAGS...
whip_start() {
  local log=$1 report=$2 port=$3
  shift 3
  ip netns exec "$ns" "$sg" run --dp "$dp" --agents 200 --topology kmesh:k=4 --traffic dc --rate 2000 --duration 10m \
    --cores 0 --signal "127.0.0.1:$port" --report "$report" "$@" > "$log" 2>&1 &
  spid=$!
}

# Waits until the swarm's WHIP endpoint answers (0) or the swarm is gone (1).
whip_wait_signal() {
  local port=$1
  for _ in $(seq 600); do
    kill -0 "$spid" 2>/dev/null || return 1
    [ "$(nx curl -s -o /dev/null -w '%{http_code}' -X OPTIONS "http://127.0.0.1:$port/whip/agents/0" 2>/dev/null)" = 204 ] &&
      return 0
    sleep 0.2
  done
  return 1
}

# Ends the swarm with SIGINT and checks what every run must leave: exit
# 130, the report written, no process and no /dev/shm file of the run.
# whip_stop WHAT REPORT LOG
whip_stop() {
  local what=$1 report=$2 log=$3
  kill -INT "$spid"
  wait "$spid"
  local rc=$? pid=$spid
  spid=
  if [ "$rc" -eq 130 ] && [ -f "$report" ]; then
    ok "$what: SIGINT ended the run (exit 130), report written"
  else
    bad "$what: SIGINT: exit $rc, report $([ -f "$report" ] && echo written || echo missing)"
    sed 's/^/  swarm: /' "$log"
  fi
  sleep 0.5
  local left shm
  left=$(pgrep -f "swarmgen-$pid-" | wc -l)
  shm=$(ls /dev/shm/swarmgen-"$pid"-* 2>/dev/null | wc -l)
  if [ "$left" -eq 0 ] && [ "$shm" -eq 0 ]; then ok "$what: no process and no /dev/shm file left"; else bad "$what: $left processes, $shm /dev/shm files left"; fi
}

# Removes the port and its namespace and checks they are gone.
whip_port_down() {
  "$extport" down --netns "$ns" >/dev/null
  if ip netns list | grep -qw "$ns"; then bad "tools/external-port down left namespace $ns"; else ok "the veth pair and its namespace are removed"; fi
}
