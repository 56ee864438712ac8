#!/bin/bash
# SPDX-License-Identifier: MIT
# The Janus lab and a client we did not write: tools/external-port makes
# the veth pair in a namespace of the test's own, tools/janus-lab starts
# Debian's Janus there (HTTP API, EchoTest, full ICE on sgext1 only), and
# werift (janus_echotest.mjs) joins EchoTest over the HTTP API with a
# non-trickle offer: 200 binary DataChannel messages must come back byte
# for byte, one text message comes back as EchoTest's reply, Opus-shaped
# RTP for 3 s must come back (with Janus's SSRC). Once offering
# a=setup:actpass (Janus answers active) and once a=setup:active (Janus
# answers passive). Checked besides: Janus loaded only the HTTP transport
# and the EchoTest and VideoRoom plugins; its answer's only candidate is
# 198.19.255.254 (host); it sent connectivity checks of its own (full
# ICE); the admin API listed the client's handle while it ran and no
# session after the client's destroy; the log shows 2 handles created and
# freed; janus-lab up and down are idempotent and down leaves no process;
# the namespace is removed.
#   janus_echotest.sh SOURCE_DIR EXTERNAL_PORT_SCRIPT JANUS_LAB_SCRIPT
# Exit 77 (skipped) without root, without janus unless
# SWARMGEN_REQUIRE_JANUS is set, without node/npm unless
# SWARMGEN_REQUIRE_WERIFT is set.
set -uo pipefail
src=$1
extport=$2
lab=$3
addr=198.19.255.254
name=janus_echotest
require=SWARMGEN_REQUIRE_WERIFT
. "$src/interop_lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (tools/external-port creates a veth pair)" root
command -v curl >/dev/null || skip "curl is not installed"
command -v janus >/dev/null || { require=SWARMGEN_REQUIRE_JANUS; skip "janus is not installed (tools/install-deps test)"; }
werift_install janus_echotest.mjs
cp "$src/janus_lib.mjs" "$werift_cache/"

ns=sgj$$
nx() { ip netns exec "$ns" "$@"; }
dir=$(mktemp -d "/tmp/swarmgen-$name-XXXXXX")
jdir=$dir/janus
cleanup() {
  "$lab" down --netns "$ns" --dir "$jdir" >/dev/null 2>&1
  "$extport" down --netns "$ns" >/dev/null 2>&1
  rm -rf "$dir"
}
trap cleanup EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "$name: ok: $*"; }
bad() { failed=$((failed + 1)); echo "$name: FAILED: $*"; }
summary() { echo "[====] $name: Tested: $((passed + failed)) | Passing: $passed | Failing: $failed"; }
fact() { # FACTS-LINE-FILE python-expression on f
  python3 -c "import json,sys; f=json.loads(next(l for l in open(sys.argv[1]) if l.startswith('facts: '))[7:]); print($2)" "$1" 2>/dev/null
}
adm() { # admin API: adm REQUEST [PATH] -> the answer
  local secret
  secret=$(cat "$jdir/admin_secret")
  nx curl -s -m 5 -X POST -d "{\"janus\":\"$1\",\"transaction\":\"t$RANDOM\",\"admin_secret\":\"$secret\"}" "http://127.0.0.1:7088/admin${2:+/$2}"
}

"$extport" up --netns "$ns" >/dev/null || { bad "tools/external-port up failed"; summary; exit 1; }
t0=$(date +%s%N)
if out=$("$lab" up --netns "$ns" --dir "$jdir"); then
  ok "janus-lab up in $((($(date +%s%N) - t0) / 1000000)) ms: $out"
else
  bad "janus-lab up failed: $out"
  tail -20 "$jdir/janus.log" 2>/dev/null | sed 's/^/  janus: /'
  summary
  exit 1
fi
pid=$(cat "$jdir/janus.pid")
out=$("$lab" up --netns "$ns" --dir "$jdir")
if [ "$out" = "janus-lab: already up (pid $pid)" ]; then ok "janus-lab up again: $out"; else bad "janus-lab up again: '$out'"; fi
if out=$("$lab" status --netns "$ns" --dir "$jdir"); then ok "janus-lab status: $(echo "$out" | head -1)"; else bad "janus-lab status: $out"; fi
loaded=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(' '.join(sorted(r['plugins'])), '|', ' '.join(sorted(r['transports'])))" "$jdir/info.json")
if [ "$loaded" = "janus.plugin.echotest janus.plugin.videoroom | janus.transport.http" ]; then ok "loaded: $loaded"; else bad "loaded: '$loaded'"; fi

for setup in actpass active; do
  log=$dir/werift-$setup.log
  want=$([ "$setup" = actpass ] && echo active || echo passive)
  if JANUS_OFFER_SETUP=$setup timeout 90 ip netns exec "$ns" node "$werift_cache/janus_echotest.mjs" \
    "$(cat "$jdir/url")" "$addr" 200 3 "$(cat "$jdir/admin_url")" "$(cat "$jdir/admin_secret")" > "$log" 2>&1; then
    ok "offer setup:$setup: $(head -1 "$log")"
  else
    bad "offer setup:$setup: werift failed"
    sed 's/^/  werift: /' "$log" | cut -c1-400
    tail -20 "$jdir/janus.log" | sed 's/^/  janus: /'
    continue
  fi
  got=$(fact "$log" "f['answer_setup']")
  if [ "$got" = "$want" ]; then ok "setup:$setup: Janus answers setup:$got"; else bad "setup:$setup: Janus answers setup:$got, want $want"; fi
  got=$(fact "$log" "' '.join(sorted(set(c.split(' ', 4)[4] for c in f['answer_candidates'])))")
  if [ "$got" = "$addr $(fact "$log" "f['answer_candidates'][0].split()[5]") typ host" ]; then
    ok "setup:$setup: the answer's only candidate: $got (end-of-candidates $(fact "$log" "f['answer_end_of_candidates']"))"
  else
    bad "setup:$setup: the answer's candidates: $(fact "$log" "f['answer_candidates']")"
  fi
  got=$(fact "$log" "f['janus_checks']['n'] > 0 and f['janus_checks']['n'] == f['janus_checks']['ice_controlled']")
  if [ "$got" = True ]; then
    ok "setup:$setup: Janus sent $(fact "$log" "f['janus_checks']['n']") connectivity checks of its own (ICE-CONTROLLED): full ICE"
  else
    bad "setup:$setup: Janus's connectivity checks: $(fact "$log" "f['janus_checks']")"
  fi
  got=$(fact "$log" "f['channels_opened_by_janus']")
  if [ "$got" = "[]" ]; then ok "setup:$setup: Janus opened no DataChannel of its own"; else bad "setup:$setup: Janus opened channels $got"; fi
  got=$(fact "$log" "f['text_back']")
  if [ "$got" = "Janus EchoTest here! You wrote: hello janus" ]; then ok "setup:$setup: text message answered: '$got'"; else bad "setup:$setup: text message answered: '$got'"; fi
  # RTP: at least 90 % of 150 packets back, Janus's SSRC (the answer's a=ssrc), payload unchanged
  got=$(fact "$log" "f['rtp_echo_payload_unchanged'] >= 135 and f['rtp_echo_ssrc'] == f['answer_ssrc'] and f['rtp_echo_ssrc'] != [f['rtp_sent_ssrc']]")
  if [ "$got" = True ]; then
    ok "setup:$setup: RTP echoed: $(fact "$log" "f['rtp_echo_payload_unchanged']") of 150 with Janus's SSRC $(fact "$log" "f['rtp_echo_ssrc']") (sent with $(fact "$log" "f['rtp_sent_ssrc']")), first (seq, ts) sent $(fact "$log" "f['rtp_first_sent']"), echoed $(fact "$log" "f['rtp_first_echoed']")"
  else
    bad "setup:$setup: RTP: $(fact "$log" "{k: f[k] for k in ('rtp_sent_ssrc', 'rtp_echo_ssrc', 'answer_ssrc', 'rtp_echo_payload_unchanged')}")"
  fi
  got=$(fact "$log" "(f['admin']['session_listed'], len(f['admin']['handles']), f['admin']['ice_state'], f['admin']['dtls_role'])")
  if [ "$got" = "(True, 1, 'ready', '$want')" ]; then ok "setup:$setup: admin API while up: session listed, 1 handle, ICE ready, DTLS $want"; else bad "setup:$setup: admin API while up: $got"; fi
done

sleep 0.5
got=$(adm list_sessions | python3 -c "import json,sys; print(len(json.load(sys.stdin)['sessions']))" 2>/dev/null)
if [ "$got" = 0 ]; then ok "admin API after the clients' destroy: no session"; else bad "admin API after the clients' destroy: '$got' sessions"; fi
created=$(grep -c 'Creating new handle' "$jdir/janus.log")
freed=$(grep -c 'Handle and related resources freed' "$jdir/janus.log")
if [ "$created" = 2 ] && [ "$freed" = 2 ]; then ok "Janus's log: 2 handles created, 2 freed"; else bad "Janus's log: $created handles created, $freed freed"; fi

"$lab" down --netns "$ns" --dir "$jdir" >/dev/null
if [ -d "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then bad "janus-lab down: janus (pid $pid) still runs"; else ok "janus-lab down: janus (pid $pid) is gone"; fi
if out=$("$lab" down --netns "$ns" --dir "$jdir"); then ok "janus-lab down again: $out"; else bad "janus-lab down again failed"; fi
if "$lab" status --netns "$ns" --dir "$jdir" >/dev/null; then bad "janus-lab status says up after down"; else ok "janus-lab status after down: not running"; fi
"$extport" down --netns "$ns" >/dev/null
if ip netns list | grep -qw "$ns"; then bad "tools/external-port down left namespace $ns"; else ok "the veth pair and its namespace are removed"; fi
summary
[ "$failed" -eq 0 ]
