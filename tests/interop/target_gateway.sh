#!/bin/bash
# SPDX-License-Identifier: MIT
# Target mode to a server off the external port's link (--target-gateway):
#
#   swarmgen-dp ── sgext0 ═ sgext1 [router: namespace R, ip_forward] rta ═ rtb [namespace S: Janus]
#   198.18.0.1+i       198.19.255.254/15            10.77.0.1/24   10.77.0.2/24
#
# tools/external-port makes the veth in R; the kernel of R routes between
# it and a second veth to S, where tools/janus-lab runs Janus (EchoTest,
# its one candidate 10.77.0.2, its API on 0.0.0.0:8088 so control reaches
# it from R). Checked:
#   0. against lite_server.py in S (an ICE-lite WHIP server that only
#      answers STUN, never sends first, and has no DTLS): without
#      --target-gateway every session fails in ice and the server answers
#      nothing (our checks never leave: nobody answers our ARP for
#      10.77.0.2); with it every session passes ice (and fails in dtls),
#      the server having answered each agent's checks;
#   1. with --target-gateway 198.19.255.254 all N sessions come up through
#      the router, every DataChannel message comes back;
#   2. the counters agree exactly: R's kernel forwarded (Ip ForwDatagrams)
#      frames_out + frames_in + frames_unknown datagrams; S's kernel
#      received (Udp InDatagrams) frames_out and sent (OutDatagrams)
#      frames_in + frames_unknown, where frames_unknown (what Janus sends
#      after our ABORT closed a session: 20..24 in runs of 20 sessions) is
#      at most 3 per session;
#   3. Janus agrees: N handles created and freed, no session left.
#   target_gateway.sh SWARMGEN SWARMGEN_DP EXTERNAL_PORT_SCRIPT JANUS_LAB_SCRIPT SRCDIR
# Exit 77 (skipped) without root, or without janus unless
# SWARMGEN_REQUIRE_JANUS is set.
set -uo pipefail
sg=$1
dp=$2
extport=$3
lab=$4
src=$5
n=20
name=target_gateway
skip() {
  if [ -n "${SWARMGEN_REQUIRE_JANUS:-}" ] && [ "${2:-}" != root ]; then echo "$name: $1" >&2; exit 1; fi
  echo "$name: skipped: $1"; exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, veth pairs)" root
command -v janus >/dev/null || skip "janus is not installed (tools/install-deps test)"
command -v curl >/dev/null || skip "curl is not installed"

nr=sggr$$
ns=sggs$$
dir=$(mktemp -d "/tmp/swarmgen-$name-XXXXXX")
jdir=$dir/janus
pid=
lpid=
cleanup() {
  [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [ -n "$lpid" ] && kill "$lpid" 2>/dev/null && wait "$lpid" 2>/dev/null
  SWARMGEN_EXT_KERNEL_IF=rtb "$lab" down --netns "$ns" --dir "$jdir" >/dev/null 2>&1
  "$extport" down --netns "$nr" >/dev/null 2>&1
  ip netns del "$ns" 2>/dev/null
  ip netns del "$nr" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "$name: ok: $*"; }
bad() { failed=$((failed + 1)); echo "$name: FAILED: $*"; }
summary() { echo "[====] $name: Tested: $((passed + failed)) | Passing: $passed | Failing: $failed"; }
json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); t=r['target']; print($2)" "$1" 2>/dev/null; }
# snmp NS PROTO FIELD: a counter of /proc/net/snmp in namespace NS
snmp() { ip netns exec "$1" awk -v p="$2:" -v f="$3" '$1 == p && !h { for (i = 2; i <= NF; i++) c[$i] = i; h = 1; next } $1 == p { print $c[f] }' /proc/net/snmp; }

"$extport" up --netns "$nr" >/dev/null || { bad "tools/external-port up failed"; summary; exit 1; }
ip netns add "$ns" || { bad "ip netns add"; summary; exit 1; }
ip netns exec "$ns" ip link set lo up
ip netns exec "$nr" ip link add rta type veth peer name rtb netns "$ns" || { bad "veth"; summary; exit 1; }
ip netns exec "$nr" sysctl -qw net.ipv6.conf.rta.disable_ipv6=1
ip netns exec "$ns" sysctl -qw net.ipv6.conf.rtb.disable_ipv6=1
ip netns exec "$nr" ip addr add 10.77.0.1/24 dev rta
ip netns exec "$nr" ip link set rta up
ip netns exec "$ns" ip addr add 10.77.0.2/24 dev rtb
ip netns exec "$ns" ip link set rtb up
ip netns exec "$ns" ip route add 198.18.0.0/15 via 10.77.0.1
ip netns exec "$nr" sysctl -qw net.ipv4.ip_forward=1
# sgext0 is the dataplane's (af_packet) and carries its MAC: R's kernel
# must not forward what arrives there too, or every datagram for an agent
# loops sgext1 -> sgext0 -> sgext1 until its TTL runs out
ip netns exec "$nr" sysctl -qw net.ipv4.conf.sgext0.forwarding=0
SWARMGEN_EXT_KERNEL_IF=rtb SWARMGEN_JANUS_HTTP_IP=0.0.0.0 "$lab" up --netns "$ns" --dir "$jdir" >/dev/null ||
  { bad "janus-lab up failed"; tail -20 "$jdir/janus.log" 2>/dev/null; summary; exit 1; }
url=http://10.77.0.2:8088/janus
reach=
for _ in $(seq 20); do ip netns exec "$nr" curl -sf -m 2 "$url/info" >/dev/null && { reach=1; break; }; sleep 0.25; done
[ -n "$reach" ] || { bad "Janus's API is not reachable from the router's namespace"; summary; exit 1; }

run() { # TAG N DURATION FLAGS...
  local tag=$1 k=$2 dur=$3
  shift 3
  ip netns exec "$nr" "$sg" run --dp "$dp" --agents "$k" --topology ring --rate 100 --duration "$dur" --cores 0 \
    --target-rate 5 --size 200 --report "$dir/$tag.json" "$@" > "$dir/$tag.log" 2>&1 &
  pid=$!
  wait "$pid"
  local rc=$?
  pid=
  return $rc
}

# 0. an ICE-lite server that never sends first: the gateway or nothing
lite() { # TAG GATEWAY-FLAGS...: a run of 4 sessions against a fresh lite_server.py
  local tag=$1
  shift
  ip netns exec "$ns" python3 "$src/lite_server.py" 8090 10.77.0.2 40000 "$dir/$tag.count" &
  lpid=$!
  for _ in $(seq 50); do ip netns exec "$nr" curl -s -o /dev/null -m 1 -X DELETE http://10.77.0.2:8090/x && break; sleep 0.1; done
  run "$tag" 4 3s --target whip:http://10.77.0.2:8090/whip --target-timeout 2s "$@"
  kill -TERM "$lpid"; wait "$lpid" 2>/dev/null
  lpid=
}
lite lite-nogw
got=$(json "$dir/lite-nogw.json" "(t['sessions_up'], t['stages']['ice']['failed'], t['frames_in'])")
lc=$(cat "$dir/lite-nogw.count" 2>/dev/null)
if [ "$got" = "(0, 4, 0)" ] && [ "$lc" = "answered 0 agents 0" ]; then
  ok "ICE-lite server, no --target-gateway: 4 sessions failed in ice, the server answered nothing"
else
  bad "ICE-lite server, no gateway: (up, failed in ice, frames_in) $got, server '$lc'"; tail -20 "$dir/lite-nogw.log" | sed 's/^/  run: /'
fi
lite lite-gw --target-gateway 198.19.255.254
got=$(json "$dir/lite-gw.json" "(t['stages']['ice']['established'], t['stages']['dtls']['failed'])")
lc=$(cat "$dir/lite-gw.count" 2>/dev/null)
set -- $lc
if [ "$got" = "(4, 4)" ] && [ "${4:-}" = 4 ] && [ "${2:-0}" -ge 4 ]; then
  ok "ICE-lite server, --target-gateway: 4 sessions through ice (then failed in dtls: it has none), the server answered $2 checks from 4 agents"
else
  bad "ICE-lite server, gateway: (ice established, dtls failed) $got, server '$lc'"; tail -20 "$dir/lite-gw.log" | sed 's/^/  run: /'
fi

# 1, 2. through the router
fwd0=$(snmp "$nr" Ip ForwDatagrams)
in0=$(snmp "$ns" Udp InDatagrams)
out0=$(snmp "$ns" Udp OutDatagrams)
run gw "$n" 6s --target "janus:$url" --target-gateway 198.19.255.254
rc=$?
fwd=$(( $(snmp "$nr" Ip ForwDatagrams) - fwd0 ))
sin=$(( $(snmp "$ns" Udp InDatagrams) - in0 ))
sout=$(( $(snmp "$ns" Udp OutDatagrams) - out0 ))
got=$(json "$dir/gw.json" "(t['sessions_up'], t['sessions_failed'], t['messages']['sent'] == t['messages']['back'] > 0)")
if [ "$rc" -eq 0 ] && [ "$got" = "($n, 0, True)" ]; then
  ok "with --target-gateway: $n sessions up through the router, $(json "$dir/gw.json" "t['messages']['back']") messages echoed"
else
  bad "with --target-gateway: exit $rc, (up, failed, sent == back) $got"; tail -20 "$dir/gw.log" | sed 's/^/  run: /'
fi
fo=$(json "$dir/gw.json" "t['frames_out']")
fi_=$(json "$dir/gw.json" "t['frames_in']")
unk=$(json "$dir/gw.json" "t['frames_unknown']")
echo "$name: report frames_out $fo, frames_in $fi_, unknown $unk; router forwarded $fwd; server's kernel UDP in $sin, out $sout"
if [ -n "$fo" ] && [ "$fwd" = $((fo + fi_ + unk)) ] && [ "$sin" = "$fo" ] && [ "$sout" = $((fi_ + unk)) ] && [ "$unk" -le $((3 * n)) ]; then
  ok "counters agree: router forwarded $fwd = $fo out + $fi_ in + $unk after the close; the server's kernel took $sin and sent $sout"
else
  bad "counters: router $fwd, server in $sin out $sout, report out '$fo' in '$fi_' unknown '$unk'"
fi
# 3. Janus's view
secret=$(cat "$jdir/admin_secret")
left=$(ip netns exec "$ns" curl -s -m 5 -X POST -d "{\"janus\":\"list_sessions\",\"transaction\":\"t1\",\"admin_secret\":\"$secret\"}" http://127.0.0.1:7088/admin |
  python3 -c "import json,sys; print(len(json.load(sys.stdin)['sessions']))" 2>/dev/null)
created=$(grep -c 'Creating new handle' "$jdir/janus.log")
freed=$(grep -c 'Handle and related resources freed' "$jdir/janus.log")
want=$n
if [ "$left" = 0 ] && [ "$created" = "$want" ] && [ "$freed" = "$want" ]; then
  ok "Janus agrees: $created handles created and freed (one per session), no session left"
else
  bad "Janus: sessions left '$left', handles created $created, freed $freed (want $want)"
fi
summary
[ "$failed" -eq 0 ]
