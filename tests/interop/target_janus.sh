#!/bin/bash
# SPDX-License-Identifier: MIT
# Target mode against Janus EchoTest (Debian's janus 1.1.2 started by
# tools/janus-lab in the external port's namespace): swarmgen run
# --target janus:http://127.0.0.1:8088/janus with 200 agents, each a full
# ICE client with a DataChannel and an SRTP audio stream. Checked: all 200
# sessions up, every DataChannel message echoed (sent == back), audio
# echoed with zero SRTP authentication failures, every session detached
# and destroyed at the end (the report's `deleted`, Janus's admin API: no
# session left; Janus's log: as many handles created and freed as
# sessions), the per-client CSV with one up row per agent, nothing left
# behind.
#   target_janus.sh SWARMGEN SWARMGEN_DP EXTERNAL_PORT_SCRIPT JANUS_LAB_SCRIPT [AGENTS]
# Exit 77 (skipped) without root, or without janus unless
# SWARMGEN_REQUIRE_JANUS is set.
set -uo pipefail
sg=$1
dp=$2
extport=$3
lab=$4
n=${5:-200}
name=target_janus
. "$(dirname "$0")/target_lib.sh"
need_janus_lab

ns=sgtj$$
nx() { ip netns exec "$ns" "$@"; }
dir=$(mktemp -d "/tmp/swarmgen-$name-XXXXXX")
jdir=$dir/janus
cleanup() {
  lab_down
  rm -rf "$dir"
}
trap cleanup EXIT
json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null; }

lab_up

t0=$(date +%s)
ip netns exec "$ns" "$sg" run --dp "$dp" --agents "$n" --topology ring --rate 200 --duration 8s --cores 0 \
  --target "janus:$url" --target-agents "$n" --target-rate 2 --size 256 --media audio --target-timeout 15s \
  --report "$dir/r.json" --clients-csv "$dir/c.csv" --html "$dir/r.html" > "$dir/run.log" 2>&1 &
pid=$!
wait "$pid"
rc=$?
t1=$(date +%s)
if [ "$rc" -eq 0 ]; then ok "the run ended (exit 0, $((t1 - t0)) s)"; else bad "the run: exit $rc"; tail -30 "$dir/run.log" | sed 's/^/  run: /'; fi
got=$(json "$dir/r.json" "(r['target']['sessions_up'], r['target']['stages']['datachannel']['established'])")
if [ "$got" = "($n, $n)" ]; then
  ok "$n sessions up, set-up p50 $(json "$dir/r.json" "'%.1f ms, p99 %.1f ms' % (r['target']['setup_ms']['p50'], r['target']['setup_ms']['p99'])") (signal p50 $(json "$dir/r.json" "'%.1f ms' % r['target']['stages']['signal']['time_ms']['p50']"))"
else
  bad "sessions (up, datachannel established) $got, want ($n, $n)"
  json "$dir/r.json" "r['target']['stages']" | cut -c1-600
fi
sent=$(json "$dir/r.json" "r['target']['messages']['sent']")
back=$(json "$dir/r.json" "r['target']['messages']['back']")
if [ -n "$sent" ] && [ "$sent" -ge "$n" ] && [ "$sent" = "$back" ]; then
  ok "DataChannel: $sent messages sent, $back echoed (round trip $(json "$dir/r.json" "'p50 %.2f ms, p99 %.2f ms' % (r['target']['round_trip_ms']['p50'], r['target']['round_trip_ms']['p99'])"))"
else
  bad "DataChannel: sent '$sent', back '$back'"
fi
got=$(json "$dir/r.json" "(r['target']['audio_stats']['srtp_auth_failures'], r['target']['audio_stats']['rtp_sent'] > 0, r['target']['audio_stats']['rtp_back'] >= 0.9 * r['target']['audio_stats']['rtp_sent'])")
if [ "$got" = "(0, True, True)" ]; then
  ok "audio: $(json "$dir/r.json" "'%d SRTP packets sent, %d echoed, %d lost, 0 auth failures, %d RTCP in' % (r['target']['audio_stats']['rtp_sent'], r['target']['audio_stats']['rtp_back'], r['target']['audio_stats']['rtp_lost'], r['target']['audio_stats']['rtcp_in'])")"
else
  bad "audio (auth failures, sent, >= 90 % back): $got: $(json "$dir/r.json" "r['target']['audio_stats']")"
fi
got=$(json "$dir/r.json" "(r['target']['deleted'], r['target']['delete_failed'])")
if [ "$got" = "($n, 0)" ]; then ok "all $n sessions detached and destroyed on Janus"; else bad "(deleted, delete_failed) $got"; fi
secret=$(cat "$jdir/admin_secret")
left=$(nx curl -s -m 5 -X POST -d "{\"janus\":\"list_sessions\",\"transaction\":\"t1\",\"admin_secret\":\"$secret\"}" http://127.0.0.1:7088/admin |
  python3 -c "import json,sys; print(len(json.load(sys.stdin)['sessions']))" 2>/dev/null)
created=$(grep -c 'Creating new handle' "$jdir/janus.log")
freed=$(grep -c 'Handle and related resources freed' "$jdir/janus.log")
if [ "$left" = 0 ] && [ "$created" = "$n" ] && [ "$freed" = "$n" ]; then
  ok "Janus agrees: $created handles created, $freed freed, no session left (admin API)"
else
  bad "Janus: sessions left '$left', handles created $created, freed $freed (want $n)"
fi
rows=$(tail -n +2 "$dir/c.csv" 2>/dev/null | cut -d, -f7 | sort | uniq -c | tr -s ' ' | tr '\n' ';')
if [ "$rows" = " $n closed;" ]; then ok "--clients-csv: $n rows, every session closed at the end"; else bad "--clients-csv states: '$rows'"; fi
if grep -q 'Target: joins over time' "$dir/r.html"; then ok "HTML report has the joins chart"; else bad "HTML report lacks the joins chart"; fi
sleep 0.5
if [ "$(pgrep -f "swarmgen-$pid-" | wc -l)" -eq 0 ] && ! ls /dev/shm/swarmgen-"$pid"-* >/dev/null 2>&1; then ok "no process and no /dev/shm file left"; else bad "a process or /dev/shm file left"; fi
summary
[ "$failed" -eq 0 ]
