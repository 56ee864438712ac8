#!/bin/bash
# SPDX-License-Identifier: MIT
# --relay ...,transport=tcp against coturn (Debian's turnserver) and the
# Linux kernel's TCP under it: in a network namespace of the test's own,
# tools/external-port makes the veth pair (198.19.255.254/15 on the kernel
# end) and coturn listens there on TCP and UDP. Every agent opens a TCP
# connection of its own (198.18.x.y:port -> 198.19.255.254:3478, our TCP
# engine against the kernel's), runs its TURN client over it (RFC 8656
# §3.1: STUN and padded ChannelData framed on the stream) and relays over
# UDP. A swarm of 200 agents (kmesh:k=4, 400 connections, reliable
# DataChannel messages):
#   - every TCP connection comes up and is closed cleanly at the end (FINs
#     both ways, none reset), every agent allocates, every connection of
#     the mesh comes up through the relay, every message sent is delivered;
#     the report counts 200 allocations, 800 permissions and channels, 200
#     releases; coturn's log agrees (200 ALLOCATE and 800 CHANNEL_BIND
#     successes, 200 refreshes to lifetime 0, 200 TCP sessions closed),
#     and so do the kernel's counters in the namespace (200 passive opens,
#     no checksum errors, no resets);
#   - a capture of the veth's kernel end dissected by tshark: every TCP
#     segment well formed, TCP and IP checksums good (tshark checks them),
#     nothing malformed, the STUN messages and ChannelData decoded as TURN
#     on TCP port 3478 (the Allocate answers and ChannelBind answers tshark
#     sees match the report);
#   - a wrong password: 401, the retry 401, every agent fails in stage
#     allocate with 401 and closes its connection cleanly;
#   - nobody listening on the port: the kernel answers every SYN with a
#     RST, every agent fails in stage allocate, the run goes on.
#   relay_coturn_tcp.sh SWARMGEN SWARMGEN_DP EXTERNAL_PORT_SCRIPT
# Exit 77 (skipped) without root, or without turnserver or tshark unless
# SWARMGEN_REQUIRE_COTURN is set.
set -uo pipefail
sg=$1
dp=$2
extport=$3
name=relay_coturn_tcp
server=198.19.255.254
user=swarm
pass=relay-secret-1
realm=swarmgen.test
kif=${SWARMGEN_EXT_KERNEL_IF:-sgext1}

skip() {
  if [ -n "${SWARMGEN_REQUIRE_COTURN:-}" ] && [ "${2:-}" != root ]; then
    echo "$name: $1" >&2
    exit 1
  fi
  echo "$name: skipped: $1"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (tools/external-port creates a veth pair)" root
command -v turnserver >/dev/null || skip "turnserver (Debian package coturn) is not installed (tools/install-deps test)"
command -v tshark >/dev/null || skip "tshark is not installed (tools/install-deps test)"
# without it the veth leaves the kernel's TCP checksums to an offload that
# does not exist and the dataplane drops every segment (bad checksum)
command -v ethtool >/dev/null || skip "ethtool is not installed (tools/install-deps test)"
command -v python3 >/dev/null || skip "python3 is not installed"

ns=sgturntcp$$
dir=$(mktemp -d /tmp/swarmgen-relay-tcp-XXXXXX)
nx() { ip netns exec "$ns" "$@"; }
. "$(dirname "$0")/coturn_lib.sh"
cpid=
stop_capture() {
  [ -n "$cpid" ] || return 0
  kill -TERM "$cpid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$cpid" 2>/dev/null
  wait "$cpid" 2>/dev/null
  cpid=
}
cleanup() {
  stop_capture
  stop_coturn
  "$extport" down --netns "$ns" >/dev/null 2>&1
  if [ -n "${SWARMGEN_KEEP_COTURN:-}" ]; then echo "$name: files kept in $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "$name: ok: $*"; }
bad() { failed=$((failed + 1)); echo "$name: FAILED: $*"; }
summary() { echo "[====] $name: Tested: $((passed + failed)) | Passing: $passed | Failing: $failed"; }

"$extport" up --netns "$ns" >/dev/null || { bad "tools/external-port up failed"; summary; exit 1; }


json() { # file python-expression on r
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null
}


# the kernel's TCP counters in the namespace (nstat -a: absolute values)
kstat() { nx nstat -az "$1" 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'; }

run_swarm() { # report log pass extra...
  local report=$1 log=$2 pw=$3
  shift 3
  local t0=$(date +%s)
  timeout 180 ip netns exec "$ns" "$sg" run --dp "$dp" --agents 200 --topology kmesh:k=4 --traffic dc --rate 2000 \
    --duration 5s --cores 0 --setup-timeout 30s --quiet --report "$report" \
    --relay "turn:$server:3478,user=$user,pass=$pw,realm=$realm,transport=tcp" "$@" > "$log" 2>&1
  rc=$?
  elapsed=$(($(date +%s) - t0))
}

# The capture dissected by tshark in one pass (checksums verified), one
# line of counts: every TCP segment, ours (to port 3478) and those whose
# checksum tshark verified, our SYNs and FINs, the server's RSTs, bad
# checksums (a 0xffff for 0x0000 from Linux apart: the same value in ones'
# complement, RFC 1624 §3), malformed frames, expert errors, the STUN
# Allocate and ChannelBind successes and ChannelData PDUs tshark decoded
# from the streams (every PDU of a frame, not only the first).
dissect() {
  tshark -n -r "$1" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -Y tcp -T fields -E occurrence=a \
    -e tcp.srcport -e tcp.dstport -e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.fin -e tcp.flags.reset \
    -e tcp.checksum -e tcp.checksum.status -e ip.checksum.status -e _ws.malformed -e _ws.expert.severity \
    -e stun.type.method -e stun.type.class -e stun.channel 2>/dev/null | python3 -c '
import sys
c = dict(all=0, ours=0, ours_ok=0, syn=0, fin=0, rst=0, bad=0, ffff=0, malformed=0, error=0, alloc=0, chan=0, cd=0)
yes = ("1", "True")
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    if len(f) < 14:
        continue
    sport, dport, syn, ack, fin, rst, ck, ckst, ipst, mal, sev, meth, cls, ch = f[:14]
    c["all"] += 1
    if dport == "3478":
        c["ours"] += 1
        c["ours_ok"] += ckst == "1"
        c["syn"] += syn in yes and ack not in yes
        c["fin"] += fin in yes
        c["cd"] += len([x for x in ch.split(",") if x])
    else:
        c["rst"] += rst in yes
    if ckst == "0" or ipst == "0":
        c["ffff" if ck.lower() == "0xffff" and ipst != "0" else "bad"] += 1
    c["malformed"] += bool(mal)
    c["error"] += any(v and int(v, 0) >= 0x00800000 for v in sev.split(","))  # PI_ERROR
    if dport != "3478" and meth:
        for m, k in zip(meth.split(","), cls.split(",")):
            c["alloc"] += int(m, 16) == 3 and int(k, 16) == 0x10
            c["chan"] += int(m, 16) == 9 and int(k, 16) == 0x10
print(" ".join("%s=%d" % kv for kv in c.items()))'
}

# ---- 1: the right password, a capture of the kernel end ---------------
if start_coturn "$dir/good" tcp; then ok "coturn listens on $server:3478 (TCP)"; else bad "coturn did not start"; cat "$dir/good/out"; summary; exit 1; fi
nx nstat -n >/dev/null 2>&1
p0=$(kstat TcpPassiveOpens); e0=$(kstat TcpInCsumErrors); r0=$(kstat TcpEstabResets); o0=$(kstat TcpOutRsts); i0=$(kstat TcpInSegs)
ip netns exec "$ns" dumpcap -q -i "$kif" -f "tcp port 3478" -w "$dir/good.pcap" > "$dir/dumpcap.out" 2>&1 &
cpid=$!
for _ in $(seq 50); do [ -s "$dir/good.pcap" ] && break; sleep 0.1; done
run_swarm "$dir/good.json" "$dir/good.log" "$pass"
sleep 0.5
stop_capture
stop_coturn
p1=$(kstat TcpPassiveOpens); e1=$(kstat TcpInCsumErrors); r1=$(kstat TcpEstabResets); o1=$(kstat TcpOutRsts); i1=$(kstat TcpInSegs)
if [ "$rc" -eq 0 ] && [ -f "$dir/good.json" ]; then ok "run exit 0 in ${elapsed}s"; else bad "run exit $rc"; tail -30 "$dir/good.log" | sed 's/^/  swarm: /'; fi
if [ -f "$dir/good.json" ]; then
  r="$dir/good.json"
  up=$(json "$r" "r['connections']['established']")
  total=$(json "$r" "r['connections']['total']")
  if [ -n "$up" ] && [ "$up" = "$total" ] && [ "$up" = 400 ]; then ok "$up/$total connections up through the relay"; else bad "connections up $up of $total (want 400/400)"; json "$r" "r['connections']"; fi
  sent=$(json "$r" "r['messages']['sent']")
  deliv=$(json "$r" "r['messages']['delivered']")
  lost=$(json "$r" "r['messages']['lost']")
  if [ -n "$sent" ] && [ "$sent" -gt 0 ] && [ "$sent" = "$deliv" ] && [ "$lost" = 0 ]; then ok "$sent messages sent, $deliv delivered, none lost"; else bad "messages sent $sent delivered $deliv lost $lost"; fi
  accounting_check "$r"
  tr=$(json "$r" "r['relay']['transport']")
  [ "$tr" = tcp ] && ok "report: transport tcp" || bad "report: transport '$tr'"
  al=$(json "$r" "r['relay']['stages']['allocate']['ok']")
  perm=$(json "$r" "r['relay']['stages']['permission']['ok']")
  chan=$(json "$r" "r['relay']['stages']['channel']['ok']")
  rel=$(json "$r" "r['relay']['released']")
  if [ "$al" = 200 ] && [ "$perm" = 800 ] && [ "$chan" = 800 ] && [ "$rel" = 200 ]; then ok "report: 200 allocations, 800 permissions, 800 channels, 200 released"; else bad "report: allocations $al permissions $perm channels $chan released $rel (want 200, 800, 800, 200)"; fi
  tcp=$(json "$r" "' '.join('%s=%s' % kv for kv in r['relay']['tcp'].items())")
  echo "$name: report tcp: $tcp"
  t_up=$(json "$r" "r['relay']['tcp']['up']")
  t_cl=$(json "$r" "r['relay']['tcp']['closed'] + r['relay']['tcp']['reset_after_release']")
  t_fr=$(json "$r" "r['relay']['tcp']['reset_after_release']")
  t_so=$(json "$r" "r['relay']['tcp']['segs_out']")
  t_bad=$(json "$r" "r['relay']['tcp']['failed'] + r['relay']['tcp']['reset_by_server'] + r['relay']['tcp']['closed_by_server'] + r['relay']['tcp']['aborted'] + r['relay']['tcp']['bad_checksum'] + r['relay']['tcp']['bad_segments'] + r['relay']['tcp']['stream_malformed'] + r['relay']['tcp']['blocked']")
  if [ "$t_up" = 200 ] && [ "$t_cl" = 200 ] && [ "$t_bad" = 0 ]; then ok "report: 200/200 TCP connections up, 200 closed after our release ($t_fr of them by the server's RST), none failed, reset before or aborted, no bad segment"; else bad "report: tcp up $t_up closed $t_cl, failures/resets/bad $t_bad"; fi
  cd_out=$(json "$r" "r['relay']['channel_data_out']")
  cd_in=$(json "$r" "r['relay']['channel_data_in']")
  if [ -n "$cd_out" ] && [ "$cd_out" -gt 0 ] && [ "$cd_in" -gt 0 ]; then ok "ChannelData out $cd_out, in $cd_in"; else bad "ChannelData out '$cd_out' in '$cd_in'"; fi
  # the memory plan counted the TCP connections and stream buffers (each TURN client's 64-byte rounding is planned as its average)
  mem=$(json "$r" "'%d %d' % (r['memory']['categories']['relay_clients'], r['memory']['planned']['categories']['relay_clients'])")
  set -- $mem
  if [ -n "${1:-}" ] && [ "$1" -gt 0 ] && awk -v a="$1" -v p="${2:-0}" 'BEGIN { d = a - p; if (d < 0) d = -d; exit !(d * 100 <= a) }'; then ok "memory: relay clients $1 bytes allocated, $2 planned"; else bad "memory: relay clients allocated / planned '$mem'"; fi
  c_alloc=$(log_count "$dir/good" "incoming packet ALLOCATE processed, success")
  c_chan=$(log_count "$dir/good" "incoming packet CHANNEL_BIND processed, success")
  c_rel=$(log_count "$dir/good" "refreshed" "lifetime=0")
  c_tcp=$(log_count "$dir/good" "closed (2nd stage)" "TCP")
  if [ "$c_alloc" = "$al" ]; then ok "coturn's log: $c_alloc ALLOCATE successes = the report's $al"; else bad "coturn's log: $c_alloc ALLOCATE successes, the report $al"; fi
  if [ "$c_chan" = "$chan" ]; then ok "coturn's log: $c_chan CHANNEL_BIND successes = the report's $chan"; else bad "coturn's log: $c_chan CHANNEL_BIND successes, the report $chan"; fi
  if [ "$c_rel" = "$rel" ]; then ok "coturn's log: $c_rel refreshes to lifetime 0 = the report's released $rel"; else bad "coturn's log: $c_rel releases, the report $rel"; fi
  if [ "$c_tcp" = 200 ]; then ok "coturn's log: 200 TCP sessions closed"; else bad "coturn's log: $c_tcp TCP sessions closed (want 200)"; grep -F "closed (2nd stage)" "$dir"/good/turn*.log | head -3 | sed 's/^/  coturn: /'; fi
  # coturn closes a session whose client sent its FIN with a RST (as it does
  # with the kernel's own TCP as the client): the kernel's resets are those
  if [ "$((p1 - p0))" = 200 ] && [ "$((e1 - e0))" = 0 ] && [ "$((r1 - r0))" = "$t_fr" ] && [ "$((o1 - o0))" = "$t_fr" ]; then ok "the kernel (nstat): 200 passive opens, no checksum errors, $((o1 - o0)) RSTs out = the report's resets after our release"; else bad "the kernel: passive opens $((p1 - p0)), checksum errors $((e1 - e0)), established resets $((r1 - r0)), RSTs out $((o1 - o0)) (the report: $t_fr resets after our release)"; fi
  if [ "$((i1 - i0))" = "$t_so" ]; then ok "the kernel received $((i1 - i0)) TCP segments = the report's $t_so sent"; else bad "the kernel received $((i1 - i0)) TCP segments, the report sent $t_so"; fi
  grep -E "^  relay" -A5 "$dir/good.log" | sed 's/^/  /'
  # the capture, dissected
  d=$(dissect "$dir/good.pcap")
  echo "$name: tshark: $d"
  dv() { echo "$d" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
  if [ "$(dv all)" -gt 1000 ] && [ "$(dv bad)" = 0 ] && [ "$(dv malformed)" = 0 ] && [ "$(dv error)" = 0 ] && [ "$(dv ours_ok)" = "$(dv ours)" ]; then ok "tshark: $(dv all) TCP segments, every checksum good (ours: $(dv ours_ok) of $(dv ours) verified; $(dv ffff) of the kernel's 0xffff for 0x0000), nothing malformed, no expert error"; else bad "tshark: $(dv all) segments, $(dv bad) bad checksums, $(dv malformed) malformed, $(dv error) expert errors, $(dv ours_ok) of our $(dv ours) verified"; fi
  if [ "$(dv syn)" = 200 ] && [ "$(dv fin)" = 200 ] && [ "$(dv rst)" = "$t_fr" ] && [ "$(dv ours)" = "$t_so" ]; then ok "tshark: 200 SYNs and 200 FINs from the agents, $(dv rst) RSTs from the server (= the report's), $(dv ours) segments from us (= the report's)"; else bad "tshark: SYNs $(dv syn), FINs $(dv fin), RSTs $(dv rst) (the report $t_fr), segments from us $(dv ours) (the report $t_so)"; fi
  if [ "$(dv alloc)" = 200 ] && [ "$(dv chan)" = 800 ] && [ "$(dv cd)" = "$cd_out" ]; then ok "tshark decodes TURN on TCP: 200 Allocate and 800 ChannelBind successes in the server's streams, $(dv cd) ChannelData from us (= the report's)"; else bad "tshark: Allocate successes $(dv alloc), ChannelBind successes $(dv chan) (want 200, 800), ChannelData from us $(dv cd) (the report $cd_out)"; fi
fi

# ---- 2: a wrong password: 401, failures in stage allocate --------------
start_coturn "$dir/bad" tcp || bad "coturn did not start again"
run_swarm "$dir/bad.json" "$dir/bad.log" "wrong-password"
stop_coturn
if [ "$rc" -eq 0 ] && [ -f "$dir/bad.json" ] && [ "$elapsed" -le 60 ]; then ok "wrong password: the run ended (exit 0, no SLA rule) in ${elapsed}s"; else bad "wrong password: exit $rc in ${elapsed}s"; tail -20 "$dir/bad.log" | sed 's/^/  swarm: /'; fi
if [ -f "$dir/bad.json" ]; then
  r="$dir/bad.json"
  f401=$(json "$r" "r['relay']['failures_by_code']['401']")
  fa=$(json "$r" "r['relay']['stages']['allocate']['failed']")
  ct=$(json "$r" "r['relay']['conns_failed_turn']")
  t_up=$(json "$r" "r['relay']['tcp']['up']")
  t_cl=$(json "$r" "r['relay']['tcp']['closed'] + r['relay']['tcp']['reset_after_release']")
  if [ "$f401" = 200 ] && [ "$fa" = 200 ] && [ "$ct" = 400 ]; then ok "wrong password: 200 allocations failed with 401, 400 connections given up in stage turn"; else bad "wrong password: 401 failures $f401, allocate failed $fa, conns_failed_turn $ct"; fi
  if [ "$t_up" = 200 ] && [ "$t_cl" = 200 ]; then ok "wrong password: 200 TCP connections up and closed after our release"; else bad "wrong password: tcp up $t_up closed $t_cl"; fi
  c401=$(log_count "$dir/bad" "user <$user>: incoming packet message processed, error 401")
  if [ "$c401" = "$f401" ]; then ok "coturn's log: $c401 requests with USERNAME $user answered 401 (the report: $f401)"; else bad "coturn's log: $c401 answers 401 to USERNAME $user (the report $f401)"; fi
fi

# ---- 3: nobody listening: the kernel resets every SYN -----------------
run_swarm "$dir/none.json" "$dir/none.log" "$pass"
if [ "$rc" -eq 0 ] && [ "$elapsed" -le 40 ]; then ok "no listener: the run ended (exit 0) in ${elapsed}s"; else bad "no listener: exit $rc after ${elapsed}s"; tail -5 "$dir/none.log" | sed 's/^/  swarm: /'; fi
if [ -f "$dir/none.json" ]; then
  rs=$(json "$dir/none.json" "r['relay']['tcp']['reset_by_server']")
  fa=$(json "$dir/none.json" "r['relay']['stages']['allocate']['failed']")
  ct=$(json "$dir/none.json" "r['relay']['conns_failed_turn']")
  if [ "$rs" = 200 ] && [ "$fa" = 200 ] && [ "$ct" = 400 ]; then ok "no listener: 200 SYNs reset by the kernel, 200 failures at allocate, 400 connections given up in stage turn"; else bad "no listener: resets $rs, allocate failed $fa, conns_failed_turn $ct"; fi
fi

summary
[ "$failed" -eq 0 ]
