#!/bin/bash
# SPDX-License-Identifier: MIT
# tools/external-port up/down in a network namespace of the test's own:
# the pair comes up with its address, only the kernel end's own rp_filter
# is set (loose), the namespace-wide net.ipv4.conf.all/default.rp_filter
# are left as they were (they were set to 0 and never restored: outside a
# namespace that switched reverse-path filtering off host-wide), and down
# removes everything. Root (a veth pair); a few seconds.
#   external_port.sh TOOLS_EXTERNAL_PORT
set -uo pipefail
extport=$1
name=external_port
[ "$(id -u)" -eq 0 ] || { echo "$name: skipped: needs root (a veth pair)"; exit 77; }
command -v ip >/dev/null && command -v sysctl >/dev/null || { echo "$name: skipped: no ip or sysctl"; exit 77; }
ns=sgxrpf$$
fails=0
ok() { echo "$name: ok: $*"; }
bad() { echo "$name: FAIL: $*"; fails=$((fails + 1)); }
cleanup() { "$extport" down --netns "$ns" >/dev/null 2>&1; ip netns del "$ns" >/dev/null 2>&1; }
trap cleanup EXIT
ip netns add "$ns" || { echo "$name: cannot create network namespace $ns"; exit 1; }
nsx() { ip netns exec "$ns" "$@"; }
# strict for every interface, as a hardened host has it
nsx sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1 ||
  { echo "$name: cannot set rp_filter in $ns"; exit 1; }

if "$extport" up --netns "$ns" >/dev/null; then ok "up"; else bad "up failed"; fi
nsx ip -brief addr show sgext1 | grep -q 198.19.255.254/15 && ok "sgext1 has 198.19.255.254/15" ||
  bad "sgext1 without its address"
for k in all default; do
  v=$(nsx sysctl -n net.ipv4.conf.$k.rp_filter)
  [ "$v" = 1 ] && ok "net.ipv4.conf.$k.rp_filter left at 1" ||
    bad "up changed net.ipv4.conf.$k.rp_filter from 1 to $v"
done
v=$(nsx sysctl -n net.ipv4.conf.sgext1.rp_filter)
[ "$v" = 2 ] && ok "sgext1's own rp_filter is 2 (loose)" || bad "sgext1's rp_filter is $v, want 2 (loose)"
# up again is idempotent and changes nothing more
"$extport" up --netns "$ns" >/dev/null || bad "a second up failed"
v=$(nsx sysctl -n net.ipv4.conf.all.rp_filter)
[ "$v" = 1 ] || bad "a second up changed net.ipv4.conf.all.rp_filter to $v"

"$extport" down --netns "$ns" >/dev/null || bad "down failed"
if ip netns list | grep -qw "$ns"; then bad "down left namespace $ns"; else ok "down removed the pair and $ns"; fi
trap - EXIT
cleanup
[ "$fails" -eq 0 ] || { echo "$name: $fails failed"; exit 1; }
echo "$name: passed"
