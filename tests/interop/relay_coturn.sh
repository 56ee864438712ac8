#!/bin/bash
# SPDX-License-Identifier: MIT
# --relay against coturn (Debian's turnserver, a TURN server we did not
# write): in a network namespace of the test's own, tools/external-port
# makes the veth pair (198.19.255.254/15 on the kernel end) and coturn
# listens and relays on that address with long-term credentials. A swarm of
# 200 agents (kmesh:k=4, 400 connections, reliable DataChannel messages)
# runs with --relay turn:198.19.255.254:3478,user=...,pass=...:
#   - every agent allocates, every connection comes up through the relay
#     (the peer is the other's relayed address: ChannelData both ways),
#     every message sent is delivered (none lost), the report's relay
#     section counts 200 allocations, 800 permissions and channels, and
#     coturn's own log agrees (200 ALLOCATE successes, 800 CHANNEL_BIND
#     successes, 200 refreshes to lifetime 0 at the end); coturn grants
#     8-s allocations, so every one is refreshed during the run (at 4 s)
#     and coturn's REFRESH successes cover the report's refreshes and
#     releases;
#   - a wrong password: 401, the retry 401, every agent fails in stage
#     allocate with code 401, every connection is given up in stage turn,
#     the run ends on time (no crash) with the exit code the run's SLA
#     rules give (no rule: 0; with delivery>99%: 1, breached: the
#     messages the agents sent found no connection);
#   - a quota of 100 allocations on the server (--total-quota): 100
#     agents allocate, 100 fail with 486, their connections are given up
#     in stage turn and the others come up;
#   - no server at the address (nobody answers ARP for it): every agent
#     fails at allocate with no answer after 5 s, the run goes on.
#   relay_coturn.sh SWARMGEN SWARMGEN_DP EXTERNAL_PORT_SCRIPT
# Exit 77 (skipped) without root, or without turnserver unless
# SWARMGEN_REQUIRE_COTURN is set.
set -uo pipefail
sg=$1
dp=$2
extport=$3
name=relay_coturn
server=198.19.255.254
user=swarm
pass=relay-secret-1
realm=swarmgen.test

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
command -v python3 >/dev/null || skip "python3 is not installed"

ns=sgturn$$
dir=$(mktemp -d /tmp/swarmgen-relay-XXXXXX)
nx() { ip netns exec "$ns" "$@"; }
. "$(dirname "$0")/coturn_lib.sh"
cleanup() {
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


run_swarm() { # report log pass extra...
  local report=$1 log=$2 pw=$3
  shift 3
  local t0=$(date +%s)
  timeout 180 ip netns exec "$ns" "$sg" run --dp "$dp" --agents 200 --topology kmesh:k=4 --traffic dc --rate 2000 \
    --duration 5s --cores 0 --setup-timeout 30s --quiet --report "$report" \
    --relay "turn:$server:3478,user=$user,pass=$pw,realm=$realm" "$@" > "$log" 2>&1
  rc=$?
  elapsed=$(($(date +%s) - t0))
}

# ---- 1: the right password: every connection through the relay --------
# allocations of 8 s: each is refreshed (at half its lifetime, 4 s) during the run
if start_coturn "$dir/good" udp --max-allocate-lifetime=8; then ok "coturn listens on $server:3478"; else bad "coturn did not start"; cat "$dir/good/out"; summary; exit 1; fi
run_swarm "$dir/good.json" "$dir/good.log" "$pass"
stop_coturn
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
  st=$(json "$r" "' '.join('%s %d/%d/%d' % (k, v['attempted'], v['ok'], v['failed']) for k, v in r['relay']['stages'].items())")
  echo "$name: report stages (attempted/ok/failed): $st"
  al=$(json "$r" "r['relay']['stages']['allocate']['ok']")
  perm=$(json "$r" "r['relay']['stages']['permission']['ok']")
  chan=$(json "$r" "r['relay']['stages']['channel']['ok']")
  rel=$(json "$r" "r['relay']['released']")
  if [ "$al" = 200 ] && [ "$perm" = 800 ] && [ "$chan" = 800 ]; then ok "report: 200 allocations, 800 permissions, 800 channels"; else bad "report: allocations $al permissions $perm channels $chan (want 200, 800, 800)"; fi
  cd_out=$(json "$r" "r['relay']['channel_data_out']")
  cd_in=$(json "$r" "r['relay']['channel_data_in']")
  if [ -n "$cd_out" ] && [ "$cd_out" -gt 0 ] && [ "$cd_in" -gt 0 ]; then ok "ChannelData out $cd_out, in $cd_in"; else bad "ChannelData out '$cd_out' in '$cd_in'"; fi
  rtt=$(json "$r" "'p50 %.0f us p95 %.0f us p99 %.0f us (%d)' % (r['relay']['rtt_us']['p50'], r['relay']['rtt_us']['p95'], r['relay']['rtt_us']['p99'], r['relay']['rtt_us']['count'])")
  [ -n "$rtt" ] && ok "round trip to the server: $rtt" || bad "no round trip figures"
  c_alloc=$(log_count "$dir/good" "incoming packet ALLOCATE processed, success")
  c_chan=$(log_count "$dir/good" "incoming packet CHANNEL_BIND processed, success")
  c_rel=$(log_count "$dir/good" "refreshed" "lifetime=0")
  if [ "$c_alloc" = "$al" ]; then ok "coturn's log: $c_alloc ALLOCATE successes = the report's $al"; else bad "coturn's log: $c_alloc ALLOCATE successes, the report $al"; fi
  if [ "$c_chan" = "$chan" ]; then ok "coturn's log: $c_chan CHANNEL_BIND successes = the report's $chan"; else bad "coturn's log: $c_chan CHANNEL_BIND successes, the report $chan"; fi
  refr=$(json "$r" "r['relay']['stages']['refresh']['ok']")
  refr_f=$(json "$r" "r['relay']['stages']['refresh']['failed']")
  c_refr=$(log_count "$dir/good" "incoming packet REFRESH processed, success")
  if [ -n "$refr" ] && [ "$refr" -ge 200 ] && [ "$refr_f" = 0 ]; then ok "report: $refr refreshes of 8-s allocations, none failed"; else bad "report: refreshes $refr, failed $refr_f (want at least 200, none failed)"; fi
  # a refresh coturn answered just as the release replaced it is in
  # coturn's count only (the client drops the answer): at least the sum
  if [ -n "$refr" ] && [ "$c_refr" -ge "$((refr + rel))" ] && [ "$c_refr" -le "$((refr + 2 * rel))" ]; then ok "coturn's log: $c_refr REFRESH successes, the report's $refr refreshes + $rel releases"; else bad "coturn's log: $c_refr REFRESH successes, the report $refr + $rel"; fi
  if [ "$c_rel" = "$rel" ] && [ "$rel" = 200 ]; then ok "coturn's log: $c_rel refreshes to lifetime 0 = the report's released $rel"; else bad "coturn's log: $c_rel releases, the report $rel (want 200)"; fi
  grep -E "^  relay" -A4 "$dir/good.log" | sed 's/^/  /'
fi

# ---- 2: a wrong password: 401, failures in stage turn, on time ---------
start_coturn "$dir/bad" || bad "coturn did not start again"
run_swarm "$dir/bad.json" "$dir/bad.log" "wrong-password"
rc_plain=$rc
el_plain=$elapsed
if [ "$rc_plain" -eq 0 ] && [ -f "$dir/bad.json" ]; then ok "wrong password: the run ended (exit 0, no SLA rule) in ${el_plain}s"; else bad "wrong password: exit $rc_plain"; tail -20 "$dir/bad.log" | sed 's/^/  swarm: /'; fi
if [ "$el_plain" -le 60 ]; then ok "wrong password: on time (${el_plain}s, set-up timeout 30s)"; else bad "wrong password: took ${el_plain}s"; fi
if [ -f "$dir/bad.json" ]; then
  r="$dir/bad.json"
  f401=$(json "$r" "r['relay']['failures_by_code']['401']")
  fa=$(json "$r" "r['relay']['stages']['allocate']['failed']")
  ct=$(json "$r" "r['relay']['conns_failed_turn']")
  up=$(json "$r" "r['connections']['established']")
  if [ "$f401" = 200 ] && [ "$fa" = 200 ]; then ok "wrong password: 200 allocations failed with 401"; else bad "wrong password: 401 failures $f401, allocate failed $fa (want 200)"; fi
  if [ "$ct" = 400 ] && [ "$up" = 0 ]; then ok "wrong password: 400 connections given up in stage turn, none up"; else bad "wrong password: conns_failed_turn $ct, up $up"; fi
fi
stop_coturn
# coturn logs the 401 to the retry with our USERNAME under the user's name
c401=$(log_count "$dir/bad" "user <$user>: incoming packet message processed, error 401")
cok=$(log_count "$dir/bad" "incoming packet ALLOCATE processed, success")
if [ "$c401" = "${f401:-x}" ] && [ "$cok" = 0 ]; then ok "coturn's log: $c401 requests with USERNAME $user answered 401 (the report: $f401), no ALLOCATE success"; else bad "coturn's log: $c401 answers 401 to USERNAME $user (the report $f401), $cok ALLOCATE successes"; fi
start_coturn "$dir/bad-sla" || bad "coturn did not start again"
# with an SLA rule on set-up the same run is a breach: exit 1
run_swarm "$dir/bad-sla.json" "$dir/bad-sla.log" "wrong-password" --sla 'delivery>99%'
if [ "$rc" -eq 1 ]; then ok "wrong password with --sla delivery>99%: exit 1 (breached) in ${elapsed}s"; else bad "wrong password with --sla: exit $rc"; tail -5 "$dir/bad-sla.log" | sed 's/^/  swarm: /'; fi
stop_coturn

# ---- 3: a quota of 100 allocations on the server: 100 agents get 486 --
start_coturn "$dir/quota" udp --total-quota=100 || bad "coturn did not start again"
run_swarm "$dir/quota.json" "$dir/quota.log" "$pass"
stop_coturn
if [ "$rc" -eq 0 ] && [ -f "$dir/quota.json" ]; then ok "quota: the run ended (exit 0) in ${elapsed}s"; else bad "quota: exit $rc"; tail -5 "$dir/quota.log" | sed 's/^/  swarm: /'; fi
if [ -f "$dir/quota.json" ]; then
  r="$dir/quota.json"
  al=$(json "$r" "r['relay']['stages']['allocate']['ok']")
  f486=$(json "$r" "r['relay']['failures_by_code']['486']")
  ct=$(json "$r" "r['relay']['conns_failed_turn']")
  up=$(json "$r" "r['connections']['established']")
  c_alloc=$(log_count "$dir/quota" "incoming packet ALLOCATE processed, success")
  if [ "$al" = 100 ] && [ "$f486" = 100 ] && [ "$c_alloc" = 100 ]; then ok "quota: 100 allocations (coturn's log: $c_alloc), 100 failed with 486"; else bad "quota: allocations $al (coturn $c_alloc), 486 failures $f486 (want 100, 100)"; fi
  if [ -n "$ct" ] && [ "$ct" -gt 0 ] && [ "$((ct + up))" = 400 ]; then ok "quota: $up connections up, $ct given up in stage turn (400 in all)"; else bad "quota: $up up + $ct given up in stage turn != 400"; fi
fi

# ---- 4: no server at the address: no ARP answer, every agent fails ------
server=198.19.255.1
run_swarm "$dir/none.json" "$dir/none.log" "$pass"
if [ "$rc" -eq 0 ] && [ "$elapsed" -le 40 ]; then ok "no server: the run ended (exit 0) in ${elapsed}s"; else bad "no server: exit $rc after ${elapsed}s"; tail -5 "$dir/none.log" | sed 's/^/  swarm: /'; fi
if [ -f "$dir/none.json" ]; then
  to=$(json "$dir/none.json" "r['relay']['failures_by_code']['timeout']")
  ct=$(json "$dir/none.json" "r['relay']['conns_failed_turn']")
  if [ "$to" = 200 ] && [ "$ct" = 400 ]; then ok "no server: 200 allocations failed with no answer, 400 connections given up in stage turn"; else bad "no server: timeouts $to, conns_failed_turn $ct"; fi
fi

summary
[ "$failed" -eq 0 ]
