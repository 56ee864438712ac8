#!/bin/bash
# SPDX-License-Identifier: MIT
# External peers end to end: a running swarm (swarmgen run --external echo,
# 200 agents, kmesh:k=4, DataChannel traffic) serves WHIP on loopback;
# werift (a TypeScript WebRTC stack from the npm registry) on the kernel
# end of the external port (tools/external-port: a veth pair, af_packet on
# the dataplane end) POSTs its offer, opens a DataChannel to a simulated
# agent, sends 1,000 messages of mixed sizes (up to 64 KiB), checks every
# echo byte for byte, then 100 pings one at a time (their round trip),
# DELETEs the session and closes. Once with our answer setup:active (we are
# the DTLS client), once with setup:passive; a third run (--external route)
# checks that 1,000 messages enter the mesh as the agent's messages. Bad
# offers (garbage, no fingerprint, no application m-line, unknown agent)
# must get 4xx while the swarm keeps running. Each run ends with SIGINT:
# the report must count the session's 1,000 echoes and the swarm's own
# deliveries, and nothing may be left (process, /dev/shm file); the veth
# is removed at the end.
#   werift_whip.sh SWARMGEN SWARMGEN_DP SOURCE_DIR EXTERNAL_PORT_SCRIPT
# Exit 77 (skipped) without root, or without node/npm unless
# SWARMGEN_REQUIRE_WERIFT is set.
set -uo pipefail
sg=$1
dp=$2
src=$3
extport=$4
peer_addr=198.19.255.254
name=werift_whip
require=SWARMGEN_REQUIRE_WERIFT
. "$src/interop_lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (tools/external-port creates a veth pair)" root
command -v curl >/dev/null || skip "curl is not installed"
werift_install werift_whip.mjs

. "$src/whip_lib.sh"

"$extport" up --netns "$ns" >/dev/null || { bad "tools/external-port up failed"; summary; exit 1; }

# A minimal offer; $1 decides what is missing.
offer() {
  local fp="a=fingerprint:sha-256 $(printf '%s' 'AB:' | head -c 0)$(for i in $(seq 31); do printf 'AB:'; done)AB"
  local m="m=application 9 UDP/DTLS/SCTP webrtc-datachannel"
  case $1 in
    nofp) fp= ;;
    noapp) m="m=audio 9 UDP/TLS/RTP/SAVPF 0" ;;
  esac
  printf 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n%s\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n%s%sa=setup:actpass\r\na=sctp-port:5000\r\n' \
    "$m" "$fp" "${fp:+$'\r\n'}"
}

post_status() { # url body-file
  nx curl -s -o "$dir/body" -w '%{http_code}' -X POST -H 'Content-Type: application/sdp' --data-binary "@$2" "$1"
}

json() { # file python-expression on r
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null
}

for run in active:echo passive:echo active:route; do
  setup=${run%:*}
  mode=${run#*:}
  port=$(free_port)
  base="http://127.0.0.1:$port"
  report="$dir/report-$setup-$mode.json"
  whip_start "$dir/swarm-$setup.log" "$report" "$port" --external "$mode" --external-setup "$setup"
  if ! whip_wait_signal "$port"; then
    bad "setup:$setup: the WHIP endpoint did not come up"
    sed 's/^/  swarm: /' "$dir/swarm-$setup.log"
    kill -INT "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; spid=
    continue
  fi
  # WHIP is served from READY on; wait for the mesh to be connected so
  # that routed messages find their connections up
  for _ in $(seq 600); do
    grep -q '400/400 up' "$dir/swarm-$setup.log" && break
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.2
  done
  if [ "$run" = active:echo ]; then
    printf 'hello, this is not SDP\r\n' > "$dir/garbage.sdp"
    offer nofp > "$dir/nofp.sdp"
    offer noapp > "$dir/noapp.sdp"
    offer full > "$dir/full.sdp"
    for t in garbage nofp noapp; do
      st=$(post_status "$base/whip/agents/3" "$dir/$t.sdp")
      if [[ "$st" =~ ^4[0-9][0-9]$ ]]; then ok "bad offer ($t) -> $st: $(head -c 120 "$dir/body" | tr -d '\r\n')"; else bad "bad offer ($t) -> $st"; fi
    done
    st=$(post_status "$base/whip/agents/100000" "$dir/full.sdp")
    if [ "$st" = 404 ]; then ok "offer for an unknown agent -> 404"; else bad "offer for an unknown agent -> $st"; fi
    if kill -0 "$spid" 2>/dev/null; then ok "the swarm keeps running after the bad offers"; else bad "the swarm died after the bad offers"; fi
  fi
  agent=$([ "$setup" = active ] && echo 7 || echo 150)
  if timeout 120 ip netns exec "$ns" node "$werift_cache/werift_whip.mjs" "$base/whip/agents/$agent" 1000 "$peer_addr" "$mode" 100 > "$dir/werift.log" 2>&1; then
    ok "$mode, setup:$setup, agent $agent: $(cat "$dir/werift.log")"
  else
    bad "$mode, setup:$setup, agent $agent: werift failed"
    sed 's/^/  werift: /' "$dir/werift.log"
    tail -5 "$dir/swarm-$setup.log" | sed 's/^/  swarm: /'
  fi
  sleep 1
  whip_stop "setup:$setup" "$report" "$dir/swarm-$setup.log"
  if [ -f "$report" ]; then
    role=$([ "$setup" = active ] && echo client || echo server)
    delivered=$(json "$report" "r['messages']['delivered']")
    if [ "$mode" = echo ]; then
      echoed=$(json "$report" "[s['msgs_echoed'] for s in r['external']['session_log'] if s['agent']==$agent and s['dtls_role']=='$role' and s['state']=='closed']")
      lat=$(json "$report" "'p50 %.0f us, p99 %.0f us' % (r['external']['latency_us']['p50'], r['external']['latency_us']['p99'])")
      if [ "$echoed" = "[1100]" ]; then ok "setup:$setup: report: 1000 + 100 echoes for agent $agent as DTLS $role (read to echo acknowledged: $lat)"; else bad "setup:$setup: report: session echoes $echoed, want [1100]"; fi
    else
      inj=$(json "$report" "[(s['msgs_injected'], s['msgs_dropped']) for s in r['external']['session_log'] if s['agent']==$agent]")
      if [ "$inj" = "[(1000, 0)]" ]; then ok "route: report: 1000 messages of agent $agent injected into the mesh, none dropped"; else bad "route: report: (injected, dropped) $inj, want [(1000, 0)]"; json "$report" "r['external']"; fi
    fi
    if [ -n "$delivered" ] && [ "$delivered" -gt 0 ]; then ok "setup:$setup: the swarm delivered $delivered of its own messages"; else bad "setup:$setup: the swarm delivered '$delivered' messages"; fi
    if [ "$run" = active:echo ]; then
      rej=$(json "$report" "r['external']['rejected_4xx']")
      if [ "$rej" = 4 ]; then ok "report: 4 offers rejected"; else bad "report: rejected_4xx '$rej', want 4"; fi
    fi
  fi
done
whip_port_down
summary
[ "$failed" -eq 0 ]
