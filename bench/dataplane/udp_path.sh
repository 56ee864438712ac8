#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Plain UDP path throughput: the highest message rate the dataplane sustains
# with >= 99.99 % delivery (an RFC 2544-style no-drop rate), per core count,
# on the embedded net_ring ports, 10,000 agents (kmesh k=20, routed pattern).
# Then REPS runs at that rate; prints medians of messages/s, messages/s per
# core, packets/s and busy ns per message.
#   bench/dataplane/udp_path.sh [BUILD_DIR] [REPS]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/dataplane/bench_lib.sh
bench_args "$@"
agents=${AGENTS:-10000}
topo=${TOPO:-kmesh:k=20}
dur=${DURATION:-5s}

run() { # cores rate file
  "$bin" run --quiet --traffic udp --agents "$agents" --topology "$topo" --cores "$1" --rate "$2" \
    --duration "$dur" --report "$3" >/dev/null
}

fig() { # file -> "delivery msgs_per_s pps ns_per_msg"
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m, t = r["messages"], r["throughput"]
busy_s = sum(c["busy_pct"] / 100 for c in r["cores"]) * r["duration_s"]
ns = busy_s * 1e9 / max(m["delivered"], 1)
print(m["delivery_rate"], t["msgs_per_s"], t["pps"], ns)
PY
}

sustained() { # rate: >= 99.99 % delivered and >= 97 % of it achieved on $cores
  run "$cores" "$1" "$out/probe.json" || return 1
  local deliv got
  read -r deliv got _ _ < <(fig "$out/probe.json")
  [ "$(python3 -c "print(int($deliv >= 0.9999 and $got >= 0.97 * $1))")" = 1 ]
}

at_best() { # i: run i at $best on $cores -> "msgs_per_s pps ns_per_msg"
  run "$cores" "$best" "$out/r$1.json"
  local got pps ns
  read -r _ got pps ns < <(fig "$out/r$1.json")
  echo "$got $pps $ns"
}

bench_machine
printf "workload: %s agents, %s, routed, 64-byte messages, %s per run\n" "$agents" "$topo" "$dur"
printf "%-6s %12s %12s %14s %12s %10s\n" cores nodrop_rate msgs_per_s msgs_per_s/core pps ns/msg
for cores in 0 0,1; do
  ncores=$(echo "$cores" | tr ',' '\n' | wc -l)
  bench_ladder sustained 100000 200000 400000 600000 800000 1000000 1300000 1600000 2000000 2500000 3000000
  best=$bench_best
  if [ "$best" = 0 ]; then
    echo "$cores: no rate sustained"
    continue
  fi
  bench_medians "$reps" at_best > "$out/med"
  read -r m p n < "$out/med"
  printf "%-6s %12d %12.0f %14.0f %12.0f %10.0f\n" "$cores" "$best" "$m" \
    "$(python3 -c "print($m / $ncores)")" "$p" "$n"
done
