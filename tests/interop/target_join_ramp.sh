#!/bin/bash
# SPDX-License-Identifier: MIT
# Ramped joins (--join-ramp, a scenario's join_rate:) against Janus
# EchoTest (Debian's janus started by tools/janus-lab in the external
# port's namespace). The scenario ramps the join rate from 2 to 20
# sessions/s over 6 s, then holds 3 s with no joins; 80 agents may join,
# about 66 do. Checked:
#   1. starts_per_s follows the ramp: second k starts 3.5 + 3k sessions
#      (the integral of 2 + 3t over it), within 2 (the token bucket
#      starts a session per whole token: a fraction moves at most one
#      start into the next second each side; the rate is updated every
#      20 ms, 0.4 sessions at 20/s); the hold starts at most 1;
#   2. joins_per_s (sessions up per second) rises the same way: seconds
#      3-5 at least twice seconds 0-2 (the profile: 46.5 against 19.5),
#      and the sessions up by second k never more than those started by
#      then. Not second by second: set-up takes tens of ms alone, but more
#      than a second on a loaded 2-core machine, which moves joins into
#      later seconds;
#   3. accounting: started + not_started = 80, started = up + failed,
#      sum(starts_per_s) = started, sum(joins_per_s) = up;
#   4. Janus agrees: as many handles created and freed as sessions
#      started (its log), no session left (admin API), every message back.
#   target_join_ramp.sh SWARMGEN SWARMGEN_DP EXTERNAL_PORT_SCRIPT JANUS_LAB_SCRIPT
# Exit 77 (skipped) without root, or without janus unless
# SWARMGEN_REQUIRE_JANUS is set.
set -uo pipefail
sg=$1
dp=$2
extport=$3
lab=$4
n=80
name=target_join_ramp
. "$(dirname "$0")/target_lib.sh"
need_janus_lab

ns=sgjr$$
nx() { ip netns exec "$ns" "$@"; }
dir=$(mktemp -d "/tmp/swarmgen-$name-XXXXXX")
jdir=$dir/janus
pid=
cleanup() {
  [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  lab_down
  rm -rf "$dir"
}
trap cleanup EXIT
json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); t=r['target']; print($2)" "$1" 2>/dev/null; }

lab_up
cat > "$dir/storm.yaml" <<'EOF'
name: join-storm
phases:
  - name: ramp
    duration: 6s
    join_rate: {from: 2, to: 20}
  - name: hold
    duration: 3s
    join_rate: 0
EOF

ip netns exec "$ns" "$sg" run --dp "$dp" --agents "$n" --topology ring --rate 200 --cores 0 \
  --profile "$dir/storm.yaml" --target "janus:$url" --target-rate 2 --size 256 --target-timeout 15s \
  --report "$dir/r.json" --clients-csv "$dir/c.csv" > "$dir/run.log" 2>&1 &
pid=$!
wait "$pid"
rc=$?
pid=
if [ "$rc" -eq 0 ]; then ok "the run ended (exit 0)"; else bad "the run: exit $rc"; tail -30 "$dir/run.log" | sed 's/^/  run: /'; fi
echo "$name: starts_per_s $(json "$dir/r.json" "t['starts_per_s']")"
echo "$name: joins_per_s  $(json "$dir/r.json" "t['joins_per_s']")"
# 1, 2: the ramp
got=$(json "$dir/r.json" "'ok' if all(abs(t['starts_per_s'][k] - (3.5 + 3 * k)) <= 2 for k in range(6)) and sum(t['starts_per_s'][6:]) <= 1 else 'no'")
if [ "$got" = ok ]; then ok "starts_per_s follows 2 -> 20 joins/s (3.5 + 3k per second k, within 2), none in the hold"
else bad "starts_per_s off the ramp"; fi
got=$(json "$dir/r.json" "'ok' if sum(t['joins_per_s'][3:6]) >= 2 * sum(t['joins_per_s'][0:3]) and all(sum(t['joins_per_s'][:k + 1]) <= sum(t['starts_per_s'][:k + 1]) for k in range(len(t['joins_per_s']))) else 'no'")
if [ "$got" = ok ]; then ok "joins_per_s rises with it (seconds 3-5 at least twice seconds 0-2; never ahead of the starts)"; else bad "joins_per_s off the ramp"; fi
# 3: accounting
got=$(json "$dir/r.json" "(t['started'] + t['not_started'] == $n, t['started'] == t['sessions_up'] + t['sessions_failed'], sum(t['starts_per_s']) == t['started'], sum(t['joins_per_s']) == t['sessions_up'], abs(t['started'] - 66) <= 2, t['join_ramp'])")
started=$(json "$dir/r.json" "t['started']")
up=$(json "$dir/r.json" "t['sessions_up']")
if [ "$got" = "(True, True, True, True, True, True)" ]; then
  ok "accounting: $started started ($up up, $(json "$dir/r.json" "t['sessions_failed']") failed) + $(json "$dir/r.json" "t['not_started']") not started = $n"
else
  bad "accounting $got: $(json "$dir/r.json" "{k: t[k] for k in ('started', 'not_started', 'sessions_up', 'sessions_failed')}")"
fi
ns_rows=$(tail -n +2 "$dir/c.csv" 2>/dev/null | grep -c ',not_started,')
if [ "$ns_rows" = "$(json "$dir/r.json" "t['not_started']")" ]; then ok "--clients-csv: $ns_rows rows not_started"; else bad "--clients-csv: $ns_rows not_started rows"; fi
# 4: Janus's view
secret=$(cat "$jdir/admin_secret")
left=$(nx curl -s -m 5 -X POST -d "{\"janus\":\"list_sessions\",\"transaction\":\"t1\",\"admin_secret\":\"$secret\"}" http://127.0.0.1:7088/admin |
  python3 -c "import json,sys; print(len(json.load(sys.stdin)['sessions']))" 2>/dev/null)
created=$(grep -c 'Creating new handle' "$jdir/janus.log")
freed=$(grep -c 'Handle and related resources freed' "$jdir/janus.log")
deleted=$(json "$dir/r.json" "t['deleted']")
if [ "$left" = 0 ] && [ "$created" = "$started" ] && [ "$freed" = "$started" ] && [ "$deleted" = "$started" ]; then
  ok "Janus agrees: $created handles created, $freed freed, no session left; $deleted destroyed by us"
else
  bad "Janus: sessions left '$left', handles created $created, freed $freed, deleted '$deleted' (want $started)"
fi
sent=$(json "$dir/r.json" "t['messages']['sent']")
back=$(json "$dir/r.json" "t['messages']['back']")
if [ -n "$sent" ] && [ "$sent" -gt 0 ] && [ "$sent" = "$back" ]; then ok "DataChannel: $sent messages sent, $back echoed"; else bad "DataChannel: sent '$sent', back '$back'"; fi
summary
[ "$failed" -eq 0 ]
