#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Where the cycles of one message go: runs one workload on one core at a
# fixed rate, samples the dataplane with perf (cpu-clock, 3 s in the
# middle of the run), and sums the samples by area of the code:
#   record    the DTLS record layer and its AEAD (aes_gcm*, dtls_record_*, ChaCha20)
#   sctp      the SCTP association and DataChannels (sctp_*)
#   frame     rx/tx bursts, parsing, flow lookup, headers, mbufs, rings
#   conn      the peer connections around the engines (pc_*, dp_conns_*, wheel, ICE polls)
#   copy      memcpy/memmove wherever called
#   generate  picking and building agent messages, pacing
#   metrics   histograms and counters
#   idle      the worker loop's own passes (polling when there is nothing to do)
#   other     the rest
# and prints each area's share and its ns per delivered message (the
# samples' share of the busy core time per delivered message).
#   bench/dataplane/cycles.sh [BUILD_DIR] [WORKLOAD] [RATE]
#   WORKLOAD: dc1200 (1,200-byte DataChannel messages to neighbours, the
#   default), dc64 (64-byte routed), udp (64-byte plain UDP to neighbours)
# Needs perf (Debian: linux-perf) and root or perf_event_paranoid <= 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
work=${2:-dc1200}
rate=${3:-600000}
bin=$build/tools/swarmgen
command -v perf >/dev/null || { echo "cycles.sh: perf is not installed (Debian: apt-get install linux-perf)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
case $work in
  dc1200) traffic=(--traffic "dc:size=1200,pattern=neighbors,rate=$rate") ;;
  dc64) traffic=(--traffic "dc:size=64,pattern=routed,rate=$rate") ;;
  udp) traffic=(--traffic udp --pattern neighbors --size 64 --rate "$rate") ;;
  *) echo "cycles.sh: workload '$work' is not dc1200, dc64 or udp" >&2; exit 2 ;;
esac
"$bin" run --quiet --agents 400 --topology kmesh:k=8 --cores 0 --duration 10s "${traffic[@]}" \
  --report "$out/r.json" > /dev/null 2>&1 &
run=$!
pid=
for _ in $(seq 200); do
  pid=$(pgrep -f "swarmgen-dp.*" -P "$run" | head -1 || true)
  [ -n "$pid" ] && break
  sleep 0.1
done
[ -n "$pid" ] || { echo "cycles.sh: the dataplane did not start" >&2; wait "$run"; exit 1; }
sleep 6 # connect phase and the start of the load
perf record -q -F 4999 -p "$pid" -o "$out/perf.data" -- sleep 3 > /dev/null 2>&1
wait "$run" || true
perf report -q -i "$out/perf.data" --no-children --sort symbol --percent-limit 0 2>/dev/null > "$out/syms"
python3 - "$out/syms" "$out/r.json" "$work" "$rate" <<'PY'
import json, re, sys
syms, rep, work, rate = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
areas = [
    ("record", r"aes_gcm|dtls_record|chacha|poly1305|crypto_aead"),
    ("sctp", r"^sctp_|^put_data|^acked$|^flight_|^deliver$"),
    ("copy", r"memmove|memcpy|memset"),
    ("frame", r"dp_process_rx|dp_send_frame|flush_tx|flush_out|tx_push|parse_frame|rte_|eth_ring|ring_|mempool|pktmbuf|dp_to_owner|bulk|hash"),
    ("generate", r"generate|dp_pick|traffic_pace|send_msg|handoff"),
    ("metrics", r"met_hist|ri_metrics|publish"),
    ("conn", r"pc_|dp_conns_|ep_|wheel|ice_|conn_|touch|fold_|stun_|flush_dirty|on_message"),
    ("idle", r"dp_worker_loop"),
]
tot = {a: 0.0 for a, _ in areas}
tot["other"] = 0.0
for line in open(syms):
    m = re.match(r"\s*([\d.]+)%\s+\[[.k]\]\s+(\S+)", line)
    if not m:
        continue
    pct, name = float(m.group(1)), m.group(2)
    for a, rx in areas:
        if re.search(rx, name):
            tot[a] += pct
            break
    else:
        tot["other"] += pct
r = json.load(open(rep))
d = r["duration_s"] or 1e-9
delivered = r["messages"]["delivered"] / d
busy = r["cores"][0]["busy_pct"] / 100
ns_msg = 1e9 / max(delivered, 1)  # core time per delivered message, idle included
print(f"workload {work} at {rate}/s on one core: {delivered:.0f} delivered msg/s, "
      f"delivery {r['messages']['delivery_rate']:.6f}, {ns_msg:.0f} ns of the core per message")
print(f"{'area':10s} {'share':>7s} {'ns/msg':>8s}")
for a in [x for x, _ in areas] + ["other"]:
    print(f"{a:10s} {tot[a]:6.1f}% {tot[a] / 100 * ns_msg:8.0f}")
PY
