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

name=chromium_whip
. "$src/whip_lib.sh"
cpid=
stop_chromium() { [ -n "$cpid" ] && kill -TERM -- "-$cpid" 2>/dev/null; }
whip_cleanup_hook=stop_chromium

"$extport" up --netns "$ns" >/dev/null || { bad "tools/external-port up failed"; summary; exit 1; }
port=$(free_port)
report="$dir/report.json"
whip_start "$dir/swarm.log" "$report" "$port" --external echo
whip_wait_signal "$port" || bad "the WHIP endpoint did not come up"
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
whip_stop "the run" "$report" "$dir/swarm.log"
echoed=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print([s['msgs_echoed'] for s in r['external']['session_log'] if s['agent']==$agent])" "$report" 2>/dev/null)
if [ "$echoed" = "[350]" ]; then ok "report: 300 + 50 echoes for agent $agent"; else bad "report: session echoes '$echoed', want [350]"; fi
whip_port_down
summary
[ "$failed" -eq 0 ]
