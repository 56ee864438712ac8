#!/bin/bash
# SPDX-License-Identifier: MIT
# A browser tab as an external peer: headless Chromium opens
# chromium_whip.html (file://), which POSTs its offer to the WHIP server of
# a running swarm (swarmgen run --external echo, 200 agents, kmesh:k=4),
# opens a DataChannel to a simulated agent over the external port
# (tools/external-port: veth + af_packet), sends 300 messages of mixed
# sizes (every 50th ~64 KiB), checks every echo byte for byte, then 50
# pings, DELETEs and closes. The run ends with SIGINT: the report must
# count the 350 echoes; nothing may be left; the veth is removed.
#   chromium_whip.sh SWARMGEN SWARMGEN_DP SOURCE_DIR EXTERNAL_PORT_SCRIPT
# Exit 77 (skipped) without root, or without chromium unless
# SWARMGEN_REQUIRE_CHROMIUM is set.
set -uo pipefail
sg=$1
dp=$2
src=$3
extport=$4

skip() {
  if [ -n "${SWARMGEN_REQUIRE_CHROMIUM:-}" ] && [ "${2:-}" != root ]; then
    echo "chromium_whip: $1" >&2
    exit 1
  fi
  echo "chromium_whip: skipped: $1"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (tools/external-port creates a veth pair)" root
command -v chromium >/dev/null || skip "chromium is not installed (tools/install-deps test installs it)"

ns=sgw$$ # the port, the swarm and the peer in a namespace of their own
nx() { ip netns exec "$ns" "$@"; }
dir=$(mktemp -d /tmp/swarmgen-chrwhip-XXXXXX)
spid=
cpid=
cleanup() {
  [ -n "$cpid" ] && kill -TERM -- "-$cpid" 2>/dev/null
  if [ -n "$spid" ] && kill -0 "$spid" 2>/dev/null; then
    kill -INT "$spid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$spid" 2>/dev/null
  fi
  "$extport" down --netns "$ns" >/dev/null 2>&1
  rm -rf "$dir"
}
trap cleanup EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "chromium_whip: ok: $*"; }
bad() { failed=$((failed + 1)); echo "chromium_whip: FAILED: $*"; }
summary() { echo "[====] chromium whip: Tested: $((passed + failed)) | Passing: $passed | Failing: $failed"; }

"$extport" up --netns "$ns" >/dev/null || { bad "tools/external-port up failed"; summary; exit 1; }
port=$(nx python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
report="$dir/report.json"
ip netns exec "$ns" "$sg" run --dp "$dp" --agents 200 --topology kmesh:k=4 --traffic dc --rate 2000 --duration 10m --cores 0 \
  --external echo --signal "127.0.0.1:$port" --report "$report" > "$dir/swarm.log" 2>&1 &
spid=$!
for _ in $(seq 600); do
  kill -0 "$spid" 2>/dev/null || break
  [ "$(nx curl -s -o /dev/null -w '%{http_code}' -X OPTIONS "http://127.0.0.1:$port/whip/agents/0" 2>/dev/null)" = 204 ] && break
  sleep 0.2
done
agent=11
setsid ip netns exec "$ns" chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --enable-logging=stderr --v=0 --user-data-dir="$dir/profile" \
  "file://$src/chromium_whip.html?whip=http://127.0.0.1:$port/whip/agents/$agent&count=300" \
  > /dev/null 2> "$dir/chromium.log" &
cpid=$!
for _ in $(seq 120); do
  grep -q 'WHIP: \(done\|FAIL\)' "$dir/chromium.log" && break
  kill -0 "$cpid" 2>/dev/null || break
  sleep 1
done
kill -TERM -- "-$cpid" 2>/dev/null
wait "$cpid" 2>/dev/null
cpid=
line=$(grep -o 'WHIP: done[^"]*' "$dir/chromium.log" | head -1)
if [ -n "$line" ] && [[ "$line" == *"DELETE 200"* ]]; then
  ok "agent $agent: ${line#WHIP: }"
else
  bad "agent $agent: Chromium did not finish"
  grep -o 'WHIP: [^"]*' "$dir/chromium.log" | sed 's/^/  chromium: /'
  tail -5 "$dir/swarm.log" | sed 's/^/  swarm: /'
fi
sleep 1
kill -INT "$spid"
wait "$spid"
rc=$?
pid=$spid
spid=
if [ "$rc" -eq 130 ] && [ -f "$report" ]; then ok "SIGINT ended the run (exit 130), report written"; else bad "SIGINT: exit $rc"; fi
echoed=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print([s['msgs_echoed'] for s in r['external']['session_log'] if s['agent']==$agent])" "$report" 2>/dev/null)
if [ "$echoed" = "[350]" ]; then ok "report: 300 + 50 echoes for agent $agent"; else bad "report: session echoes '$echoed', want [350]"; fi
sleep 0.5
left=$(pgrep -f "swarmgen-$pid-" | wc -l)
shm=$(ls /dev/shm/swarmgen-"$pid"-* 2>/dev/null | wc -l)
if [ "$left" -eq 0 ] && [ "$shm" -eq 0 ]; then ok "no process and no /dev/shm file left"; else bad "$left processes, $shm /dev/shm files left"; fi
"$extport" down --netns "$ns" >/dev/null
if ip netns list | grep -qw "$ns"; then bad "namespace $ns left"; else ok "the veth pair and its namespace are removed"; fi
summary
[ "$failed" -eq 0 ]
