#!/bin/bash
# SPDX-License-Identifier: MIT
# The merge step of deploy/k8s/: waits on the shared report volume for a run
# whose N shards have all finished (SWARMGEN_REPORT_DIR/<run>/shard-I.json.done
# for every I < N, written by shard-entrypoint.sh) and that is not merged
# yet, then runs `swarmgen report --merge` over the shards' reports in shard
# order into merged.json and merged.html beside them.
#   SWARMGEN_SHARDS      N, as in the shards' Job
#   SWARMGEN_REPORT_DIR  the shared volume's mount point
#   SWARMGEN_WAIT_SECONDS  how often to look (default 10)
#   SWARMGEN_BIN         swarmgen to run (default: swarmgen on PATH)
# Several finished, unmerged runs: the newest is merged. A shard that
# finished without writing its report (it failed before the load) fails the
# merge at once, naming it. The Job's activeDeadlineSeconds bounds the wait.
set -eu

fail() {
  echo "merge-reports: $*" >&2
  exit 2
}

shards=${SWARMGEN_SHARDS:-}
dir=${SWARMGEN_REPORT_DIR:-}
every=${SWARMGEN_WAIT_SECONDS:-10}
if ! [[ $shards =~ ^[1-9][0-9]{0,3}$ ]] || [ "$shards" -lt 2 ]; then
  fail "SWARMGEN_SHARDS '$shards' is not a number of shards >= 2"
fi
[ -n "$dir" ] || fail "SWARMGEN_REPORT_DIR is not set (where the shared report volume is mounted)"
[[ $every =~ ^[1-9][0-9]*$ ]] || fail "SWARMGEN_WAIT_SECONDS '$every' is not a whole number of seconds"

finished() { # run directory: true when every shard left its .done file
  local i
  for ((i = 0; i < shards; i++)); do
    [ -f "$1/shard-$i.json.done" ] || return 1
  done
}

waited=0
while :; do
  run=
  for d in "$dir"/*/; do
    d=${d%/}
    if [ -d "$d" ] && [ ! -e "$d/merged.json" ] && finished "$d" &&
      { [ -z "$run" ] || [ "$d" -nt "$run" ]; }; then
      run=$d
    fi
  done
  [ -n "$run" ] && break
  if [ $((waited % 60)) -eq 0 ]; then
    echo "merge-reports: waiting for $shards finished shards in $dir (${waited}s)"
  fi
  sleep "$every"
  waited=$((waited + every))
done

reports=()
for ((i = 0; i < shards; i++)); do
  [ -s "$run/shard-$i.json" ] ||
    fail "shard $i finished (exit $(cat "$run/shard-$i.json.done")) without a report: see its pod's log"
  reports+=("$run/shard-$i.json")
done
echo "merge-reports: merging ${reports[*]}"
"${SWARMGEN_BIN:-swarmgen}" report --merge "${reports[@]}" \
  --report "$run/merged.json" --html "$run/merged.html"
echo "merge-reports: wrote $run/merged.json and $run/merged.html"
