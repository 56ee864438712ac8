#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Peer connections at scale (traffic dc): every mesh edge a WebRTC peer
# connection (ICE, DTLS 1.2, SCTP in DTLS, a DataChannel), both ends in the
# dataplane, on the embedded net_ring ports.
#
# 1. scale: AGENTS agents (default 10,000) in TOPO (default kmesh:k=20,
#    100,000 connections) on every core: connections up, set-up time and
#    rate (per core), set-up latency, then RATE reliable routed messages/s
#    for DURATION: delivery, messages/s, DataChannel messages/s, packets/s,
#    busy ns per message, bytes per agent and per connection.
# 2. steady state: on a smaller swarm (SMALL_AGENTS, SMALL_TOPO), the
#    highest rate with >= 99.99 % delivery and >= 97 % of the target, per
#    core count, then REPS runs at it: medians of messages/s per core and
#    DataChannel messages/s per core.
#   bench/dataplane/webrtc_swarm.sh [BUILD_DIR] [REPS]
#   SKIP_SCALE=1 / SKIP_STEADY=1 leave one part out.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/dataplane/bench_lib.sh
bench_args "$@"
agents=${AGENTS:-10000}
topo=${TOPO:-kmesh:k=20}
rate=${RATE:-50000}
dur=${DURATION:-20s}
small_agents=${SMALL_AGENTS:-400}
small_topo=${SMALL_TOPO:-kmesh:k=8}

bench_machine

fig() { # report.json -> one line of figures (see the printf below)
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c, m, t, mem = r["connections"], r["messages"], r["throughput"], r["memory"]
n = len(r["cores"])
busy_s = sum(k["busy_pct"] / 100 for k in r["cores"]) * r["duration_s"]
dc = r["dc_msgs"]["sent"] / max(r["duration_s"], 1e-9)
print(n, c["total"], c["established"], c["given_up"], c["setup_s"], c["setup_per_s"],
      c["setup_per_s"] / n, c["setup_ms"]["p50"], c["setup_ms"]["p99"],
      m["delivery_rate"], t["msgs_per_s"], dc, t["pps"], busy_s * 1e9 / max(m["delivered"], 1),
      mem["bytes_per_agent"], mem["bytes_per_connection_state"], mem["bytes_total"] / 1048576,
      r["sctp"]["retransmissions"])
PY
}

if [ -z "${SKIP_SCALE:-}" ]; then
  printf "\n1. scale: %s agents, %s, reliable routed 64-byte messages at %s/s for %s\n" "$agents" "$topo" "$rate" "$dur"
  "$bin" run --quiet --agents "$agents" --topology "$topo" --traffic "dc:rate=$rate" --duration "$dur" \
    --setup-timeout 60m --drain 10s --report "$out/scale.json" >/dev/null || true
  read -r n total up gave setup_s cps cps_core p50 p99 deliv msgs dc pps ns bpa bpc mib rtx < <(fig "$out/scale.json")
  printf "cores %s: %s/%s connections up (%.3f %%), %s given up, in %.1f s: %.0f conn/s (%.0f per core), set-up p50 %.0f ms p99 %.0f ms\n" \
    "$n" "$up" "$total" "$(python3 -c "print(100 * $up / $total)")" "$gave" "$setup_s" "$cps" "$cps_core" "$p50" "$p99"
  printf "delivery %.5f %%, %.0f msg/s, %.0f DataChannel msg/s, %.0f pkt/s, %.0f busy ns per message, %s SCTP retransmissions\n" \
    "$(python3 -c "print(100 * $deliv)")" "$msgs" "$dc" "$pps" "$ns" "$rtx"
  printf "memory: %.1f MiB in all, %.0f bytes per agent, %.0f bytes of connection state per connection\n" "$mib" "$bpa" "$bpc"
fi

if [ -z "${SKIP_STEADY:-}" ]; then
  probe() { # cores rate file
    "$bin" run --quiet --agents "$small_agents" --topology "$small_topo" --cores "$1" \
      --traffic "dc:rate=$2" --duration 5s --report "$3" >/dev/null
  }
  sustained() { # rate: >= 99.99 % delivered and >= 97 % of it achieved on $cores
    probe "$cores" "$1" "$out/probe.json" || return 1
    local deliv got
    read -r _ _ _ _ _ _ _ _ _ deliv got _ _ _ _ _ _ _ < <(fig "$out/probe.json")
    [ "$(python3 -c "print(int($deliv >= 0.9999 and $got >= 0.97 * $1))")" = 1 ]
  }
  at_best() { # i: run i at $best on $cores -> "msgs_per_s dc_msgs_per_s pps ns_per_msg"
    probe "$cores" "$best" "$out/r$1.json"
    local got dc pps ns
    read -r _ _ _ _ _ _ _ _ _ _ got dc pps ns _ _ _ _ < <(fig "$out/r$1.json")
    echo "$got $dc $pps $ns"
  }
  printf "\n2. steady state: %s agents, %s, reliable routed 64-byte messages, 5 s per run\n" "$small_agents" "$small_topo"
  printf "%-6s %12s %12s %15s %16s %12s %10s\n" cores nodrop_rate msgs_per_s msgs_per_s/core dc_msgs_per_s/core pps ns/msg
  for cores in 0 0,1; do
    ncores=$(echo "$cores" | tr ',' '\n' | wc -l)
    bench_ladder sustained 20000 50000 75000 100000 125000 150000 200000 250000 300000 400000 500000 600000 800000
    best=$bench_best
    if [ "$best" = 0 ]; then
      echo "$cores: no rate sustained"
      continue
    fi
    bench_medians "$reps" at_best > "$out/med"
    read -r m d p ns < "$out/med"
    printf "%-6s %12d %12.0f %15.0f %16.0f %12.0f %10.0f\n" "$cores" "$best" "$m" \
      "$(python3 -c "print($m / $ncores)")" "$(python3 -c "print($d / $ncores)")" "$p" "$ns"
  done
fi
