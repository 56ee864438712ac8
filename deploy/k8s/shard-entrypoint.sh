#!/bin/bash
# SPDX-License-Identifier: MIT
# One shard of a Kubernetes Indexed Job (deploy/k8s/): turns the pod's
# environment into `swarmgen run --shard I/N --barrier HOST:PORT --port SPEC
# --report FILE` followed by this script's own arguments (the run flags,
# identical in every shard), then leaves FILE.done beside the report.
#   JOB_COMPLETION_INDEX   I, the pod's completion index (set by the Job)
#   SWARMGEN_SHARDS        N, the Job's completions
#   SWARMGEN_BARRIER       HOST:PORT of shard 0 (<job>-0.<service>:PORT)
#   SWARMGEN_PORT          the DPDK port spec (net_af_packet0,iface=net1), or
#   SWARMGEN_PORT_PCI_ENV  the name of the variable in which the SR-IOV
#                          device plugin put the VF's PCI address
#                          (PCIDEVICE_<RESOURCE>); one of the two
#   SWARMGEN_REPORT_DIR    the shared volume's mount point
#   SWARMGEN_RUN_ID        the run's directory on it (the Job's uid)
#   SWARMGEN_BIN           swarmgen to run (default: swarmgen on PATH)
# A missing or bad variable is one line on stderr and exit 2, as swarmgen's
# own usage errors. Otherwise the exit status is swarmgen's; FILE.done holds
# it, so that the merge step can tell a finished shard from a running one.
set -eu

fail() {
  echo "shard-entrypoint: $*" >&2
  exit 2
}

need() { # name: the variable's value, or one line and exit 2
  [ -n "${!1:-}" ] || fail "$1 is not set ($2)"
  printf '%s' "${!1}"
}

is_count() { [[ $1 =~ ^(0|[1-9][0-9]{0,3})$ ]]; }

index=$(need JOB_COMPLETION_INDEX "the pod must belong to a Job with completionMode: Indexed")
shards=$(need SWARMGEN_SHARDS "the number of shards, the Job's completions")
barrier=$(need SWARMGEN_BARRIER "shard 0's HOST:PORT, e.g. swarmgen-0.swarmgen:7800")
dir=$(need SWARMGEN_REPORT_DIR "where the shared report volume is mounted")
run=$(need SWARMGEN_RUN_ID "the run's directory under SWARMGEN_REPORT_DIR, the Job's uid")
is_count "$index" || fail "JOB_COMPLETION_INDEX '$index' is not a whole number"
if ! is_count "$shards" || [ "$shards" -lt 2 ]; then
  fail "SWARMGEN_SHARDS '$shards' is not a number of shards >= 2"
fi
[ "$index" -lt "$shards" ] || fail "JOB_COMPLETION_INDEX $index is not below SWARMGEN_SHARDS $shards"
[[ $run =~ ^[A-Za-z0-9._-]+$ ]] || fail "SWARMGEN_RUN_ID '$run' is not a plain directory name"

if [ -n "${SWARMGEN_PORT:-}" ] && [ -n "${SWARMGEN_PORT_PCI_ENV:-}" ]; then
  fail "set SWARMGEN_PORT or SWARMGEN_PORT_PCI_ENV, not both"
elif [ -n "${SWARMGEN_PORT:-}" ]; then
  port=$SWARMGEN_PORT
elif [ -n "${SWARMGEN_PORT_PCI_ENV:-}" ]; then
  [[ $SWARMGEN_PORT_PCI_ENV =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] ||
    fail "SWARMGEN_PORT_PCI_ENV '$SWARMGEN_PORT_PCI_ENV' is not a variable name"
  port=$(need "$SWARMGEN_PORT_PCI_ENV" "the SR-IOV device plugin sets it when the pod requests its resource")
  [[ $port != *,* ]] || fail "$SWARMGEN_PORT_PCI_ENV holds several PCI addresses ($port): request one VF"
else
  fail "SWARMGEN_PORT or SWARMGEN_PORT_PCI_ENV is not set (the DPDK port linking the shards)"
fi

for a in "$@"; do
  case $a in
    --shard | --shard=* | --barrier | --barrier=* | --port | --port=* | --report | --report=*)
      fail "$a is set from the environment; leave it out of the container's args" ;;
  esac
done

mkdir -p "$dir/$run" || fail "cannot create $dir/$run"
report=$dir/$run/shard-$index.json
rm -f "$report.done"

# not exec: the .done file is written after swarmgen exits; SIGTERM (pod
# deletion) is passed on so that swarmgen stops cleanly and still reports
"${SWARMGEN_BIN:-swarmgen}" run --shard "$index/$shards" --barrier "$barrier" --port "$port" \
  --report "$report" "$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true' TERM INT
rc=0
wait "$child" || rc=$?
# a signal interrupts the first wait; the second collects swarmgen's status
if kill -0 "$child" 2>/dev/null; then
  rc=0
  wait "$child" || rc=$?
fi
echo "$rc" > "$report.done.tmp"
mv "$report.done.tmp" "$report.done"
exit "$rc"
