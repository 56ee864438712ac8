#!/bin/bash
# SPDX-License-Identifier: MIT
# Target mode against our own WHIP server, in two processes: swarm A
# (swarmgen run --external echo) answers WHIP offers for its agents; swarm
# B (swarmgen run --target whip:URL) makes 8 of its agents WebRTC clients
# of A. The two dataplanes' external ports are the two ends of one veth
# pair in a namespace of the test's own (af_packet on each end; A answers
# ARP for its agents, B resolves A's candidates by ARP). Checked:
#   1. consent: B sends no messages for 36 s while A closes any session
#      silent for 12 s; B's sessions stay up past 30 s only if B's consent
#      checks (RFC 7675, every 5 s) reach A and A's answers reach B;
#   2. messages: 8 sessions x 10 msg/s for 8 s, every message comes back
#      (sent == back), round trips timed;
#   3. DELETE at the end: A's report counts every session closed, B's
#      every session deleted;
#   DTLS versions (issue 21): B's message run forces --external-dtls 1.2
#      against A's default (auto): B counts its 8 sessions up as 1.2
#      (target.dtls and every CSV row's dtls_version); A's external.dtls
#      and its session log count, per version, what B's two runs counted;
#   4. WHIP errors: a wrong bearer token gives 401 per session, an unknown
#      agent 404, both counted by cause (http_4xx) in stage signal; the run
#      still ends on time and leaves nothing behind.
#   target_self.sh SWARMGEN SWARMGEN_DP
# Exit 77 (skipped) without root.
set -uo pipefail
sg=$1
dp=$2
name=target_self
require=SWARMGEN_REQUIRE_ROOT_TESTS
skip() { echo "$name: skipped: $1"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (a veth pair in a network namespace)"
command -v python3 >/dev/null || skip "python3 is not installed"

ns=sgts$$
nx() { ip netns exec "$ns" "$@"; }
dir=$(mktemp -d "/tmp/swarmgen-$name-XXXXXX")
apid=
cleanup() {
  [ -n "$apid" ] && kill -INT "$apid" 2>/dev/null && wait "$apid" 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "$name: ok: $*"; }
bad() { failed=$((failed + 1)); echo "$name: FAILED: $*"; }
summary() { echo "[====] $name: Tested: $((passed + failed)) | Passing: $passed | Failing: $failed"; }
json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null; }

ip netns add "$ns" || { bad "ip netns add"; summary; exit 1; }
nx ip link set lo up
nx ip link add tga type veth peer name tgb
for i in tga tgb; do
  nx sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1"
  nx ip link set "$i" up
done
port=$(nx python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# Swarm A: the WHIP server (answerer, ICE-lite), its agents' sessions closed after 12 s of silence.
start_a() { # token-flags...
  ip netns exec "$ns" "$sg" run --dp "$dp" --agents 16 --topology ring --rate 100 --duration 10m --cores 0 \
    --external echo --signal "127.0.0.1:$port" --external-port net_af_packet0,iface=tga --external-idle 12s \
    --report "$dir/a.json" "$@" > "$dir/a.log" 2>&1 &
  apid=$!
  pids="$pids $apid"
  for _ in $(seq 300); do
    [ "$(nx curl -s -o /dev/null -w '%{http_code}' -X OPTIONS "http://127.0.0.1:$port/whip/agents/0")" = 204 ] && return 0
    kill -0 "$apid" 2>/dev/null || break
    sleep 0.2
  done
  bad "swarm A's WHIP server did not come up"; sed 's/^/  A: /' "$dir/a.log"; return 1
}
stop_a() {
  kill -INT "$apid"; wait "$apid"; local rc=$?
  apid=
  [ "$rc" -eq 130 ] || { bad "swarm A: SIGINT exit $rc"; sed 's/^/  A: /' "$dir/a.log" | tail -20; }
}
# Swarm B: the target-mode run. run_b TAG DURATION TARGET-FLAGS...
pids=
run_b() {
  local tag=$1 dur=$2
  shift 2
  ip netns exec "$ns" "$sg" run --dp "$dp" --agents 16 --topology ring --rate 100 --duration "$dur" \
    --cores 1 --external-port net_af_packet1,iface=tgb --report "$dir/b-$tag.json" \
    --clients-csv "$dir/b-$tag.csv" "$@" > "$dir/b-$tag.log" 2>&1 &
  local pid=$!
  pids="$pids $pid"
  wait "$pid"
}

start_a || { summary; exit 1; }
url="http://127.0.0.1:$port/whip/agents/{agent}"

# 1. consent keeps silent sessions up past 30 s
run_b consent 36s --target "whip:$url" --target-agents 8 --target-rate 0
rc=$?
up=$(json "$dir/b-consent.json" "r['target']['sessions_up']")
lost=$(json "$dir/b-consent.json" "r['target']['consent_lost']")
closed=$(json "$dir/b-consent.json" "r['target']['sessions_closed']")
consent=$(json "$dir/b-consent.json" "r['target']['ice']['consent_checks']")
if [ "$rc" -eq 0 ] && [ "$up" = 8 ] && [ "$lost" = 0 ] && [ "${consent:-0}" -ge 48 ]; then
  ok "consent: 8 sessions up for 36 s without messages, $consent consent checks, none lost (closed at the end: $closed)"
else
  bad "consent: exit $rc, up '$up', consent_lost '$lost', consent checks '$consent'"; tail -30 "$dir/b-consent.log" | sed 's/^/  B: /'
fi

# 2. messages come back
run_b msgs 8s --target "whip:$url" --target-agents 8 --target-rate 10 --size 200 --external-dtls 1.2
rc=$?
sent=$(json "$dir/b-msgs.json" "r['target']['messages']['sent']")
back=$(json "$dir/b-msgs.json" "r['target']['messages']['back']")
rtt=$(json "$dir/b-msgs.json" "'p50 %.2f ms, p99 %.2f ms' % (r['target']['round_trip_ms']['p50'], r['target']['round_trip_ms']['p99'])")
deleted=$(json "$dir/b-msgs.json" "r['target']['deleted']")
if [ "$rc" -eq 0 ] && [ -n "$sent" ] && [ "$sent" -ge 500 ] && [ "$sent" = "$back" ]; then
  ok "messages: $sent sent, $back came back (round trip $rtt)"
else
  bad "messages: exit $rc, sent '$sent', back '$back'"; tail -30 "$dir/b-msgs.log" | sed 's/^/  B: /'
fi
rows=$(tail -n +2 "$dir/b-msgs.csv" 2>/dev/null | grep -c ',up,\|,closed,')
if [ "$deleted" = 8 ] && [ "$rows" = 8 ]; then ok "DELETE for all 8 sessions; --clients-csv has 8 rows"; else bad "deleted '$deleted', csv rows '$rows'"; fi
b12=$(json "$dir/b-msgs.json" "r['target']['dtls']['v1_2']")
b13=$(json "$dir/b-msgs.json" "r['target']['dtls']['v1_3']")
boff=$(json "$dir/b-msgs.json" "r['target']['dtls']['offered']")
csv12=$(tail -n +2 "$dir/b-msgs.csv" 2>/dev/null | grep -c ',1\.2$')
if [ "$b12" = 8 ] && [ "$b13" = 0 ] && [ "$boff" = 1.2 ] && [ "$csv12" = 8 ]; then
  ok "--external-dtls 1.2: B's 8 sessions up as DTLS 1.2 (report and every CSV row)"
else
  bad "--external-dtls 1.2: B's target.dtls 1.2 '$b12', 1.3 '$b13', offered '$boff', CSV rows with 1.2 '$csv12'"
fi
stop_a
a12=$(json "$dir/a.json" "r['external']['dtls']['v1_2']")
a13=$(json "$dir/a.json" "r['external']['dtls']['v1_3']")
aup=$(json "$dir/a.json" "r['external']['sessions_up']")
alog=$(json "$dir/a.json" "sum(1 for l in r['external']['session_log'] if l.get('dtls_version') == '1.2')")
c12=$(json "$dir/b-consent.json" "r['target']['dtls']['v1_2']")
c13=$(json "$dir/b-consent.json" "r['target']['dtls']['v1_3']")
# per version, A's count is B's two runs' (the consent run auto against auto: 1.2 until our engine speaks 1.3)
if [ "$aup" = 16 ] && [ -n "$a12" ] && [ "$a12" = $((${c12:-0} + ${b12:-0})) ] && [ "$a13" = $((${c13:-0} + ${b13:-0})) ] &&
  [ "$alog" = "$a12" ]; then
  ok "per DTLS version both ends agree: A counts 1.2 $a12, 1.3 $a13 of 16 sessions up (its session log: $alog at 1.2), B's runs the same"
else
  bad "DTLS versions: A's external.dtls 1.2 '$a12', 1.3 '$a13', up '$aup', log at 1.2 '$alog'; B's consent run 1.2 '$c12', 1.3 '$c13', message run 1.2 '$b12', 1.3 '$b13'"
fi
idle=$(json "$dir/a.json" "r['external']['sessions_idle_closed']")
aclosed=$(json "$dir/a.json" "r['external']['sessions_closed']")
if [ "$idle" = 0 ] && [ "$aclosed" = 16 ]; then ok "swarm A: 16 sessions closed by DELETE, none for silence"; else bad "swarm A: idle-closed '$idle', closed '$aclosed' (want 0, 16)"; fi

# 3. WHIP errors: 401 (wrong token) and 404 (unknown agent)
start_a --signal-token right-token || { summary; exit 1; }
t0=$(date +%s)
run_b e401 2s --target "whip:$url" --target-agents 4 --target-token wrong-token
rc401=$?
run_b e404 2s --target "whip:http://127.0.0.1:$port/whip/agents/100000" --target-agents 4 --target-token right-token
rc404=$?
t1=$(date +%s)
c401=$(json "$dir/b-e401.json" "(r['target']['stages']['signal']['causes']['http_4xx'], r['target']['stages']['signal']['failed'])")
c404=$(json "$dir/b-e404.json" "(r['target']['stages']['signal']['causes']['http_4xx'], r['target']['stages']['signal']['failed'])")
st401=$(cut -d, -f6 "$dir/b-e401.csv" 2>/dev/null | tail -n +2 | sort -u | tr '\n' ' ')
st404=$(cut -d, -f6 "$dir/b-e404.csv" 2>/dev/null | tail -n +2 | sort -u | tr '\n' ' ')
if [ "$c401" = "(4, 4)" ] && [ "$st401" = "401 " ]; then ok "wrong token: 4 sessions failed in signal with 401 (exit $rc401)"; else bad "wrong token: causes $c401, statuses '$st401'"; tail -20 "$dir/b-e401.log" | sed 's/^/  B: /'; fi
if [ "$c404" = "(4, 4)" ] && [ "$st404" = "404 " ]; then ok "unknown agent: 4 sessions failed in signal with 404 (exit $rc404)"; else bad "unknown agent: causes $c404, statuses '$st404'"; fi
if [ $((t1 - t0)) -le 60 ]; then ok "the failing runs ended on time ($((t1 - t0)) s for both)"; else bad "the failing runs took $((t1 - t0)) s"; fi
stop_a
sleep 0.5
left=0
shm=0
for p in $pids; do
  left=$((left + $(pgrep -f "swarmgen-$p-" | wc -l)))
  shm=$((shm + $(ls /dev/shm/swarmgen-"$p"-* 2>/dev/null | wc -l)))
done
if [ "$left" -eq 0 ] && [ "$shm" -eq 0 ]; then ok "no process and no /dev/shm file left"; else bad "$left processes, $shm /dev/shm files left"; fi
summary
[ "$failed" -eq 0 ]
