#!/bin/bash
# SPDX-License-Identifier: MIT
# Target mode's dataplane through the external port: tools/external-port
# makes the veth in a network namespace of the test's own, target_dp runs
# swarmgen-dp there with TARGET slots it fills itself and plays the server
# on a kernel UDP socket at the veth's kernel end. Root (a veth pair);
# about ten seconds.
#   target_dp.sh TARGET_DP SWARMGEN_DP TOOLS_EXTERNAL_PORT
set -uo pipefail
bin=$1
dp=$2
extport=$3
name=interop_target_dp
[ "$(id -u)" -eq 0 ] || { echo "$name: skipped: needs root (a veth pair)"; exit 77; }
command -v ip >/dev/null || { echo "$name: skipped: no ip command"; exit 77; }
ns=sgtgt$$
cleanup() { "$extport" down --netns "$ns" >/dev/null 2>&1; ip netns del "$ns" >/dev/null 2>&1; }
trap cleanup EXIT
"$extport" up --netns "$ns" >/dev/null || { echo "$name: tools/external-port up failed"; exit 1; }
ip netns exec "$ns" timeout -k 5 60 "$bin" "$dp"
rc=$?
[ "$rc" -eq 0 ] && echo "$name: passed" || echo "$name: FAIL (exit $rc)"
exit "$rc"
