#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Kernel bypass against user-space stacks: `swarmgen compare` on the dpdk,
# uring and usrsctp backends, the same workload pinned to the same cores,
# warm-up excluded, REPS interleaved repetitions each. Prints the machine,
# the command and compare's table; the JSON rows go to $OUT (default
# /tmp/swarmgen-backends.json).
#   bench/dataplane/backends.sh [BUILD_DIR] [REPS]
#   AGENTS (1000), TOPO (kmesh:k=8), RATE (20000), DURATION (10s), WARMUP (2s),
#   CORES (every CPU) override the workload.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-release}
reps=${2:-3}
out=${OUT:-/tmp/swarmgen-backends.json}
args=(--agents "${AGENTS:-1000}" --topology "${TOPO:-kmesh:k=8}" --traffic "dc:rate=${RATE:-20000}"
  --duration "${DURATION:-10s}" --warmup "${WARMUP:-2s}" --reps "$reps" --json "$out")
[ -n "${CORES:-}" ] && args+=(--cores "$CORES")
printf "machine: %s, %s cores, %s, %s GiB, load average %s\n" "$(uname -r)" "$(nproc)" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" \
  "$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)" "$(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: $build/tools/swarmgen compare ${args[*]}"
"$build/tools/swarmgen" compare "${args[@]}"
