#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Toward one million WebRTC connections on one host: `swarmgen run` at
# 1,600 connections (160 agents), 100,000 (10,000 agents) and 1,000,000
# (100,000 agents), all kmesh:k=20, every connection a real peer connection
# with both ends in the dataplane, carrying 64-byte routed reliable
# DataChannel messages. Per step: the memory the plan predicts
# (--dry-run), set-up time and rate, the memory the run measured and the
# peak RSS of the largest process (control or dataplane, /usr/bin/time -v),
# bytes of connection state per connection and of everything per agent,
# delivery, the no-drop rate (the highest rate of a rising ladder with
# >= 99.99 % delivered and >= 95 % of it achieved: short runs lose part of the first second) and busy cycles per
# delivered message there. Prints figures; not a test.
#   bench/dataplane/million.sh [BUILD_DIR]            (default build-release)
#   SKIP_1M=1 leaves the 1,000,000 step out (it takes 10 minutes and more);
#   STEPS="160 10000 100000" agents per step; DURATION=5s per run;
#   LADDER="2000 5000 10000 20000 50000 100000" msg/s (every step),
#   LADDER_1M="5000 20000" (the 1,000,000 step: each rung sets up again);
#   HEARTBEAT=off (or 2m, ...) passes --sctp-heartbeat to every run (default:
#   swarmgen's, 30 s): what the idle connections' heartbeats cost.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/dataplane/bench_lib.sh
bench_args "${1:-build-release}" 1
dur=${DURATION:-5s}
steps=${STEPS:-"160 10000 100000"}
ladder=${LADDER:-"2000 5000 10000 20000 50000 100000"}
ladder_1m=${LADDER_1M:-"5000 20000"}
topo=kmesh:k=20
hb_args=()
[ -n "${HEARTBEAT:-}" ] && hb_args=(--sctp-heartbeat "$HEARTBEAT")
[ -x /usr/bin/time ] || { echo "million.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

bench_machine
printf "workload: %s, 64-byte routed reliable DataChannel messages, %s per run, SCTP heartbeat %s; no-drop: >= 99.99 %% delivered, >= 95 %% of the rate\n" \
  "$topo" "$dur" "${HEARTBEAT:-30s (default)}"

# run AGENTS RATE NAME: one run; its report in $out/NAME.json, time -v in $out/NAME.time
run() {
  /usr/bin/time -v -o "$out/$3.time" "$bin" run --quiet --agents "$1" --topology "$topo" \
    --traffic "dc:size=64,pattern=routed,rate=$2" --duration "$dur" --setup-timeout 30m \
    "${hb_args[@]}" --report "$out/$3.json" > "$out/$3.out" 2>&1
}

# ok AGENTS RATE: the run at RATE delivered >= 99.99 % and achieved >= 95 % of RATE
ok() {
  run "$1" "$2" "a$1-r$2" || return 1
  python3 - "$out/a$1-r$2.json" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m = r["messages"]
sys.exit(0 if m["delivery_rate"] >= 0.9999 and r["throughput"]["msgs_per_s"] >= 0.95 * float(sys.argv[2]) else 1)
PY
}

printf "%-9s %9s %9s %8s %9s %10s %10s %10s %9s %10s %9s %11s %11s\n" agents conns up setup_s conn/s \
  plan_MiB meas_MiB rss_MiB B/conn B/agent deliv_% nodrop_msg/s cyc/msg
for a in $steps; do
  if [ "$a" -ge 100000 ] && [ -n "${SKIP_1M:-}" ]; then
    continue
  fi
  rungs=$ladder
  [ "$a" -ge 100000 ] && rungs=$ladder_1m
  "$bin" run --dry-run --agents "$a" --topology "$topo" --report "$out/plan$a.json" > "$out/plan$a.out" 2>&1 ||
    { printf "%-9s refused: %s\n" "$a" "$(tail -1 "$out/plan$a.out")"; continue; }
  ok_step() { ok "$a" "$1"; }
  bench_ladder ok_step $rungs
  best=$bench_best
  # the figures of the run at the no-drop rate (else the first rung's)
  rate=$best
  [ "$rate" = 0 ] && rate=${rungs%% *}
  python3 - "$out/plan$a.json" "$out/a$a-r$rate.json" "$out/a$a-r$rate.time" "$a" "$best" "$rate" <<'PY'
import json, re, sys
plan = json.load(open(sys.argv[1]))["memory"]["planned"]
r = json.load(open(sys.argv[2]))
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(sys.argv[3]).read()).group(1))
c, m, mem = r["connections"], r["messages"], r["memory"]
print("%-9s %9d %9d %8.1f %9.0f %10.1f %10.1f %10.1f %9.0f %10.0f %9.4f %11s %11.0f" % (
    sys.argv[4], c["total"], c["established"], c["setup_s"], c["setup_per_s"], plan["bytes_total"] / 2**20,
    mem["bytes_total"] / 2**20, rss_kb / 1024, mem["bytes_per_connection"], mem["bytes_per_agent"],
    100 * m["delivery_rate"], sys.argv[5] if sys.argv[5] != "0" else "< " + sys.argv[6],
    r["cpu"]["busy_cycles_per_msg"]))
PY
done
