#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Janus benchmark, both halves side by side in one run: how fast
# CLIENTS sessions join Janus's EchoTest (create, attach, non-trickle offer
# with an Opus m-line and a DataChannel, answer from the long poll, ICE,
# DTLS, SCTP, DataChannel open) and whether they hold for HOLD seconds,
# from swarmgen's target mode on one dataplane core (--target janus:,
# --join-rate 0: as fast as the server answers, 64 HTTP exchanges at once)
# and from werift clients in one Node process (bench/target/janus_werift.sh,
# one run each rep). A fresh Janus lab for each (tools/janus-lab in a
# namespace with the external port). REPS alternating pairs; each run's
# line, the medians, the ratio, and one machine-readable line
# `janus_bench: {json}`. Figures in docs/janus.md.
#   bench/target/janus_swarmgen.sh [BUILD_DIR] [CLIENTS] [HOLD] [REPS]
# Needs root, janus, node and npm (tools/install-deps test).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
clients=${2:-100}
hold=${3:-10}
reps=${4:-3}
bin=$build/tools/swarmgen
[ -x "$bin" ] || { echo "janus_bench: $bin not built (meson setup $build && ninja -C $build)" >&2; exit 2; }
[[ "$clients" =~ ^[1-9][0-9]*$ ]] || { echo "janus_bench: CLIENTS must be a positive number" >&2; exit 2; }
[[ "$hold" =~ ^[1-9][0-9]*$ ]] || { echo "janus_bench: HOLD must be seconds (1 or more)" >&2; exit 2; }
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || { echo "janus_bench: REPS must be a positive number" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "janus_bench: needs root (tools/external-port, ip netns exec)" >&2; exit 2; }
command -v janus >/dev/null || { echo "janus_bench: janus is not installed (tools/install-deps test)" >&2; exit 2; }
. bench/dataplane/bench_lib.sh

ns=sgjs$$
out=$(mktemp -d)
jdir=$out/janus
cleanup() {
  tools/janus-lab down --netns "$ns" --dir "$jdir" >/dev/null 2>&1 || true
  tools/external-port down --netns "$ns" >/dev/null 2>&1 || true
  rm -rf "$out"
}
trap cleanup EXIT
json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }

bench_machine
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine's figures move with it)"
echo "janus $(dpkg-query -W -f='${Version}' janus 2>/dev/null), $clients sessions, hold ${hold} s, $reps pairs of runs"
tools/external-port up --netns "$ns" >/dev/null
for i in $(seq "$reps"); do
  tools/janus-lab up --netns "$ns" --dir "$jdir" >/dev/null
  ip netns exec "$ns" "$bin" run --agents "$clients" --topology ring --rate 100 --duration "${hold}s" --cores 0 --quiet \
    --target "janus:$(cat "$jdir/url")" --target-rate 1 --size 256 --media audio --target-timeout 30s \
    --report "$out/r.json" --clients-csv "$out/c.csv" > "$out/sg.log" 2>&1 || { tail -20 "$out/sg.log" >&2; exit 1; }
  jcpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$(cat "$jdir/janus.pid")/stat")
  tools/janus-lab down --netns "$ns" --dir "$jdir" >/dev/null
  held=$(tail -n +2 "$out/c.csv" | awk -F, '$7 == "closed" && $10 == 0 && $9 == 0' | wc -l)
  echo "swarmgen run $i: joins_per_s=$(json "$out/r.json" "r['target']['joins_per_s_mean']")" \
    "joined=$(json "$out/r.json" "r['target']['sessions_up']")" \
    "join_wall_ms=$(json "$out/r.json" "round(r['target']['last_up_s'] * 1000)")" \
    "setup_p50_ms=$(json "$out/r.json" "round(r['target']['setup_ms']['p50'], 1)")" \
    "setup_p95_ms=$(json "$out/r.json" "round(r['target']['setup_ms']['p95'], 1)")" \
    "signal_p50_ms=$(json "$out/r.json" "round(r['target']['stages']['signal']['time_ms']['p50'], 1)")" \
    "held=$held janus_cpu_s=$jcpu" | tee -a "$out/sg"
  bench/target/janus_werift.sh "$clients" "$hold" 1 > "$out/w.log" 2>&1 || { tail -20 "$out/w.log" >&2; exit 1; }
  line=$(grep '^run=' "$out/w.log" | tail -1)
  echo "werift   $line" | tee -a "$out/w"
done
med() { grep -o " $2=[0-9.-]*" "$out/$1" | cut -d= -f2 | median; }
sg_j=$(med sg joins_per_s)
w_j=$(med w joins_per_s)
ratio=$(awk -v a="$sg_j" -v b="$w_j" 'BEGIN {printf "%.1f", (b > 0) ? a / b : 0}')
echo "median of $reps: swarmgen $sg_j joins/s ($(med sg joined) of $clients joined, held $(med sg held) for $hold s," \
  "set-up p50 $(med sg setup_p50_ms) ms), werift $w_j joins/s ($(med w joined) joined, held $(med w held));" \
  "swarmgen/werift ${ratio}x; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'janus_bench: {"janus":"%s","clients":%s,"hold_s":%s,"reps":%s,"swarmgen_joins_per_s":%s,"swarmgen_held":%s,"werift_joins_per_s":%s,"werift_held":%s,"ratio":%s}\n' \
  "$(dpkg-query -W -f='${Version}' janus 2>/dev/null)" "$clients" "$hold" "$reps" "$sg_j" "$(med sg held)" "$w_j" "$(med w held)" "$ratio"
