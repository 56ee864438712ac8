# SPDX-License-Identifier: MIT
# Shared by the dataplane benchmark scripts (udp_path.sh, webrtc_swarm.sh,
# throughput.sh), sourced from the repository root: their command line,
# the machine line each prints first, the median, the rising ladder of
# target rates that finds a no-drop rate, and the medians of repeated runs.

# bench_args [BUILD_DIR] [REPS]: the command line every script takes: build
# (default build), reps (default 3), bin (the build's swarmgen), and out, a
# scratch directory removed on exit.
bench_args() {
  build=${1:-build}
  reps=${2:-3}
  bin=$build/tools/swarmgen
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
}

# The machine: kernel, CPUs, CPU model, memory.
bench_machine() {
  printf "machine: %s, %s cores, %s, %s GiB\n" "$(uname -r)" "$(nproc)" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" \
    "$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)"
}

# The median of the numbers on stdin, one a line.
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# bench_ladder TEST RATE...: climbs the rates in order while `TEST RATE`
# succeeds; sets bench_best to the last that did (0: not even the first).
bench_ladder() {
  local test=$1 r
  shift
  bench_best=0
  for r in "$@"; do
    "$test" "$r" || break
    bench_best=$r
  done
}

# bench_medians N RUN...: runs `RUN... I` for I = 1..N, each printing one
# line of numbers, and prints the median of each column on one line. A
# failing run ends the script (set -e) as it would outside.
bench_medians() {
  local n=$1 i c rows
  shift
  rows=$(mktemp)
  for i in $(seq "$n"); do
    "$@" "$i" >> "$rows"
  done
  local cols
  cols=$(head -1 "$rows" | wc -w)
  for c in $(seq "$cols"); do
    awk -v c="$c" '{print $c}' "$rows" | median
  done | paste -sd' '
  rm -f "$rows"
}
