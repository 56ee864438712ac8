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
# delivery, the no-drop rate and busy cycles per delivered message. Each
# step is ONE run (a million connections take minutes to set up): after
# the connect phase a stepped load profile climbs the rates of the ladder,
# DURATION each; the no-drop rate is the highest phase of that climb up to
# which >= 99.99 % of the messages sent were delivered (counted from the
# start, less those still in flight as the phase ended: its rate times
# its p99 latency when that is under 50 ms) and that achieved >= 95 % of
# its rate, every phase below it too (the report's profile.phases: sent,
# delivered and msg/s per phase); dc/s/core is that rate in DataChannel
# messages a second per core (times the average hops, over the cores), the
# figure the steps compare by. Prints figures; not a test.
#   bench/dataplane/million.sh [BUILD_DIR]            (default build-release)
#   SKIP_1M=1 leaves the 1,000,000 step out (10 minutes and more);
#   STEPS="160 10000 100000" agents per step; DURATION=5s per phase;
#   LADDER="40000 80000 120000 150000 165000 180000 195000 210000 230000 250000 300000 400000 500000 600000 650000 700000 750000 800000 850000 900000 1000000"
#   msg/s, all cores together (finer where a million and 1,600 connections
#   top out on a 2-core host: the top rung must fail for a figure to be
#   exact);
#   HEARTBEAT=off (or 2m, ...) passes --sctp-heartbeat to every run (default:
#   swarmgen's, 30 s): what the idle connections' heartbeats cost.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/dataplane/bench_lib.sh
bench_args "${1:-build-release}" 1
dur=${DURATION:-5s}
steps=${STEPS:-"160 10000 100000"}
ladder=${LADDER:-"40000 80000 120000 150000 165000 180000 195000 210000 230000 250000 300000 400000 500000 600000 650000 700000 750000 800000 850000 900000 1000000"}
topo=kmesh:k=20
hb_args=()
[ -n "${HEARTBEAT:-}" ] && hb_args=(--sctp-heartbeat "$HEARTBEAT")
[ -x /usr/bin/time ] || { echo "million.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

bench_machine
printf "workload: %s, 64-byte routed reliable DataChannel messages, a phase of %s per rate (%s msg/s), SCTP heartbeat %s; no-drop: >= 99.99 %% delivered, >= 95 %% of the rate\n" \
  "$topo" "$dur" "$ladder" "${HEARTBEAT:-30s (default)}"

# The stepped profile: one phase per rate of the ladder.
prof=$out/ladder.yaml
{
  echo "name: ladder"
  echo "phases:"
  for r in $ladder; do
    printf "  - name: r%s\n    duration: %s\n    rate: %s\n" "$r" "$dur" "$r"
  done
} > "$prof"

printf "%-9s %9s %9s %8s %9s %10s %10s %10s %9s %10s %9s %12s %5s %11s %9s\n" agents conns up setup_s conn/s \
  plan_MiB meas_MiB rss_MiB B/conn B/agent deliv_% nodrop_msg/s hops dc/s/core cyc/msg
for a in $steps; do
  if [ "$a" -ge 100000 ] && [ -n "${SKIP_1M:-}" ]; then
    continue
  fi
  "$bin" run --dry-run --agents "$a" --topology "$topo" --profile "$prof" --report "$out/plan$a.json" \
    > "$out/plan$a.out" 2>&1 || { printf "%-9s refused: %s\n" "$a" "$(tail -1 "$out/plan$a.out")"; continue; }
  /usr/bin/time -v -o "$out/a$a.time" "$bin" run --quiet --agents "$a" --topology "$topo" \
    --traffic dc:size=64,pattern=routed --profile "$prof" "${hb_args[@]}" --report "$out/a$a.json" \
    > "$out/a$a.out" 2>&1 || true
  python3 - "$out/plan$a.json" "$out/a$a.json" "$out/a$a.time" "$a" <<'PY'
import json, re, sys
plan = json.load(open(sys.argv[1]))["memory"]["planned"]
r = json.load(open(sys.argv[2]))
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(sys.argv[3]).read()).group(1))
c, m, mem = r["connections"], r["messages"], r["memory"]
# the climb goes on while the messages sent so far and not delivered are
# at most 0.01 % of them plus those still in flight when the phase ended
# (its rate times its p99 latency, when that is under 50 ms: a phase's
# last messages arrive in the next one), and the phase achieved 95 % of
# its rate
best = sent = delivered = 0
for ph in r["profile"]["phases"]:
    rate = ph["rate_from"]
    sent += ph["sent"]
    delivered += ph["delivered"]
    p99_s = ph["latency_us"]["p99"] / 1e6
    in_flight = rate * p99_s if p99_s < 0.05 else 0
    if not ph["sent"] or sent - delivered > 0.0001 * sent + in_flight or ph["msgs_per_s"] < 0.95 * rate:
        break
    best = rate
# DataChannel messages a second per core at the no-drop rate: each routed
# message is one DataChannel message per hop
dc_core = best * m["avg_hops"] / len(r["cores"])
print("%-9s %9d %9d %8.1f %9.0f %10.1f %10.1f %10.1f %9.0f %10.0f %9.4f %12.0f %5.2f %11.0f %9.0f" % (
    sys.argv[4], c["total"], c["established"], c["setup_s"], c["setup_per_s"], plan["bytes_total"] / 2**20,
    mem["bytes_total"] / 2**20, rss_kb / 1024, mem["bytes_per_connection"], mem["bytes_per_agent"],
    100 * m["delivery_rate"], best, m["avg_hops"], dc_core, r["cpu"]["busy_cycles_per_msg"]))
for ph in r["profile"]["phases"]:
    print("          phase %-8s sent %9d delivered %9d (%.4f %%) %9.0f msg/s p99 %.0f us" % (
        ph["name"], ph["sent"], ph["delivered"], 100.0 * ph["delivered"] / max(ph["sent"], 1), ph["msgs_per_s"],
        ph["latency_us"]["p99"]))
PY
done
