#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two sctp_bench binaries side by side on one machine at the same moment:
# PAIRS runs of each, alternating and taking turns to go first (on a shared
# machine the first of a pair tends to win), one round of MESSAGES per run;
# prints every run's ns per message for 100 B and 1 KiB messages, the
# median of each build and new/old (below 1: new is faster). usrsctp runs
# in both binaries too: its medians show how much the machine drifted.
# For "did this change move the per-packet path": same machine, same
# minute, release builds. The environment passes through: on a busy
# shared machine SCTP_BENCH_CLOCK=cpu SCTP_BENCH_OURS=1 times our engine
# alone in CPU time (both binaries must know these variables).
#   bench/sctp/ab.sh OLD_SCTP_BENCH NEW_SCTP_BENCH [PAIRS=9] [MESSAGES=100000]
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: bench/sctp/ab.sh OLD_SCTP_BENCH NEW_SCTP_BENCH [PAIRS] [MESSAGES]" >&2; exit 2; }
old=$1 new=$2 pairs=${3:-9} msgs=${4:-100000}
for b in "$old" "$new"; do
  [ -x "$b" ] || { echo "ab.sh: $b is not an executable" >&2; exit 2; }
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# run BIN TAG: one round; appends "size ours_ns usrsctp_ns" lines to $out/TAG
run() {
  "$1" 1 "$msgs" | awk '$1 == "100" || $1 == "1024" { print $1, $3, $5 }' >> "$out/$2"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for i in $(seq "$pairs"); do
  if [ $((i % 2)) = 1 ]; then run "$old" old; run "$new" new; else run "$new" new; run "$old" old; fi
done
printf "sctp_bench, %s pairs of one round of %s messages, ns per message (lower is better)\n" "$pairs" "$msgs"
printf "old: %s\nnew: %s\n" "$old" "$new"
printf "%-6s %-6s %-60s %10s %14s\n" size build "ours ns (runs)" "median" "usrsctp median"
for size in 100 1024; do
  for tag in old new; do
    runs=$(awk -v s="$size" '$1 == s { printf "%.0f ", $2 }' "$out/$tag")
    m=$(awk -v s="$size" '$1 == s { print $2 }' "$out/$tag" | median)
    u=$(awk -v s="$size" '$1 == s { print $3 }' "$out/$tag" | median)
    printf "%-6s %-6s %-60s %10.1f %14.1f\n" "$size" "$tag" "$runs" "$m" "$u"
    eval "m_$tag=$m"
  done
  printf "%-6s new/old %.3f\n" "$size" "$(echo "$m_new $m_old" | awk '{ print $1 / $2 }')"
done
