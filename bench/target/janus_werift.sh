#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The werift half of the Janus benchmark: how fast werift clients (a
# TypeScript WebRTC stack, one Node process) join Janus's EchoTest, and
# whether the sessions hold. CLIENTS clients start at once (create session,
# attach, non-trickle offer with audio and a DataChannel, answer from the
# long poll, DataChannel open); they are held HOLD seconds and each must
# still echo a message at the end. A fresh lab per run (tools/external-port
# and tools/janus-lab in a namespace of this script's own; werift and Janus
# on 198.19.255.254 in that namespace, so the path is the kernel's
# loopback). REPS runs; each run's line, the medians, and one
# machine-readable line `janus_werift: {json}`. swarmgen's target mode is
# the other half, against the same lab. See docs/janus.md.
#   bench/target/janus_werift.sh [CLIENTS] [HOLD] [REPS]
# Environment: JANUS_OFFER_SETUP=active (werift offers a=setup:active and
# is the DTLS client; default actpass, Janus answers active). Needs root,
# janus, node and npm (tools/install-deps test).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
clients=${1:-50}
hold=${2:-10}
reps=${3:-3}
[[ "$clients" =~ ^[1-9][0-9]*$ ]] || { echo "janus_werift: CLIENTS must be a positive number" >&2; exit 2; }
[[ "$hold" =~ ^[0-9]+$ ]] || { echo "janus_werift: HOLD must be seconds" >&2; exit 2; }
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || { echo "janus_werift: REPS must be a positive number" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "janus_werift: needs root (tools/external-port, ip netns exec)" >&2; exit 2; }
command -v janus >/dev/null || { echo "janus_werift: janus is not installed (tools/install-deps test)" >&2; exit 2; }

# werift from the npm registry, once, where the interop tests keep it
name=janus_werift
require=SWARMGEN_REQUIRE_WERIFT
src=$root/tests/interop
. "$src/interop_lib.sh"
werift_install janus_lib.mjs >/dev/null || { echo "janus_werift: cannot install werift" >&2; exit 2; }
cp "$root/bench/target/janus_werift.mjs" "$werift_cache/"
. bench/dataplane/bench_lib.sh

ns=sgjb$$
out=$(mktemp -d)
jdir=$out/janus
cleanup() {
  tools/janus-lab down --netns "$ns" --dir "$jdir" >/dev/null 2>&1 || true
  tools/external-port down --netns "$ns" >/dev/null 2>&1 || true
  rm -rf "$out"
}
trap cleanup EXIT

bench_machine
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine's figures move with it)"
echo "janus: $(dpkg-query -W -f='${Version}' janus 2>/dev/null), werift $werift_version on node $(node --version), $clients clients at once, hold ${hold} s, offer setup:${JANUS_OFFER_SETUP:-actpass}"
tools/external-port up --netns "$ns" >/dev/null
for i in $(seq "$reps"); do
  tools/janus-lab up --netns "$ns" --dir "$jdir" >/dev/null
  timeout $((180 + hold)) ip netns exec "$ns" node "$werift_cache/janus_werift.mjs" "$(cat "$jdir/url")" 198.19.255.254 \
    "$clients" "$hold" "$(cat "$jdir/admin_url")" "$(cat "$jdir/admin_secret")" "$i" 2> "$out/err" > "$out/run"
  # Janus's CPU time over the run (user + system, from /proc)
  jcpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$(cat "$jdir/janus.pid")/stat")
  sed "s/\$/ janus_cpu_s=$jcpu/" "$out/run" | tee -a "$out/runs"
  [ -s "$out/err" ] && sed 's/^/  /' "$out/err"
  tools/janus-lab down --netns "$ns" --dir "$jdir" >/dev/null
done
med() { grep -o " $1=[0-9.-]*" "$out/runs" | cut -d= -f2 | median; }
[ "$(wc -l < "$out/runs")" -eq "$reps" ] || { echo "janus_werift: $(wc -l < "$out/runs") of $reps runs gave figures" >&2; exit 1; }
echo "median of $reps: joins/s $(med joins_per_s) ($(med joined) of $clients joined in $(med join_wall_ms) ms)," \
  "join p50 $(med join_p50_ms) ms, p95 $(med join_p95_ms) ms, Janus sessions $(med janus_sessions), held $(med held) for $hold s;" \
  "CPU seconds a run: werift $(med werift_cpu_s), Janus $(med janus_cpu_s); load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'janus_werift: {"client":"werift","werift":"%s","janus":"%s","clients":%s,"hold_s":%s,"runs":%s,"setup":"%s","joins_per_s":%s,"joined":%s,"join_p50_ms":%s,"join_p95_ms":%s,"janus_sessions":%s,"held":%s,"werift_cpu_s":%s,"janus_cpu_s":%s}\n' \
  "$werift_version" "$(dpkg-query -W -f='${Version}' janus 2>/dev/null)" "$clients" "$hold" "$reps" "${JANUS_OFFER_SETUP:-actpass}" \
  "$(med joins_per_s)" "$(med joined)" "$(med join_p50_ms)" "$(med join_p95_ms)" "$(med janus_sessions)" "$(med held)" "$(med werift_cpu_s)" "$(med janus_cpu_s)"
