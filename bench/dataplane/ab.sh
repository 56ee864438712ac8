#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two builds side by side on one machine at the same moment: each workload
# offered above what one core carries, runs of the two builds alternating
# and taking turns to go first (on a shared machine the first of a pair
# tends to win), the median delivered msg/s of each build and their ratio.
# For "did this change move the figures": same machine, same minute.
#   bench/dataplane/ab.sh OLD_BUILD NEW_BUILD [REPS]
#   KINDS="a b d" picks workloads (default all); DURATION=5s per run.
#   a: 1,200-byte DataChannel messages to neighbours (offered 1.5 M msg/s)
#   b: 64-byte routed DataChannel messages (offered 800,000 msg/s)
#   d: plain UDP frames, 64-byte messages to neighbours (offered 40 M/s)
# 400 agents in kmesh:k=8 (1,601 connections), core 0, embedded ports,
# release builds. Prints figures; not a test.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/dataplane/bench_lib.sh
[ $# -ge 2 ] || { echo "usage: bench/dataplane/ab.sh OLD_BUILD NEW_BUILD [REPS]" >&2; exit 2; }
old=$1 new=$2
for b in "$old" "$new"; do
  [ -x "$b/tools/swarmgen" ] || { echo "ab.sh: no $b/tools/swarmgen" >&2; exit 2; }
done
bench_args "$new" "${3:-3}"
dur=${DURATION:-5s}

# rate BUILD KIND: one run, prints its delivered msg/s (0 when it failed)
rate() {
  local f=$out/r.json
  local common=(run --quiet --agents 400 --topology kmesh:k=8 --cores 0 --duration "$dur" --report "$f")
  rm -f "$f"
  case $2 in
    a) "$1/tools/swarmgen" "${common[@]}" --traffic "dc:size=1200,pattern=neighbors,rate=1500000" ;;
    b) "$1/tools/swarmgen" "${common[@]}" --traffic "dc:size=64,pattern=routed,rate=800000" ;;
    d) "$1/tools/swarmgen" "${common[@]}" --traffic udp --pattern neighbors --size 64 --rate 40000000 ;;
  esac > /dev/null 2>&1 || true
  python3 -c 'import json, sys
try: print("%.0f" % json.load(open(sys.argv[1]))["throughput"]["msgs_per_s"])
except Exception: print(0)' "$f"
}

bench_machine
printf "old: %s (%s)\nnew: %s (%s)\n" "$old" "$(git -C "$old/.." rev-parse --short HEAD 2>/dev/null || echo ?)" \
  "$new" "$(git -C "$new/.." rev-parse --short HEAD 2>/dev/null || echo ?)"
printf "%-6s %-44s %-44s %s\n" kind "old msg/s (runs; median)" "new msg/s (runs; median)" new/old
for kind in ${KINDS:-a b d}; do
  o=() n=()
  for i in $(seq "$reps"); do
    if [ $((i % 2)) = 1 ]; then
      o+=("$(rate "$old" "$kind")"); n+=("$(rate "$new" "$kind")")
    else
      n+=("$(rate "$new" "$kind")"); o+=("$(rate "$old" "$kind")")
    fi
  done
  mo=$(printf "%s\n" "${o[@]}" | median)
  mn=$(printf "%s\n" "${n[@]}" | median)
  printf "%-6s %-44s %-44s %.3f\n" "$kind" "${o[*]}; $mo" "${n[*]}; $mn" "$(echo "$mn $mo" | awk '{print ($2 > 0) ? $1 / $2 : 0}')"
done
