#!/bin/bash
# SPDX-License-Identifier: MIT
# A browser tab as an external peer: headless Chromium opens
# chromium_whip.html (file://), which POSTs its offer to the WHIP server of
# a running swarm (swarmgen run --external echo, 200 agents, kmesh:k=4),
# opens a DataChannel to a simulated agent over the external port
# (tools/external-port: veth + af_packet), sends 300 messages of mixed
# sizes (every 50th ~64 KiB), checks every echo byte for byte, then 50
# pings, DELETEs and closes. The run ends with SIGINT: the report must
# count the 350 echoes; nothing may be left; the veth is removed. Twice:
# our answer setup:active (the agent is the DTLS client) and
# setup:passive (Chromium is the DTLS client: its ClientHello, over 1,400
# bytes with DTLS 1.3 suites and a post-quantum key share, comes in two
# fragments that our handshake reassembles). Chromium negotiates DTLS 1.3
# with the agent in both roles (--external-dtls auto, the default): the
# report's session says 1.3 and Chromium's own getStats() says tlsVersion
# FEFC; a third run with --external-dtls 1.2 (agent as DTLS server) gets
# 1.2 on both sides (FEFD).
#   chromium_whip.sh SWARMGEN SWARMGEN_DP SOURCE_DIR EXTERNAL_PORT_SCRIPT
# Exit 77 (skipped) without root, or without chromium unless
# SWARMGEN_REQUIRE_CHROMIUM is set.
set -uo pipefail
sg=$1
dp=$2
src=$3
extport=$4
name=chromium_whip
require=SWARMGEN_REQUIRE_CHROMIUM
. "$src/interop_lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (tools/external-port creates a veth pair)" root
command -v chromium >/dev/null || skip "chromium is not installed (tools/install-deps test installs it)"

. "$src/whip_lib.sh"
cpid=
stop_chromium() { [ -n "$cpid" ] && kill -TERM -- "-$cpid" 2>/dev/null; }
whip_cleanup_hook=stop_chromium

"$extport" up --netns "$ns" >/dev/null || { bad "tools/external-port up failed"; summary; exit 1; }
# one_role SETUP AGENT DTLS: a swarm with --external-setup SETUP and
# --external-dtls DTLS, Chromium to AGENT
one_role() {
  local setup=$1 agent=$2 dtls=$3
  local port report want_v want_tls
  port=$(free_port)
  report="$dir/report-$setup-$dtls.json"
  if [ "$dtls" = 1.2 ]; then want_v=1.2 want_tls=FEFD; else want_v=1.3 want_tls=FEFC; fi
  # the page is a file:// one, whose Origin is "null": the WHIP server
  # refuses browser origins it was not told to allow
  whip_start "$dir/swarm-$setup.log" "$report" "$port" --external echo --external-setup "$setup" \
    --external-dtls "$dtls" --signal-origin null
  whip_wait_signal "$port" || bad "$setup: the WHIP endpoint did not come up"
  rm -rf "$dir/profile"
  # the wire on the kernel side of the port, for the handshake's shape
  local dpid=
  if command -v dumpcap >/dev/null; then
    ip netns exec "$ns" timeout 150 dumpcap -q -i sgext1 -f udp -w "$dir/wire-$setup.pcapng" > /dev/null 2>&1 &
    dpid=$!
    sleep 1
  fi
  setsid ip netns exec "$ns" chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --enable-logging=stderr --v=0 --user-data-dir="$dir/profile" \
    "file://$src/chromium_whip.html?whip=http://127.0.0.1:$port/whip/agents/$agent&count=300" \
    > /dev/null 2> "$dir/chromium-$setup.log" &
  cpid=$!
  for _ in $(seq 120); do
    grep -q 'WHIP: \(done\|FAIL\)' "$dir/chromium-$setup.log" && break
    kill -0 "$cpid" 2>/dev/null || break
    sleep 1
  done
  kill -TERM -- "-$cpid" 2>/dev/null
  wait "$cpid" 2>/dev/null
  cpid=
  local line
  line=$(grep -o 'WHIP: done[^"]*' "$dir/chromium-$setup.log" | head -1)
  if [ -n "$line" ] && [[ "$line" == *"DELETE 200"* ]]; then
    ok "$setup: agent $agent: ${line#WHIP: }"
    local tls
    tls=$(grep -o 'WHIP: transport tls [^"]*' "$dir/chromium-$setup.log" | head -1)
    if [[ "$tls" == "WHIP: transport tls $want_tls "* ]]; then ok "$setup: --external-dtls $dtls: Chromium's getStats: ${tls#WHIP: transport }"
    else bad "$setup: --external-dtls $dtls: Chromium's getStats says '${tls#WHIP: transport }', want tls $want_tls"; fi
  else
    bad "$setup: agent $agent: Chromium did not finish"
    grep -o 'WHIP: [^"]*' "$dir/chromium-$setup.log" | sed 's/^/  chromium: /'
    tail -5 "$dir/swarm-$setup.log" | sed 's/^/  swarm: /'
  fi
  sleep 1
  [ -n "$dpid" ] && { kill -INT "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; }
  if [ -f "$dir/wire-$setup.pcapng" ] && command -v tshark >/dev/null; then
    # Chromium's ClientHello (DTLS 1.3 suites, an X25519MLKEM768 share) is
    # over 1,400 bytes: in two fragments when Chromium is the client
    local frags whole
    frags=$(tshark -r "$dir/wire-$setup.pcapng" -d udp.port==5000-65535,dtls \
      -Y 'dtls.handshake.type == 1 && dtls.handshake.fragment_length < dtls.handshake.length' 2>/dev/null | wc -l)
    whole=$(tshark -r "$dir/wire-$setup.pcapng" -d udp.port==5000-65535,dtls -Y 'dtls.handshake.type == 2' 2>/dev/null | wc -l)
    if [ "$setup" = passive ]; then
      if [ "$frags" -ge 2 ] && [ "$whole" -ge 1 ]; then ok "$setup: Chromium's ClientHello came in $frags fragments, our ServerHello answered it"
      else bad "$setup: ClientHello fragments $frags, ServerHellos $whole"; fi
    elif [ "$whole" -ge 1 ]; then
      ok "$setup: our ClientHello, Chromium's ServerHello on the wire"
    else
      bad "$setup: no ServerHello on the wire"
    fi
  elif [ -n "${SWARMGEN_REQUIRE_TSHARK:-}" ]; then
    bad "$setup: no capture (dumpcap/tshark missing)"
  fi
  whip_stop "$setup: the run" "$report" "$dir/swarm-$setup.log"
  local echoed role
  echoed=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print([s['msgs_echoed'] for s in r['external']['session_log'] if s['agent']==$agent])" "$report" 2>/dev/null)
  if [ "$echoed" = "[350]" ]; then ok "$setup: report: 300 + 50 echoes for agent $agent"; else bad "$setup: report: session echoes '$echoed', want [350]"; fi
  role=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print([s['dtls_role'] for s in r['external']['session_log'] if s['agent']==$agent])" "$report" 2>/dev/null)
  want=$([ "$setup" = active ] && echo client || echo server)
  if [ "$role" = "['$want']" ]; then ok "$setup: the agent was the DTLS $want"; else bad "$setup: DTLS role '$role', want $want"; fi
  local ver
  ver=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print([s.get('dtls_version') for s in r['external']['session_log'] if s['agent']==$agent])" "$report" 2>/dev/null)
  if [ "$ver" = "['$want_v']" ]; then ok "$setup: the report: DTLS $want_v negotiated"; else bad "$setup: the report's dtls_version '$ver', want $want_v"; fi
}

one_role active 11 auto
one_role passive 12 auto
one_role passive 13 1.2
whip_port_down
summary
[ "$failed" -eq 0 ]
