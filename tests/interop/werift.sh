#!/bin/bash
# SPDX-License-Identifier: MIT
# Interop with werift (a TypeScript WebRTC stack from the npm registry):
# werift offers, our peer connection (pc_udp_peer: webrtc/pc on a UDP socket on
# 127.0.0.1) answers, werift opens a DataChannel and sends 1,000 messages of
# mixed sizes (up to 64 KiB), checking every echo byte for byte and in
# order; once with us as DTLS server (answer setup:passive), once as client
# (setup:active). Our end offers and accepts DTLS 1.3 and 1.2 as an agent
# does by default; werift (the registry's newest has no DTLS 1.3) speaks
# 1.2, and both roles must fall back to it. werift is installed once into
# a cache directory.
#   werift.sh PC_UDP_PEER SOURCE_DIR
# Exit 77 (skipped) without node/npm unless SWARMGEN_REQUIRE_WERIFT is set.
set -uo pipefail
peer=$1
src=$2
name=werift
require=SWARMGEN_REQUIRE_WERIFT
. "$src/interop_lib.sh"

werift_install werift_offerer.mjs

dir=$(mktemp -d /tmp/swarmgen-werift-XXXXXX)
trap 'rm -rf "$dir"; pkill -P $$ 2>/dev/null || true' EXIT
passed=0
failed=0
port=$((40000 + $$ % 20000))
for setup in passive active; do
  rm -f "$dir/offer.sdp" "$dir/answer.sdp"
  timeout 120 node "$werift_cache/werift_offerer.mjs" "$dir/offer.sdp" "$dir/answer.sdp" 1000 > "$dir/werift.log" 2>&1 &
  npid=$!
  timeout 120 "$peer" "$dir/offer.sdp" "$dir/answer.sdp" "$port" 1000 "$setup" > "$dir/peer.log" 2>&1
  prc=$?
  wait "$npid"
  nrc=$?
  if [ "$prc" -eq 0 ] && [ "$nrc" -eq 0 ] && ! grep -q ' up in .*, DTLS 1.2$' "$dir/peer.log"; then
    failed=$((failed + 1))
    echo "werift, our answer setup:$setup: FAILED: not DTLS 1.2 ($(grep ' up in ' "$dir/peer.log"))"
  elif [ "$prc" -eq 0 ] && [ "$nrc" -eq 0 ]; then
    passed=$((passed + 1))
    echo "werift, our answer setup:$setup: $(cat "$dir/werift.log") | $(grep ' up in ' "$dir/peer.log")"
  else
    failed=$((failed + 1))
    echo "werift, our answer setup:$setup: FAILED (werift $nrc, ours $prc)"
    sed 's/^/  werift: /' "$dir/werift.log"
    sed 's/^/  ours: /' "$dir/peer.log"
  fi
  port=$((port + 1))
done
echo "[====] werift interop: Tested: 2 | Passing: $passed | Failing: $failed"
[ "$failed" -eq 0 ]
