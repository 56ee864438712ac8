#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TURN allocations/s and relayed packets/s against coturn on this machine:
# swarmgen's TURN client (bench/turn/turn_bench, one thread) beside coturn's
# own turnutils_uclient, against the same server build and settings, taking
# turns in one run. A fresh turnserver on loopback for every measurement
# (allocations left by one must not collide with the next's ports).
#   bench/turn/turn_bench.sh [BUILD_DIR] [REPS]
# Prints the machine, each run's line and the medians. See docs/turn.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/dataplane/bench_lib.sh
bench_args "${1:-build}" "${2:-3}"
tb=$build/bench/turn/turn_bench
[ -x "$tb" ] || { echo "turn_bench: build $tb first (ninja -C $build)" >&2; exit 2; }
command -v turnserver >/dev/null || { echo "turn_bench: turnserver missing (apt-get install coturn)" >&2; exit 2; }

CLIENTS=${TURN_BENCH_CLIENTS:-1000} # allocations at once
PAIRS=${TURN_BENCH_PAIRS:-25}       # relay: client pairs (turnutils_uclient -y -m 2*PAIRS)
LEN=${TURN_BENCH_LEN:-1200}         # relay: payload bytes
SECS=${TURN_BENCH_SECONDS:-5}       # relay: seconds of ours
MSGS=${TURN_BENCH_MSGS:-2000}       # relay: turnutils_uclient messages per client (-n)

port=34900
start_server() {
  port=$((port + 1))
  turnserver -n --listening-ip=127.0.0.1 --listening-port=$port --relay-ip=127.0.0.1 \
    --min-port=42000 --max-port=59999 --lt-cred-mech --user=bench:bench-pass --realm=bench.test \
    --allow-loopback-peers --no-tls --no-dtls --no-cli --no-stdout-log --log-file="$out/turn.log" \
    --pidfile="$out/turn.pid" --userdb="$out/turndb.$port" --total-quota=0 --user-quota=0 \
    >/dev/null 2>&1 &
  srv=$!
  sleep 1
}
stop_server() {
  kill "$srv" 2>/dev/null || true
  wait "$srv" 2>/dev/null || true
}
trap 'stop_server; rm -rf "$out"' EXIT

bench_machine
echo "turnserver: $(dpkg-query -W -f='${Version}' coturn 2>/dev/null), loopback, one relay thread per core"
for i in $(seq 1 "$reps"); do
  start_server
  "$tb" alloc $port bench bench-pass "$CLIENTS" | tee -a "$out/alloc"
  stop_server
  # the same over TCP (a kernel TCP connection per client, the engine's
  # stream mode); turnutils_uclient -t has no allocation-rate mode either
  start_server
  "$tb" alloc-tcp $port bench bench-pass "$CLIENTS" | tee -a "$out/alloc_tcp"
  stop_server
  start_server
  "$tb" relay $port bench bench-pass "$PAIRS" "$LEN" "$SECS" | tee -a "$out/relay"
  stop_server
  # turnutils_uclient: 2*PAIRS clients, client to client, MSGS messages of
  # LEN bytes each, no pause between them (-z 0); its packets/s is the
  # messages it received over the "Total transmit time" it reports (whole
  # seconds, including its wait for the last answers)
  start_server
  turnutils_uclient -y -u bench -w bench-pass -p $port -m $((2 * PAIRS)) -n "$MSGS" -l "$LEN" -z 0 \
    -e 127.0.0.1 127.0.0.1 >"$out/uc" 2>&1 || true
  stop_server
  recv=$(grep -o 'tot_recv_msgs=[0-9]*' "$out/uc" | tail -1 | cut -d= -f2)
  sent=$(grep -o 'tot_send_msgs=[0-9]*' "$out/uc" | tail -1 | cut -d= -f2)
  el=$(grep -o 'Total transmit time is [0-9]*' "$out/uc" | awk '{print $5}')
  awk -v r="${recv:-0}" -v s="${sent:-0}" -v e="${el:-0}" -v l="$LEN" -v m=$((2 * PAIRS)) \
    'BEGIN {if (e < 1) e = 1; printf "mode=uclient clients=%d len=%d seconds=%d sent=%d relayed=%d relayed_pps=%.0f relayed_mbit_s=%.1f lost_pct=%.2f\n", m, l, e, s, r, r / e, r * l * 8 / e / 1e6, s ? 100 * (s - r) / s : 0}' |
    tee -a "$out/uc_lines"
done
med() { grep -o "$2=[0-9.]*" "$out/$1" | cut -d= -f2 | median; }
echo "median: allocations/s (ours, $CLIENTS at once) $(med alloc allocs_per_s)," \
  "set-up p50 $(med alloc setup_p50_ms) ms; over TCP $(med alloc_tcp allocs_per_s)," \
  "set-up p50 $(med alloc_tcp setup_p50_ms) ms (the TCP handshake included)"
echo "median: relayed packets/s ours $(med relay relayed_pps) ($(med relay relayed_mbit_s) Mbit/s)," \
  "turnutils_uclient $(med uc_lines relayed_pps) ($(med uc_lines relayed_mbit_s) Mbit/s), $LEN-byte payloads"
