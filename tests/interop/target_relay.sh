#!/bin/bash
# SPDX-License-Identifier: MIT
# Target mode through a TURN relay: swarmgen run --target janus:... --relay
# turn:... against Janus EchoTest (tools/janus-lab, Debian's janus 1.1.2)
# and coturn (Debian's turnserver, long-term credentials), both on the
# kernel end of the external port's veth in the test's own namespace,
# neither written by us.
#   1. the right password, 50 agents (a ring: 50 mesh connections through
#      the relay too), --media audio: every target session up through the
#      relay (the offer's one candidate is the agent's relayed address),
#      every DataChannel message and audio packet echoed, no SRTP
#      authentication failure; the report's relay section counts 50
#      allocations and a permission and a channel per mesh endpoint and
#      per session candidate, coturn's log the same ALLOCATE and
#      CHANNEL_BIND successes; Janus's admin API (handle_info, read while
#      the sessions are up) shows, for every session of the CSV, a selected
#      pair whose remote side is a relayed address (typ relay, coturn's
#      port range; the only address among Janus's remote candidates) and
#      whose local side is the CSV's `selected`; a capture on the veth's
#      kernel end sees no datagram of an agent's address but to or from
#      the TURN server's port;
#   2. a wrong TURN password: every allocation fails with 401 (coturn logs
#      the 401s), every session fails in signalling with cause turn, no
#      request reaches Janus, the run ends on time.
#   target_relay.sh SWARMGEN SWARMGEN_DP EXTERNAL_PORT_SCRIPT JANUS_LAB_SCRIPT [AGENTS]
# Exit 77 (skipped) without root, or without janus or turnserver unless
# SWARMGEN_REQUIRE_JANUS / SWARMGEN_REQUIRE_COTURN is set.
set -uo pipefail
sg=$1
dp=$2
extport=$3
lab=$4
n=${5:-50}
name=target_relay
server=198.19.255.254
user=swarm
pass=relay-secret-1
realm=swarmgen.test
skip() {
  if [ "${2:-}" != root ] && { [ -n "${SWARMGEN_REQUIRE_JANUS:-}" ] || [ -n "${SWARMGEN_REQUIRE_COTURN:-}" ]; }; then
    echo "$name: $1" >&2
    exit 1
  fi
  echo "$name: skipped: $1"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (tools/external-port creates a veth pair)" root
command -v janus >/dev/null || skip "janus is not installed (tools/install-deps test)"
command -v turnserver >/dev/null || skip "turnserver (Debian package coturn) is not installed (tools/install-deps test)"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v tshark >/dev/null || skip "tshark is not installed (tools/install-deps test)"

ns=sgtr$$
nx() { ip netns exec "$ns" "$@"; }
. "$(dirname "$0")/coturn_lib.sh"
dir=$(mktemp -d "/tmp/swarmgen-$name-XXXXXX")
jdir=$dir/janus
rpid=
cpid=
cleanup() {
  [ -n "$rpid" ] && kill -TERM "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
  [ -n "$cpid" ] && kill -TERM "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
  stop_coturn
  "$lab" down --netns "$ns" --dir "$jdir" >/dev/null 2>&1
  "$extport" down --netns "$ns" >/dev/null 2>&1
  if [ -n "${SWARMGEN_KEEP_COTURN:-}" ]; then echo "$name: files kept in $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "$name: ok: $*"; }
bad() { failed=$((failed + 1)); echo "$name: FAILED: $*"; }
summary() { echo "[====] $name: Tested: $((passed + failed)) | Passing: $passed | Failing: $failed"; }
json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null; }

"$extport" up --netns "$ns" >/dev/null || { bad "tools/external-port up failed"; summary; exit 1; }
"$lab" up --netns "$ns" --dir "$jdir" >/dev/null || { bad "janus-lab up failed"; tail -20 "$jdir/janus.log" 2>/dev/null; summary; exit 1; }
url=$(cat "$jdir/url")
secret=$(cat "$jdir/admin_secret")

run_target() { # report csv log pass
  # the kernel's view of the veth: the agents' UDP that is not to or from
  # the TURN server's port (none expected), and the server's TURN control
  # messages (first byte 0 or 1: a positive control), never ChannelData
  if [ "$4" = "$pass" ]; then
    ip netns exec "$ns" dumpcap -q -i sgext1 -a duration:60 -w "$dir/veth.pcap" \
      -f "udp and net 198.18.0.0/15 and (not port 3478 or udp[8] < 2)" > "$dir/dumpcap.out" 2>&1 &
    cpid=$!
    sleep 1
  fi
  local t0=$(date +%s)
  timeout 120 ip netns exec "$ns" "$sg" run --dp "$dp" --agents "$n" --topology ring --rate 100 --duration 6s \
    --cores 0 --setup-timeout 30s --target "janus:$url" --target-agents "$n" --target-rate 2 --size 256 \
    --media audio --target-timeout 10s --report "$1" --clients-csv "$2" \
    --relay "turn:$server:3478,user=$user,pass=$4,realm=$realm" > "$3" 2>&1 &
  rpid=$!
  local apid=
  if [ "$4" = "$pass" ]; then # Janus's view while the run lasts
    ip netns exec "$ns" python3 "$(dirname "$0")/janus_admin.py" "$secret" 60 "$rpid" "$n" > "$dir/admin.json" 2>/dev/null &
    apid=$!
  fi
  wait "$rpid"
  rc=$?
  rpid=
  elapsed=$(($(date +%s) - t0))
  [ -n "$apid" ] && wait "$apid"
  if [ -n "$cpid" ]; then
    sleep 0.5
    kill -INT "$cpid" 2>/dev/null
    wait "$cpid" 2>/dev/null
    cpid=
  fi
}

# ---- 1: every session through the relay --------------------------------
start_coturn "$dir/good" || { bad "coturn did not start"; cat "$dir/good/out"; summary; exit 1; }
run_target "$dir/good.json" "$dir/good.csv" "$dir/good.log" "$pass"
stop_coturn
r=$dir/good.json
if [ "$rc" -eq 0 ] && [ -f "$r" ]; then ok "the run ended (exit 0, ${elapsed} s; allocations per second from the first: $(json "$r" "r['relay']['allocations_per_s_timeline'][:20]"))"; else bad "the run: exit $rc"; tail -30 "$dir/good.log" | sed 's/^/  run: /'; fi
got=$(json "$r" "(r['target']['sessions_up'], r['target']['stages']['datachannel']['established'], r['connections']['established'])")
if [ "$got" = "($n, $n, $n)" ]; then
  ok "$n target sessions up through the relay (set-up p50 $(json "$r" "'%.1f ms' % r['target']['setup_ms']['p50']")), $n mesh connections too"
else
  bad "(sessions up, datachannel established, mesh connections up) $got, want ($n, $n, $n)"
  json "$r" "r['target']['stages']" | cut -c1-600
fi
sent=$(json "$r" "r['target']['messages']['sent']")
back=$(json "$r" "r['target']['messages']['back']")
if [ -n "$sent" ] && [ "$sent" -ge "$n" ] && [ "$sent" = "$back" ]; then
  ok "DataChannel: $sent messages sent, $back echoed (round trip $(json "$r" "'p50 %.2f ms' % r['target']['round_trip_ms']['p50']"))"
else
  bad "DataChannel: sent '$sent', back '$back'"
fi
got=$(json "$r" "(r['target']['audio_stats']['srtp_auth_failures'], r['target']['audio_stats']['rtp_sent'] > 0, r['target']['audio_stats']['rtp_back'] >= 0.9 * r['target']['audio_stats']['rtp_sent'])")
if [ "$got" = "(0, True, True)" ]; then
  ok "audio: $(json "$r" "'%d SRTP packets sent, %d echoed, %d lost, 0 auth failures' % (r['target']['audio_stats']['rtp_sent'], r['target']['audio_stats']['rtp_back'], r['target']['audio_stats']['rtp_lost'])")"
else
  bad "audio (auth failures, sent, >= 90 % back): $got: $(json "$r" "r['target']['audio_stats']")"
fi
msent=$(json "$r" "r['messages']['sent']")
mdel=$(json "$r" "r['messages']['delivered']")
if [ -n "$msent" ] && [ "$msent" -gt 0 ] && [ "$msent" = "$mdel" ]; then ok "mesh: $msent messages sent, $mdel delivered through the relay"; else bad "mesh: sent '$msent' delivered '$mdel'"; fi
accounting_check "$r"
# the memory plan: the target sessions exactly, the relay's clients (with room for the sessions'
# candidates) within each client's 64-byte rounding, planned as its average
mem=$(json "$r" "'%d %d %d %d' % (r['memory']['categories']['target_sessions'], r['memory']['planned']['categories']['target_sessions'], r['memory']['categories']['relay_clients'], r['memory']['planned']['categories']['relay_clients'])")
set -- $mem
if [ -n "${4:-}" ] && [ "$1" -gt 0 ] && [ "$1" = "$2" ] && awk -v a="$3" -v p="$4" 'BEGIN { d = a - p; if (d < 0) d = -d; exit !(a > 0 && d * 100 <= a) }'; then
  ok "memory: target sessions $1 bytes planned and allocated; relay clients $3 allocated, $4 planned"
else
  bad "memory: target sessions allocated/planned, relay clients allocated/planned '$mem'"
fi
al=$(json "$r" "r['relay']['stages']['allocate']['ok']")
perm=$(json "$r" "r['relay']['stages']['permission']['ok']")
chan=$(json "$r" "r['relay']['stages']['channel']['ok']")
# the session candidates: every distinct server address a session had (Janus gives one per session)
ncand=$(python3 -c "import csv,sys; print(sum(1 for row in csv.DictReader(open(sys.argv[1])) if row.get('selected')))" "$dir/good.csv" 2>/dev/null)
want=$((2 * n + ncand))
if [ "$al" = "$n" ] && [ "$perm" = "$want" ] && [ "$chan" = "$want" ]; then
  ok "report: $al allocations, $perm permissions and $chan channels (2 x $n mesh endpoints + $ncand session candidates)"
else
  bad "report: allocations $al permissions $perm channels $chan (want $n, $want, $want)"
fi
wb=$(json "$r" "r['relay']['wrap_blocked']")
if [ "$wb" = 0 ]; then ok "no datagram dropped for want of a permission (sessions wait for theirs)"; else bad "wrap_blocked $wb"; fi
c_alloc=$(log_count "$dir/good" "incoming packet ALLOCATE processed, success")
c_chan=$(log_count "$dir/good" "incoming packet CHANNEL_BIND processed, success")
if [ "$c_alloc" = "$al" ] && [ "$c_chan" = "$chan" ]; then ok "coturn's log: $c_alloc ALLOCATE and $c_chan CHANNEL_BIND successes, as the report"; else bad "coturn's log: $c_alloc ALLOCATE, $c_chan CHANNEL_BIND successes (the report: $al, $chan)"; fi
# Janus: every session's selected pair has a relayed address on its remote side
check=$(python3 - "$dir/admin.json" "$dir/good.csv" "$n" <<'EOF'
import csv, json, re, sys
seen = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2])))
n, good, why = int(sys.argv[3]), 0, ""
for row in rows:
    k = row["resource"].replace("janus:", "")
    j = seen.get(k)
    if not j:
        why = why or "no handle_info for %s" % k
        continue
    ice = j.get("webrtc", {}).get("ice", {})
    pair, remote = ice.get("selected-pair", ""), ice.get("remote-candidates", [])
    m = re.match(r"\s*([\d.]+):(\d+) \[[^\]]*\] <-> ([\d.]+):(\d+) \[(\w+)", pair)
    if not m:
        why = why or "pair %r" % pair
        continue
    local, rip, rport, typ = "%s:%s" % (m[1], m[2]), m[3], int(m[4]), m[5]
    # every remote candidate Janus knows is that relayed address (typ relay
    # from our offer; libnice may also list it as prflx when our first
    # check came before it read the offer's candidate)
    addrs = {tuple(re.search(r"udp \d+ ([\d.]+) (\d+) typ", c).groups()) for c in remote if "typ" in c}
    if local == row["selected"] and rip == "198.19.255.254" and 40000 <= rport <= 49999 and typ == "relay" and addrs == {(rip, str(rport))}:
        good += 1
    else:
        why = why or "%s: pair %r, remote %r, csv selected %s" % (k, pair, remote, row["selected"])
print(good, why)
EOF
)
if [ "${check%% *}" = "$n" ]; then ok "Janus's admin API: all $n sessions' selected pairs are <the CSV's selected> <-> a relayed address (typ relay)"; else bad "Janus's admin API: $check"; fi
direct=$(tshark -r "$dir/veth.pcap" -Y "udp && !(udp.port == 3478)" 2>/dev/null | wc -l)
turnctl=$(tshark -r "$dir/veth.pcap" -Y "udp.port == 3478" 2>/dev/null | wc -l)
if [ -f "$dir/veth.pcap" ] && [ "$direct" = 0 ] && [ "$turnctl" -gt 0 ]; then
  ok "the veth (kernel's view): no agent datagram but to or from the TURN server ($turnctl TURN control messages seen, 0 other)"
else
  bad "the veth: $direct agent datagrams not to or from port 3478, $turnctl TURN control messages"; head -5 "$dir/dumpcap.out"
fi
grep -E "^  relay" -A4 "$dir/good.log" | sed 's/^/  /'

# ---- 2: a wrong password: every session fails in stage turn ------------
creq=$(grep -c 'Creating new handle' "$jdir/janus.log")
start_coturn "$dir/bad" || bad "coturn did not start again"
run_target "$dir/bad.json" "$dir/bad.csv" "$dir/bad.log" "wrong-password"
stop_coturn
r=$dir/bad.json
if [ "$rc" -eq 0 ] && [ -f "$r" ] && [ "$elapsed" -le 30 ]; then ok "wrong password: the run ended on time (exit 0, ${elapsed} s)"; else bad "wrong password: exit $rc after ${elapsed} s"; tail -20 "$dir/bad.log" | sed 's/^/  run: /'; fi
got=$(json "$r" "(r['target']['stages']['signal']['causes']['turn'], r['target']['sessions_up'], r['relay']['failures_by_code']['401'], r['relay']['stages']['allocate']['failed'])")
if [ "$got" = "($n, 0, $n, $n)" ]; then ok "wrong password: $n sessions failed with cause turn, $n allocations failed with 401"; else bad "wrong password: (cause turn, up, 401s, allocate failed) $got, want ($n, 0, $n, $n)"; fi
rows=$(tail -n +2 "$dir/bad.csv" 2>/dev/null | cut -d, -f5 | sort | uniq -c | tr -s ' ' | tr '\n' ';')
if [ "$rows" = " $n turn;" ]; then ok "--clients-csv: $n rows with cause turn"; else bad "--clients-csv causes: '$rows'"; fi
c401=$(log_count "$dir/bad" "user <$user>: incoming packet message processed, error 401")
if [ "$c401" = "$n" ]; then ok "coturn's log: $c401 requests with USERNAME $user answered 401"; else bad "coturn's log: $c401 answers 401 (want $n)"; fi
creq2=$(grep -c 'Creating new handle' "$jdir/janus.log")
if [ "$creq2" = "$creq" ]; then ok "Janus: no handle created in the failed run"; else bad "Janus: $((creq2 - creq)) handles created in the failed run"; fi

summary
[ "$failed" -eq 0 ]
