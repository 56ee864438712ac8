#!/bin/bash
# SPDX-License-Identifier: MIT
# --target-token with janus: Janus's api_secret. tools/janus-lab starts
# Janus with api_secret set (SWARMGEN_JANUS_API_SECRET); swarmgen sends
# the token as "apisecret" in every request (and in the long poll's
# query). Checked:
#   1. the right secret: all 8 sessions up, every message echoed, every
#      session destroyed; Janus's log created and freed 8 handles;
#   2. a wrong secret, and no secret: every session failed in signal under
#      cause `denied`, the CSV saying Janus's error 403 and its reason; no
#      handle created on Janus (its log), no session left (admin API).
#   target_janus_secret.sh SWARMGEN SWARMGEN_DP EXTERNAL_PORT_SCRIPT JANUS_LAB_SCRIPT
# Exit 77 (skipped) without root, or without janus unless
# SWARMGEN_REQUIRE_JANUS is set.
set -uo pipefail
sg=$1
dp=$2
extport=$3
lab=$4
n=8
name=target_janus_secret
. "$(dirname "$0")/target_lib.sh"
need_janus_lab

ns=sgjs$$
dir=$(mktemp -d "/tmp/swarmgen-$name-XXXXXX")
jdir=$dir/janus
pid=
cleanup() {
  [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  lab_down
  rm -rf "$dir"
}
trap cleanup EXIT
json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); t=r['target']; print($2)" "$1" 2>/dev/null; }

secret="lab-Secret+9/x="
"$extport" up --netns "$ns" >/dev/null || { bad "tools/external-port up failed"; summary; exit 1; }
SWARMGEN_JANUS_API_SECRET=$secret "$lab" up --netns "$ns" --dir "$jdir" >/dev/null ||
  { bad "janus-lab up failed"; tail -20 "$jdir/janus.log" 2>/dev/null; summary; exit 1; }
url=$(cat "$jdir/url")
run() { # TAG FLAGS...
  local tag=$1
  shift
  ip netns exec "$ns" "$sg" run --dp "$dp" --agents "$n" --topology ring --rate 100 --duration 4s --cores 0 \
    --target "janus:$url" --target-rate 5 --size 200 --report "$dir/$tag.json" --clients-csv "$dir/$tag.csv" \
    "$@" > "$dir/$tag.log" 2>&1 &
  pid=$!
  wait "$pid"
  local rc=$?
  pid=
  return $rc
}
handles() { grep -c 'Creating new handle' "$jdir/janus.log"; }

# 1. the right secret
run right --target-token "$secret"
rc=$?
got=$(json "$dir/right.json" "(t['sessions_up'], t['messages']['sent'] == t['messages']['back'] > 0, t['deleted'])")
created=$(handles)
freed=$(grep -c 'Handle and related resources freed' "$jdir/janus.log")
if [ "$rc" -eq 0 ] && [ "$got" = "($n, True, $n)" ] && [ "$created" = "$n" ] && [ "$freed" = "$n" ]; then
  ok "right secret: $n sessions up, $(json "$dir/right.json" "t['messages']['back']") messages echoed, $n destroyed; Janus created and freed $created handles"
else
  bad "right secret: exit $rc, (up, sent == back, deleted) $got, Janus handles created $created freed $freed"; tail -20 "$dir/right.log" | sed 's/^/  run: /'
fi

# the memory plan counted the target sessions as the dataplane allocated them
got=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1]))['memory']; print(m['categories']['target_sessions'], m['planned']['categories']['target_sessions'])" "$dir/right.json" 2>/dev/null)
set -- $got
if [ -n "${1:-}" ] && [ "$1" -gt 0 ] && [ "$1" = "${2:-}" ]; then ok "memory: target sessions $1 bytes planned and allocated"
else bad "memory: target sessions allocated / planned '$got'"; fi

# 2. a wrong secret, no secret
for tag in wrong none; do
  if [ "$tag" = wrong ]; then run wrong --target-token not-the-secret; else run none; fi
  got=$(json "$dir/$tag.json" "(t['stages']['signal']['failed'], t['stages']['signal']['causes']['denied'], t['sessions_up'])")
  csvd=$(python3 -c "import csv,sys; rows=list(csv.DictReader(open(sys.argv[1]))); print(len(rows), sum(1 for r in rows if r['cause'] == 'denied'))" "$dir/$tag.csv" 2>/dev/null)
  if [ "$got" = "($n, $n, 0)" ] && [ "$csvd" = "$n $n" ] && grep -q 'agent 0: Janus create: error 403 ' "$dir/$tag.log"; then
    ok "$tag secret: all $n sessions failed in signal, cause denied ($(grep -o 'agent 0: .*' "$dir/$tag.log" | head -1))"
  else
    bad "$tag secret: (signal failed, denied, up) $got, csv (rows, denied) '$csvd'"; grep -i "target\|signal" "$dir/$tag.log" | tail -8 | sed 's/^/  run: /'
  fi
done
created=$(handles)
left=$(ip netns exec "$ns" curl -s -m 5 -X POST -d "{\"janus\":\"list_sessions\",\"transaction\":\"t1\",\"admin_secret\":\"$(cat "$jdir/admin_secret")\"}" http://127.0.0.1:7088/admin |
  python3 -c "import json,sys; print(len(json.load(sys.stdin)['sessions']))" 2>/dev/null)
if [ "$created" = "$n" ] && [ "$left" = 0 ]; then ok "Janus: no handle created for the denied sessions, no session left"
else bad "Janus: handles created $created (want $n from the first run), sessions left '$left'"; fi
summary
[ "$failed" -eq 0 ]
