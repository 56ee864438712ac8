#!/bin/bash
# SPDX-License-Identifier: MIT
# Target mode against servers that misbehave (bad_server.py on loopback):
# one answering 500, one answering 201 with a body that is not SDP, one
# answering SDP without a fingerprint, one that never answers. Each run
# of 6 sessions must end on time with every session counted as failed in
# stage signal under its cause (http_5xx, sdp, sdp, timeout), the per-client
# CSV saying so per agent, and nothing left behind.
#   target_bad_servers.sh SWARMGEN SWARMGEN_DP SOURCE_DIR
# Exit 77 (skipped) without root or python3.
set -uo pipefail
sg=$1
dp=$2
src=$3
name=target_bad_servers
skip() { echo "$name: skipped: $1"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (a veth pair in a network namespace)"
command -v python3 >/dev/null || skip "python3 is not installed"

ns=sgtb$$
nx() { ip netns exec "$ns" "$@"; }
dir=$(mktemp -d "/tmp/swarmgen-$name-XXXXXX")
spid=
cleanup() {
  [ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
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
nx ip link add tba type veth peer name tbb
for i in tba tbb; do
  nx sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1"
  nx ip link set "$i" up
done

pids=
for mode in 500:http_5xx garbage:sdp nosdp:sdp silent:timeout; do
  m=${mode%%:*}
  cause=${mode#*:}
  port=$(nx python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  ip netns exec "$ns" python3 "$src/bad_server.py" "$port" "$m" "$dir/$m" &
  spid=$!
  for _ in $(seq 50); do nx bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && break; sleep 0.1; done
  t0=$(date +%s)
  ip netns exec "$ns" "$sg" run --dp "$dp" --agents 8 --topology ring --rate 100 --duration 2s --cores 0 \
    --external-port net_af_packet0,iface=tba --target "whip:http://127.0.0.1:$port/whip" --target-agents 6 \
    --target-timeout 2s --report "$dir/$m.json" --clients-csv "$dir/$m.csv" > "$dir/$m.log" 2>&1 &
  pid=$!
  pids="$pids $pid"
  wait "$pid"
  rc=$?
  t1=$(date +%s)
  kill "$spid"; wait "$spid" 2>/dev/null; spid=
  got=$(json "$dir/$m.json" "(r['target']['stages']['signal']['failed'], r['target']['stages']['signal']['causes']['$cause'], r['target']['sessions_up'])")
  rows=$(tail -n +2 "$dir/$m.csv" 2>/dev/null | cut -d, -f5 | sort | uniq -c | tr -s ' ' | tr '\n' ';')
  if [ "$got" = "(6, 6, 0)" ] && [ "$rows" = " 6 $cause;" ]; then
    ok "$m: 6 sessions failed in signal, cause $cause, per agent in the CSV (exit $rc, $((t1 - t0)) s)"
  else
    bad "$m: (failed, $cause, up) = $got, CSV causes '$rows', exit $rc"; tail -20 "$dir/$m.log" | sed 's/^/  swarm: /'
  fi
  if [ $((t1 - t0)) -le 40 ]; then ok "$m: the run ended on time ($((t1 - t0)) s)"; else bad "$m: the run took $((t1 - t0)) s"; fi
done
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
